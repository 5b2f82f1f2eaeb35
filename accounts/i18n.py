"""English names for the lists an administrator edits.

Tiers, causes, file categories, programs, claim categories and income sources
are data, not messages: gettext cannot translate them. Each carries an
optional `name_en` the administrator fills in; in English mode the product
shows it, and falls back to the Chinese name where it is blank.
"""

from collections.abc import Iterable
from typing import Generic, TypeVar

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


T = TypeVar("T", bound=EnglishNamed)


class NameIndex(Generic[T]):
    """Entries of an admin-edited list found by the name a sheet gives:
    the Chinese `name` as written, or the English `name_en` in any case
    (a sheet written in English mode, or typed by hand). Where two entries
    share an English name, an active one is found before a retired one,
    then the first in the list's order."""

    def __init__(self, entries: Iterable[T]) -> None:
        self.by_name: dict[str, T] = {}
        self.by_english: dict[str, T] = {}
        self.most_words = 1  # the most blank-separated words in any name
        for entry in entries:
            self.by_name.setdefault(entry.name, entry)
            self.most_words = max(
                self.most_words, len(entry.name.split()), len(entry.name_en.split())
            )
            key = english_key(entry.name_en)
            if key and (
                key not in self.by_english
                or (entry_is_active(entry) and not entry_is_active(self.by_english[key]))
            ):
                self.by_english[key] = entry

    def get(self, text: str) -> T | None:
        found = self.by_name.get(text)
        if found is None:
            found = self.by_english.get(english_key(text))
        return found

    def values(self) -> Iterable[T]:
        return self.by_name.values()


def english_key(text: str | None) -> str:
    """An English name as matched: case and surrounding blanks ignored."""
    return " ".join((text or "").split()).casefold()


def entry_is_active(entry: object) -> bool:
    return bool(getattr(entry, "is_active", True))
