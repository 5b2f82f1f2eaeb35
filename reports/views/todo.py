"""待办: one page per person with what waits for each role she holds, and the
count behind the menu's badge (loaded by htmx when the menu opens, so other
pages pay nothing for it)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from accounts.scoping import memberships

from ..todo import todo_for


def _user(request: HttpRequest) -> Any:
    user = request.user
    # A person with no role anywhere has nothing to do here.
    if not any(m.unit.is_active for m in memberships(user)):  # type: ignore[arg-type]
        raise PermissionDenied
    return user


@login_required
@require_GET
def todo(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/todo/page.html", {"todo": todo_for(_user(request))})


@login_required
@require_GET
def todo_count(request: HttpRequest) -> HttpResponse:
    total = todo_for(_user(request)).total
    return render(request, "reports/todo/_count.html", {"total": total})


urlpatterns: list[URLPattern] = [
    path("todo/", todo, name="todo"),
    path("todo/count/", todo_count, name="todo_count"),
]
