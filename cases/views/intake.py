"""Intake steps (一进二看三算四议五评六公示七确认), notices and objections."""

from typing import Any

from django.urls import URLPattern

from ..models import Household

urlpatterns: list[URLPattern] = []


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's intake panel shows (a fixed number of queries)."""
    return {}
