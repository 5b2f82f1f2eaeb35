"""Unsaved rows built fast, and one generated household's rows."""

import functools
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models

from cases.models import Household, Member

M = TypeVar("M", bound=models.Model)


@functools.cache
def _columns(model: type[models.Model]) -> list[tuple[str, "models.Field[Any, Any]"]]:
    return [(f.attname, f) for f in model._meta.concrete_fields]


def build(model: type[M], **values: Any) -> M:
    """An unsaved instance from attribute names (`unit_id`, not `unit`).

    Passes every column positionally, Django's fast path when loading rows:
    keyword construction costs about as much as the insert itself at this
    volume. Columns not given get their field default, as with keywords.
    """
    args = [
        values.pop(attname) if attname in values else field.get_default()
        for attname, field in _columns(model)
    ]
    if values:
        raise TypeError(f"{model.__name__} has no columns {sorted(values)}")
    return model(*args)


@dataclass
class HouseholdRows:
    """One generated household: the unsaved file, its members and the ids of
    its secondary causes."""

    household: Household
    members: list[Member] = field(default_factory=list)
    secondary_cause_ids: list[int] = field(default_factory=list)
