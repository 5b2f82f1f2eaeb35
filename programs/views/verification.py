"""回访核实 screens: the samples with their progress, the households to
call or visit, recording what a household said, the cases it opened, the
per-union rates, the union's share and the monthly draw.

Who may verify which payment is the service's to decide; these views show
its reasons."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.masking import mask_address, mask_phone
from accounts.paging import list_query, paginate
from accounts.scoping import Unmasker, can_unmask, has_action, require_action, units_for
from accounts.web import attach_errors
from accounts.web import query_without_page as _query
from cases.forms.fields import PeriodForm

from ..forms.verification import CaseCloseForm, MonthDrawForm, RecordForm, ShareForm
from ..models import CaseStatus, Outcome
from ..selectors import verification as selectors
from ..services import verification as services
from .applications import refused

PAGE_SIZE = 25
RATES_PAGE_SIZE = 100
GET_POST = require_http_methods(["GET", "POST"])
VIEW = selectors.VIEW
RECORD = selectors.RECORD
SETTLE = selectors.SETTLE
CONFIGURE = selectors.CONFIGURE


def _user(request: HttpRequest) -> Any:
    return request.user


def _names(user: Any, rows: Any, get: Any) -> list[tuple[Any, str]]:
    """Each row with its household's name as this person may see it."""
    unmask = Unmasker(user)
    out = []
    for row in rows:
        household = get(row)
        out.append((row, unmask.name(household.name, household.unit.path)))
    return out


def _month_form(user: Any, data: Any = None) -> MonthDrawForm | None:
    if not has_action(user, SETTLE):
        return None
    units = units_for(user, SETTLE).filter(is_active=True).order_by("path")
    form = MonthDrawForm(data, units=units)
    if data is None:
        form.initial["month"] = f"{services.previous_month():%Y-%m}"
    return form


# -- Samples ----------------------------------------------------------------------------


@login_required
@require_GET
def sample_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    samples = selectors.sample_list(user)
    page = paginate(request, samples, PAGE_SIZE)
    context = {
        "page": page,
        "month_form": _month_form(user),
        "can_record": has_action(user, RECORD),
        "can_configure": has_action(user, CONFIGURE),
        "can_cases": has_action(user, selectors.CASES),
    }
    return render(request, "programs/verification/sample_list.html", context)


@login_required
@require_GET
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    sample = selectors.get_sample_for(user, pk)
    lines = Paginator(selectors.sample_lines(sample), 100).get_page(request.GET.get("page"))
    context = {
        "sample": sample,
        "page": lines,
        "rows": _names(user, lines.object_list, lambda line: line.household),
        "query": _query(request),
        "can_record": has_action(user, RECORD),
    }
    return render(request, "programs/verification/sample_detail.html", context)


@login_required
@require_POST
def month_draw(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, SETTLE)
    form = _month_form(user, request.POST)
    assert form is not None
    if form.is_valid():
        unit, month = form.cleaned_data["unit"], form.cleaned_data["month"]
        try:
            sample, drawn = services.sample_draw_month(actor=user, unit=unit, month=month)
        except ValidationError as exc:
            attach_errors(form, exc)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            label = f"{month:%Y-%m}"
            if sample is None:
                messages.info(
                    request,
                    _("%(u)s %(m)s 没有单笔发放，无需抽样。") % {"u": unit.name, "m": label},
                )
                return redirect("programs:verification_samples")
            if drawn:
                messages.success(
                    request,
                    _("已抽取 %(u)s %(m)s 单笔发放 %(k)s 户（共 %(n)s 笔）。")
                    % {"u": unit.name, "m": label, "k": sample.size, "n": len(sample.population)},
                )
            else:
                messages.info(
                    request,
                    _("%(u)s %(m)s 已经抽过样，以下是当时的结果。") % {"u": unit.name, "m": label},
                )
            return redirect("programs:verification_sample", pk=sample.pk)
    user_samples = selectors.sample_list(user)
    page = paginate(request, user_samples, PAGE_SIZE)
    context = {
        "page": page,
        "month_form": form,
        "can_record": has_action(user, RECORD),
        "can_configure": has_action(user, CONFIGURE),
        "can_cases": has_action(user, selectors.CASES),
    }
    return render(request, "programs/verification/sample_list.html", context, status=200)


# -- Lines ------------------------------------------------------------------------------


@login_required
@require_GET
def todo(request: HttpRequest) -> HttpResponse:
    """待回访: the households drawn and not yet verified, in my unions."""
    user = _user(request)
    mine = request.GET.get("view") == "mine"
    page = paginate(request, selectors.open_lines(user, mine=mine), PAGE_SIZE)
    context = {
        "page": page,
        "rows": _names(user, page.object_list, lambda line: line.household),
        "mine": mine,
        "query": list_query(request),
    }
    return render(request, "programs/verification/todo.html", context)


def _line_context(user: Any, line: Any, form: RecordForm | None) -> dict[str, Any]:
    household = line.household
    seen = can_unmask(user, household.unit)
    blocked = ""
    if not line.outcome:
        try:
            services.check_verifier(user, line)
        except PermissionDenied as exc:
            blocked = str(exc)
    return {
        "line": line,
        "payment": line.payment,
        "household": household,
        "name": Unmasker(user).name(household.name, household.unit.path),
        "phone": household.phone if seen else mask_phone(household.phone),
        "address": household.address if seen else mask_address(household.address),
        "form": form,
        "blocked": blocked,
        "taken_by_other": line.verifier_id is not None and line.verifier_id != user.pk,
        "partial": Outcome.PARTIAL,
    }


@login_required
@GET_POST
def line_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    line = selectors.get_line_for(user, pk)
    form = RecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.verification_record(
                actor=user,
                line=line,
                outcome=data["outcome"],
                channel=data["channel"],
                note=data["note"],
                amount_received=data["amount_received"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            line = selectors.get_line_for(user, pk)
            if line.outcome == Outcome.FULL:
                messages.success(
                    request, _("已登记：%(n)s 全额收到。") % {"n": line.household.name}
                )
            else:
                messages.warning(
                    request,
                    _("已登记：%(n)s %(o)s，已转 %(u)s 主席处理。")
                    % {
                        "n": line.household.name,
                        "o": line.get_outcome_display(),
                        "u": line.case.unit.name,
                    },
                )
            return redirect("programs:verification_sample", pk=line.sample_id)
    return render(request, "programs/verification/line.html", _line_context(user, line, form))


@login_required
@require_POST
def line_take(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    line = selectors.get_line_for(user, pk)
    try:
        services.verification_line_take(actor=user, line=line)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        return refused(request, exc)
    else:
        messages.success(
            request, _("已领取：%(n)s，请电话或入户核实。") % {"n": line.household.name}
        )
    return redirect("programs:verification_line", pk=line.pk)


# -- Cases ------------------------------------------------------------------------------


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = request.GET.get("status", CaseStatus.OPEN)
    if status not in (*CaseStatus.values, "all"):
        status = CaseStatus.OPEN
    cases = selectors.case_list(user, status="" if status == "all" else status)
    page = paginate(request, cases, PAGE_SIZE)
    context = {
        "page": page,
        "rows": _names(user, page.object_list, lambda case: case.line.household),
        "status": status,
        "statuses": [*CaseStatus.choices, ("all", _("全部"))],
    }
    return render(request, "programs/verification/case_list.html", context)


@login_required
@GET_POST
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    case = selectors.get_case_for(user, pk)
    can_settle = selectors.can_settle(user, case)
    if request.method == "POST" and not can_settle:
        raise PermissionDenied
    form = CaseCloseForm(request.POST or None) if can_settle else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.verification_case_close(
                actor=user, case=case, resolution=form.cleaned_data["resolution"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("该回访问题已办结。"))
            return redirect("programs:verification_case", pk=case.pk)
    household = case.line.household
    context = {
        "case": case,
        "line": case.line,
        "name": Unmasker(user).name(household.name, household.unit.path),
        "form": form if case.status == CaseStatus.OPEN else None,
    }
    return render(request, "programs/verification/case_detail.html", context)


# -- Rates and the share ----------------------------------------------------------------


@login_required
@require_GET
def rates(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, VIEW)
    form = PeriodForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    lines = selectors.rated_lines(user, data.get("date_from"), data.get("date_to"))
    page = Paginator(selectors.rates_by_union(lines), RATES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": [selectors.rates_of(row) for row in page.object_list],
        "total": selectors.rates_total(lines),
        "query": _query(request),
    }
    return render(request, "programs/verification/rates.html", context)


@login_required
@GET_POST
def share(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, CONFIGURE)
    units = units_for(user, CONFIGURE).filter(is_active=True).order_by("path")
    form = ShareForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        unit = form.cleaned_data["unit"]
        try:
            services.verification_share_set(
                actor=user, unit=unit, share_percent=form.cleaned_data["share_percent"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        except PermissionDenied as exc:
            return refused(request, exc)
        else:
            messages.success(
                request,
                _("%(u)s 的回访抽查比例已设为 %(p)s%%。")
                % {"u": unit.name, "p": form.cleaned_data["share_percent"]},
            )
            return redirect("programs:verification_share")
    context = {
        "form": form,
        "rules": selectors.share_rules(user),
        "default": services.DEFAULT_SHARE_PERCENT,
    }
    return render(request, "programs/verification/share.html", context)


urlpatterns: list[URLPattern] = [
    path("verification/", sample_list, name="verification_samples"),
    path("verification/samples/<int:pk>/", sample_detail, name="verification_sample"),
    path("verification/month/", month_draw, name="verification_month_draw"),
    path("verification/todo/", todo, name="verification_todo"),
    path("verification/lines/<int:pk>/", line_record, name="verification_line"),
    path("verification/lines/<int:pk>/take/", line_take, name="verification_line_take"),
    path("verification/cases/", case_list, name="verification_cases"),
    path("verification/cases/<int:pk>/", case_detail, name="verification_case"),
    path("verification/rates/", rates, name="verification_rates"),
    path("verification/share/", share, name="verification_share"),
]
