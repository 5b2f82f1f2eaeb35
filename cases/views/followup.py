"""Helpers (结对帮扶), follow-up visits, my households and the overdue list."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import can_unmask, require_action
from accounts.web import attach_errors as _attach_errors

from .. import clock
from .. import followup_selectors as selectors
from ..followup_forms import HelperAssignForm, HelperEndForm, OverdueFilterForm, VisitForm
from ..models import Helper, Household, HouseholdStatus
from ..selectors import get_household_for
from ..services import followup
from ..uploads import private_file_response


def _user(request: HttpRequest) -> Any:
    return request.user


def _panel_url(household_pk: int) -> str:
    return reverse("cases:household_detail", args=[household_pk]) + "#followup"


@login_required
@require_http_methods(["GET", "POST"])
def helper_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    form = HelperAssignForm(request.POST or None, household=household)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            helper = followup.helper_assign(
                actor=user,
                household=household,
                user=data["user"],
                role=data["role"],
                is_first=data["is_first"],
                start_on=data["start_on"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将“%(u)s”结对为“%(h)s”的帮扶人。") % {"u": helper.user, "h": household.name},
            )
            return redirect(_panel_url(household.pk))
    context = {
        "form": form,
        "household": household,
        "is_filed": household.status == HouseholdStatus.FILED,
    }
    return render(request, "cases/followup/helper_form.html", context)


@login_required
@require_POST
def helper_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    helper = selectors.get_helper_for(user, pk)
    form = HelperEndForm(request.POST)
    if form.is_valid():
        try:
            followup.helper_end(
                actor=user,
                helper=helper,
                end_on=form.cleaned_data["end_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, _("结束帮扶：%(m)s") % {"m": message})
        else:
            messages.success(request, _("已结束“%(u)s”的帮扶。") % {"u": helper.user})
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}：{error}" if label else str(error))
    return redirect(_panel_url(helper.household_id))


@login_required
@require_http_methods(["GET", "POST"])
def visit_log(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = selectors.get_household_for_visit(user, pk)
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            followup.visit_log(
                actor=user,
                household=household,
                data=form.service_data(),
                photos=form.cleaned_data["photos"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("走访记录已保存。"))
            return redirect(_panel_url(household.pk))
    context = {
        "form": form,
        "household": household,
        "is_filed": household.status == HouseholdStatus.FILED,
        "photo_limit": settings.ATTACHMENT_MAX_BYTES,
    }
    return render(request, "cases/followup/visit_form.html", context)


@login_required
@require_GET
def visit_photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    photo = selectors.get_photo_for(user, pk)
    if not can_unmask(user, photo.visit.household.unit):
        # A photo of a family's home is as personal as an ID card scan.
        return HttpResponse(_("您无权查看走访照片。"), status=403)
    followup.visit_photo_open(actor=user, photo=photo)
    return private_file_response(photo.file, photo.content_type)


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, settings.HOUSEHOLD_PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@require_GET
def my_households(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.view")
    months = followup.visit_interval()
    page = _page(request, selectors.my_households(user))
    rows = selectors.due_rows(page.object_list, months, clock.today())
    context = {"page": page, "rows": rows, "interval": months}
    return render(request, "cases/followup/my_households.html", context)


@login_required
@require_GET
def overdue_visits(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.view")
    form = OverdueFilterForm(request.GET or None, units=selectors.filter_units(user))
    months = followup.visit_interval()
    today = clock.today()
    if form.is_bound and not form.is_valid():
        helpers: Any = Helper.objects.none()
    else:
        unit = form.cleaned_data.get("unit") if form.is_bound else None
        cutoff = followup.visit_cutoff(today, months)
        helpers = selectors.overdue_helpers(user, unit, cutoff)
    page = _page(request, helpers)
    rows = selectors.due_rows(page.object_list, months, today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "interval": months,
        "query": query.urlencode(),
    }
    return render(request, "cases/followup/overdue_visits.html", context)


urlpatterns: list[URLPattern] = [
    path("households/<int:pk>/helpers/new/", helper_assign, name="helper_assign"),
    path("helpers/<int:pk>/end/", helper_end, name="helper_end"),
    path("households/<int:pk>/visits/new/", visit_log, name="visit_log"),
    path("visit-photos/<int:pk>/", visit_photo, name="visit_photo"),
    path("my-households/", my_households, name="my_households"),
    path("visits/overdue/", overdue_visits, name="overdue_visits"),
]


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's followup panel shows (a fixed number of queries)."""
    context = selectors.panel(user, household)
    for row in context.get("followup_helpers", []):
        # One form per helper, with ids of its own so each label finds its input.
        row.end_form = HelperEndForm(auto_id=f"id_end_{row.helper.pk}_%s")
    return context
