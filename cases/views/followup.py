"""Helpers (结对帮扶), follow-up visits, my households and the overdue list."""

from typing import Any

from django.urls import URLPattern

from ..models import Household

urlpatterns: list[URLPattern] = []


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's followup panel shows (a fixed number of queries)."""
    return {}
