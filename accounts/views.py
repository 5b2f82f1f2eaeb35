from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

from .forms import AuditFilterForm, LoginForm
from .scoping import has_action, require_action, units_for
from .selectors import audit_events


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if has_action(user, "household.view"):
        return redirect("cases:household_list")
    if has_action(user, "audit.view"):
        return redirect("accounts:audit_list")
    return render(request, "accounts/no_role.html")


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_action(user, "audit.view")
    form = AuditFilterForm(request.GET or None, units=units_for(user, "audit.view"))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_events(user, filters)
    if form.is_bound and form.errors:
        events = events.none()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
