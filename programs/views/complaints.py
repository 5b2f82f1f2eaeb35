"""Complaints (投诉处理): recorded from the household, notice, application or
payment they are about; listed for their owner, the chair and per union when
overdue; answered and closed on the complaint's page. Every page finds the
complaint through `selectors.get_complaint_for`, which hides a complaint
about a named cadre from the cadre and from the union's other staff."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.masking import mask_name, mask_phone
from accounts.models import User
from accounts.paging import paginate
from accounts.scoping import can_unmask, has_action, require_action, units_for
from cases import clock

from ..forms.complaints import (
    AssignForm,
    CloseForm,
    ComplaintFilterForm,
    ComplaintForm,
    PeriodForm,
    ReopenForm,
    ReplyForm,
)
from ..models import Complaint, ComplaintStatus
from ..selectors import complaints as selectors
from ..services import complaints as services
from .applications import GET_POST, _user, attach_errors
from .applications import refused as refused_with

VIEW = selectors.VIEW
PAGE_SIZE = 25


def refused(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    back = (reverse("programs:complaint_list"), _("返回投诉处理"))
    return refused_with(request, exc, back=back)


# -- lists --------------------------------------------------------------------------


@login_required
@require_GET
def complaint_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, VIEW)
    form = ComplaintFilterForm(
        request.GET or None, units=units_for(user, VIEW).filter(is_active=True)
    )
    view = selectors.OPEN
    if form.is_bound and not form.is_valid():
        complaints = Complaint.objects.none()
    else:
        data = form.cleaned_data if form.is_bound else {}
        view = data.get("view") or (
            selectors.MINE if has_action(user, "case.decide") else selectors.OPEN
        )
        flt = selectors.ComplaintFilter(
            view=view,
            unit_id=data["unit"].pk if data.get("unit") else None,
            category=data.get("category") or "",
        )
        complaints = selectors.complaint_list(user, flt)
    page = paginate(request, complaints, PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "rows": page.object_list,
        "view": view,
        "today": clock.today(),
        "overdue_units": selectors.overdue_by_unit(user) if view == selectors.OVERDUE else [],
        "views": form.fields["view"].choices,  # type: ignore[attr-defined]
    }
    return render(request, "programs/complaints/complaint_list.html", context)


# -- recording ----------------------------------------------------------------------


def _create(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = _user(request)
    target = selectors.get_target_for(user, kind, pk)
    unit = services.target_unit(target)
    form = ComplaintForm(request.POST or None, cadres=services.cadres_of(unit))
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_record(
                actor=user, target=target, **form.service_kwargs()
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            text = _("已受理投诉（编号 %(n)s），办结期限 %(d)s。") % {
                "n": complaint.pk,
                "d": complaint.deadline.isoformat(),
            }
            if not services.may_see(user, complaint):
                # About a cadre of this union: it now goes to the union above.
                messages.success(request, text + _("该投诉针对具体干部，已转上级工会主席办理。"))
                return redirect("programs:complaint_list")
            messages.success(request, text)
            return redirect("programs:complaint_detail", pk=complaint.pk)
    context = {"form": form, "target": target, "about": selectors.describe(target), "unit": unit}
    return render(request, "programs/complaints/complaint_form.html", context)


def _create_view(kind: str) -> Any:
    """The recording page reached from a household, notice, application or
    payment page: one view per kind of thing, so each URL names its id."""

    @login_required
    @GET_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _create(request, kind, pk)

    view.__name__ = f"complaint_create_{kind}"
    return view


# -- one complaint ------------------------------------------------------------------


def _owners(complaint: Complaint) -> Any:
    return services.owners_for(complaint)


def _detail(request: HttpRequest, complaint: Complaint, **forms: Form) -> HttpResponse:
    user = _user(request)
    may_assign = services.may_assign(user, complaint)
    may_handle = services.may_handle(user, complaint)
    open_ = complaint.status != ComplaintStatus.CLOSED
    unmasked = can_unmask(user, complaint.unit)
    target = selectors.target_of(complaint)
    context = {
        "complaint": complaint,
        "about": selectors.describe(target),
        "target": target,
        "complainant_name": (
            complaint.complainant_name if unmasked else mask_name(complaint.complainant_name)
        ),
        "complainant_phone": (
            complaint.complainant_phone if unmasked else mask_phone(complaint.complainant_phone)
        ),
        "history": selectors.history_of(complaint),
        "today": clock.today(),
        "overdue": open_ and complaint.deadline < clock.today(),
        "assign_form": forms.get("assign_form")
        or (AssignForm(owners=_owners(complaint)) if may_assign and open_ else None),
        "reply_form": forms.get("reply_form") or (ReplyForm() if may_handle and open_ else None),
        "close_form": forms.get("close_form")
        or (CloseForm(initial={"reply": complaint.reply}) if may_handle and open_ else None),
        "reopen_form": forms.get("reopen_form")
        or (ReopenForm() if may_assign and not open_ else None),
    }
    return render(request, "programs/complaints/complaint_detail.html", context)


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.get_complaint_for(_user(request), pk))


def _step(
    request: HttpRequest, pk: int, form: Form, name: str, call: Any, done: str
) -> HttpResponse:
    """A POST on one complaint: the service decides who may; a refusal is 403."""
    user = _user(request)
    complaint = selectors.get_complaint_for(user, pk)
    if isinstance(form, AssignForm):
        form.fields["owner"].queryset = _owners(complaint)  # type: ignore[attr-defined]
    if form.is_valid():
        try:
            call(actor=user, complaint=complaint, **form.cleaned_data)
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("programs:complaint_detail", pk=complaint.pk)
    elif not (services.may_assign(user, complaint) or services.may_handle(user, complaint)):
        return refused(request, PermissionDenied(_("只有承办人或主席可以处理该投诉。")))
    return _detail(request, complaint, **{name: form})


@login_required
@require_POST
def complaint_assign(request: HttpRequest, pk: int) -> HttpResponse:
    form = AssignForm(request.POST, owners=User.objects.none())
    return _step(request, pk, form, "assign_form", services.complaint_assign, _("已指定承办人。"))


@login_required
@require_POST
def complaint_reply(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReplyForm(request.POST)
    return _step(request, pk, form, "reply_form", services.complaint_reply, _("已记录答复。"))


@login_required
@require_POST
def complaint_close(request: HttpRequest, pk: int) -> HttpResponse:
    form = CloseForm(request.POST)
    return _step(request, pk, form, "close_form", services.complaint_close, _("投诉已办结。"))


@login_required
@require_POST
def complaint_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReopenForm(request.POST)
    return _step(request, pk, form, "reopen_form", services.complaint_reopen, _("已重新办理。"))


# -- statistics ---------------------------------------------------------------------


@login_required
@require_GET
def complaint_statistics(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, VIEW)
    form = PeriodForm(request.GET or None, units=units_for(user, VIEW).filter(is_active=True))
    today = clock.today()
    start, end, unit = today.replace(month=1, day=1), today, None
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("date_from") or start
        end = form.cleaned_data.get("date_to") or end
        unit = form.cleaned_data.get("unit")
    stats = (
        selectors.complaint_statistics(user, start, end, unit)
        if not form.is_bound or form.is_valid()
        else None
    )
    context = {
        "form": form,
        "stats": stats,
        "date_from_text": start.isoformat(),
        "date_to_text": end.isoformat(),
        "unit_query": f"&unit={unit.pk}" if unit is not None else "",
    }
    return render(request, "programs/complaints/statistics.html", context)


urlpatterns: list[URLPattern] = [
    path("complaints/", complaint_list, name="complaint_list"),
    path("complaints/statistics/", complaint_statistics, name="complaint_statistics"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/assign/", complaint_assign, name="complaint_assign"),
    path("complaints/<int:pk>/reply/", complaint_reply, name="complaint_reply"),
    path("complaints/<int:pk>/close/", complaint_close, name="complaint_close"),
    path("complaints/<int:pk>/reopen/", complaint_reopen, name="complaint_reopen"),
    *(
        path(f"{prefix}/<int:pk>/complain/", _create_view(kind), name=f"complaint_create_{kind}")
        for prefix, kind in (
            ("households", "household"),
            ("notices", "notice"),
            ("applications", "application"),
            ("payments", "payment"),
        )
    ),
]
