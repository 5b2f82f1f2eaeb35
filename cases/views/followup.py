"""Helpers (结对帮扶), follow-up visits, my households and the overdue list."""

import uuid
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

from accounts.paging import paginate
from accounts.scoping import can_unmask, covers, require_action
from accounts.web import attach_errors as _attach_errors

from .. import clock
from ..forms.followup import (
    HelperAssignForm,
    HelperEndForm,
    HelperPersonForm,
    OverdueFilterForm,
    RosterFilterForm,
    VisitForm,
)
from ..models import Helper, Household, HouseholdStatus
from ..selectors import followup as selectors
from ..selectors.households import get_household_for
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
                person=data["person"],
                role=data["role"],
                is_first=data["is_first"],
                start_on=data["start_on"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将“%(u)s”结对为“%(h)s”的帮扶人。") % {"u": helper.person, "h": household.name},
            )
            return redirect(_panel_url(household.pk))
    limit, extra = followup.helper_capacity()
    context = {
        "form": form,
        "household": household,
        "is_filed": household.status == HouseholdStatus.FILED,
        "capacity_limit": limit,
        "capacity_extra": extra,
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
            messages.success(request, _("已结束“%(u)s”的帮扶。") % {"u": helper.person})
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
    form = VisitForm(
        request.POST or None,
        request.FILES or None,
        household=household,
        on_behalf=covers(user, "household.edit", household.unit),
    )
    # The phone keeps a copy of the visit under this key until it sees the
    # visit on the server, in case the answer is lost on a weak signal.
    client_key = _client_key(request.POST.get("client_key")) if request.method == "POST" else None
    if request.method == "POST" and form.is_valid():
        try:
            followup.visit_log(
                actor=user,
                household=household,
                data=form.service_data(),
                photos=form.cleaned_data["photos"],
                on_behalf_of=form.cleaned_data.get("on_behalf_of"),
                client_key=client_key,
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
        "client_key": client_key or "",
    }
    return render(request, "cases/followup/visit_form.html", context)


def _client_key(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


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


def _big_page(request: HttpRequest, queryset: Any) -> Any:
    """Lists that grow with the households: a capped count, keyset links."""
    return paginate(request, queryset, settings.HOUSEHOLD_PAGE_SIZE, noun="户")


@login_required
@require_GET
def my_households(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.view")
    months = followup.visit_interval()
    page = _big_page(request, selectors.my_households(user))
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
    page = _big_page(request, helpers)
    rows = selectors.due_rows(page.object_list, months, today)
    context = {"form": form, "page": page, "rows": rows, "interval": months}
    return render(request, "cases/followup/overdue_visits.html", context)


# -- the helper roster (帮扶人名册) ------------------------------------------------


@login_required
@require_GET
def roster_home(request: HttpRequest) -> HttpResponse:
    unit = selectors.roster_home_unit(_user(request))
    return redirect("cases:helper_roster", pk=unit.pk)


@login_required
@require_GET
def helper_roster(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = selectors.get_roster_unit_for(user, pk)
    form = RosterFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        people: Any = []
    else:
        data = form.cleaned_data if form.is_bound else {}
        people = selectors.roster_list(unit, data.get("q") or "", data.get("show") or "")
    page = _page(request, people)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "unit": unit,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "child_units": unit.children.filter(is_active=True).order_by("code")[:50],
    }
    return render(request, "cases/followup/roster.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def helper_person_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = selectors.get_roster_unit_for(user, pk)
    form = HelperPersonForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            person = followup.helper_person_create(actor=user, unit=unit, data=form.service_data())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已将“%(n)s”加入帮扶人名册。") % {"n": person.name})
            return redirect("cases:helper_roster", pk=unit.pk)
    context = {"form": form, "unit": unit, "person": None}
    return render(request, "cases/followup/roster_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def helper_person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = selectors.get_helper_person_for(user, pk)
    form = HelperPersonForm(request.POST or None, instance=person, unit=person.unit)
    if request.method == "POST" and form.is_valid():
        try:
            followup.helper_person_update(actor=user, person=person, data=form.service_data())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("名册已保存。"))
            return redirect("cases:helper_roster", pk=person.unit_id)
    context = {"form": form, "unit": person.unit, "person": person}
    return render(request, "cases/followup/roster_form.html", context)


@login_required
@require_POST
def helper_person_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Take someone off the roster (active=0) or put them back (active=1)."""
    user = _user(request)
    person = selectors.get_helper_person_for(user, pk)
    active = request.POST.get("active") == "1"
    try:
        followup.helper_person_set_active(actor=user, person=person, active=active)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            (_("已将“%(n)s”恢复到名册。") if active else _("已将“%(n)s”移出名册。"))
            % {"n": person.name},
        )
    return redirect("cases:helper_roster", pk=person.unit_id)


urlpatterns: list[URLPattern] = [
    path("helpers/", roster_home, name="roster_home"),
    path("units/<int:pk>/helpers/", helper_roster, name="helper_roster"),
    path("units/<int:pk>/helpers/new/", helper_person_create, name="helper_person_create"),
    path("helper-people/<int:pk>/edit/", helper_person_edit, name="helper_person_edit"),
    path("helper-people/<int:pk>/active/", helper_person_active, name="helper_person_active"),
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
