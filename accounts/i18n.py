"""English names for the lists an administrator edits.

Tiers, causes, file categories, programs, claim categories and income sources
are data, not messages: gettext cannot translate them. Each carries an
optional `name_en` the administrator fills in; in English mode the product
shows it, and falls back to the Chinese name where it is blank.
"""

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


def in_english() -> bool:
    return (translation.get_language() or "").split("-")[0] == "en"


def pick_name(name: str, name_en: str | None) -> str:
    """The name to show in the active language: `name_en` in English mode
    when it is set, the (Chinese) name otherwise."""
    if name_en and in_english():
        return name_en
    return name


def name_en_field(max_length: int = 60) -> models.CharField:
    return models.CharField(
        _("英文名称"),
        max_length=max_length,
        blank=True,
        help_text=_("界面切换为英文时显示；留空则显示中文名称。"),
    )


class EnglishNamed:
    """For a model with `name` and `name_en`: `display_name`, which its
    str() returns too, so form choices, admin lists and `{{ obj }}` follow
    the active language. Code that stores or matches a name uses `name`."""

    name: str
    name_en: str

    @property
    def display_name(self) -> str:
        return pick_name(self.name, self.name_en)
