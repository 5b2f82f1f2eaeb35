"""Annual review, monthly income and exits, re-filing, non-cash help."""

from typing import Any

from django.urls import URLPattern

from ..models import Household

urlpatterns: list[URLPattern] = []


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's lifecycle panel shows (a fixed number of queries)."""
    return {}
