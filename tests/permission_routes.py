"""The shapes of the permission walk's tables (tests/test_permissions.py).

Each area of the app keeps its own table of id URLs in tests/<app>/routes_*.py
and the walk merges them, so adding a URL without saying how to exercise it
fails the suite.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from cases.models import Household


@dataclass
class Route:
    """How to exercise one id URL."""

    # What the pk names: "household", "attachment", or a builder that makes the
    # object from a household of the right persona's unit.
    target: str | Callable[[Household], Model]
    methods: tuple[str, ...]  # the methods the view answers
    refused: tuple[str, ...]  # personas without the role: 403
    # What the allowed request visibly did, checked after it ran.
    allowed: Callable[[Any, Household, Any], None]
    payload: Callable[[Household], dict[str, Any]] | None = None
    user: str = "alice"  # the persona who may do it
    outsider: str = "bob"  # same role, another county: 404
    # Bring the household to the state the action needs (status, notice...).
    prepare: Callable[[Household], None] | None = None


@dataclass
class Page:
    methods: tuple[str, ...]
    allowed: tuple[str, ...]  # personas let in
    refused: tuple[str, ...]  # personas that get 403
    login_required: bool = True
