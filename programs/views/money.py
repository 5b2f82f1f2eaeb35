"""The household's money view (帮扶资金): applications, money received,
caps used this year, loans and non-cash help. The household page loads it
as a fragment with htmx; opened directly it is a page of its own."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from ..selectors import money as selectors


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def household_money(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = selectors.get_household_for(user, pk)
    view = selectors.household_money(user, household)
    fragment = bool(getattr(request, "htmx", False))
    template = "programs/money/_panel.html" if fragment else "programs/money/household.html"
    response = render(request, template, {"household": household, "money": view})
    # The same URL answers with a fragment or a page: caches must keep both.
    patch_vary_headers(response, ["HX-Request"])
    return response


urlpatterns: list[URLPattern] = [
    path("households/<int:pk>/money/", household_money, name="household_money"),
]
