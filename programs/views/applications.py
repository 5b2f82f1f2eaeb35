"""Aid applications: the caseworker drafts one for a household, a chair
approves, rejects or returns it to the drafter to amend (and above the unit's
limit, the parent union's chair too), the drafter may withdraw it while it
waits or resubmit it once amended. The separation of duties is the
services'; these views only show what the services would allow."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import tables
from accounts.masking import mask_bank_account, mask_id_number
from accounts.paging import paginate
from accounts.scoping import has_action, require_action, units_for
from cases import clock
from cases.selectors.households import get_household_for

from ..forms.applications import (
    ApplicationFilterForm,
    ApplicationForm,
    DecideForm,
    ResubmitForm,
    ReturnForm,
    WithdrawForm,
)
from ..models import Application, ApplicationStatus, Kind
from ..selectors import applications as selectors
from ..selectors import conflicts as conflict_selectors
from ..services import applications as services
from ..services import rules

VIEW = selectors.VIEW
EDIT = selectors.EDIT
DECIDE = selectors.DECIDE
PAGE_SIZE = 25
GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> Any:
    return request.user


def attach_errors(form: Form, exc: ValidationError) -> None:
    """Show a service's refusal on the field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def refused(
    request: HttpRequest, exc: PermissionDenied, *, back: tuple[str, str] | None = None
) -> HttpResponse:
    """A service said no to this person: 403, with its reason in words, and
    a way back (the application list unless `back` names another)."""
    context = {"message": str(exc) or _("您没有执行此操作的权限。")}
    if back is not None:
        context["back_url"], context["back_label"] = back
    return render(request, "programs/applications/refused.html", context, status=403)


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


# -- list -------------------------------------------------------------------------------


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, VIEW)
    is_chair = has_action(user, DECIDE)
    form = ApplicationFilterForm(
        request.GET or None,
        units=units_for(user, VIEW).filter(is_active=True),
        programs=selectors.programs_seen_by(user),
        is_chair=is_chair,
    )
    if form.is_bound and not form.is_valid():
        applications = Application.objects.none()
        mine = False
    else:
        data = form.cleaned_data if form.is_bound else {}
        mine = form.mine()
        flt = selectors.ApplicationFilter(
            mine=mine,
            status=data.get("status") or "",
            program_id=data["program"].pk if data.get("program") else None,
            unit_id=data["unit"].pk if data.get("unit") else None,
        )
        applications = selectors.application_list(user, flt)
    page = paginate(request, applications, PAGE_SIZE)
    context = {
        "form": form,
        "page": page,
        "rows": page.object_list,
        "head_html": tables.header(_LIST_COLUMNS),
        "rows_html": tables.rows(_list_rows(page.object_list), _LIST_COLUMNS),
        "mine": mine,
        "is_chair": is_chair,
    }
    template = (
        "programs/applications/_rows.html"
        if _is_htmx(request)
        else "programs/applications/application_list.html"
    )
    return render(request, template, context)


_PK = 987654321  # stands for a row's pk in the one reversed detail URL


def _list_rows(applications: Any) -> list[dict[str, Any]]:
    """What a row of the list shows, from the rows' joined household, union,
    tier, program and batch; one reverse() and one status label set a page."""
    detail = reverse("programs:application_detail", args=[_PK]).replace(str(_PK), "{}")
    labels = {value: str(label) for value, label in ApplicationStatus.choices}
    out = []
    for a in applications:
        household = a.household
        name = tables.link(detail.format(a.pk), household.name)
        if household.tier_id:
            name = tables.join(name, " ", tables.muted(household.tier))
        program: Any = a.program.display_name
        if a.batch_id:
            batch = tables.muted(f"{_('批次')}：{a.batch.title}")
            program = tables.join(program, tables.safe("<br>"), batch)
        out.append(
            {
                "name": tables.join(tables.safe("<span>"), name, tables.safe("</span>")),
                "unit": household.unit.name,
                "program": tables.join(tables.safe("<span>"), program, tables.safe("</span>")),
                "amount": "" if a.amount is None else f"{a.amount:.2f}",
                "status": tables.badge(a.status, labels.get(a.status, a.status)),
                "drafted": timezone.localtime(a.drafted_at).strftime("%Y-%m-%d"),
            }
        )
    return out


_LIST_COLUMNS = (
    tables.Column(_lazy("户主姓名"), lambda r: r["name"]),
    tables.Column(_lazy("所属工会"), lambda r: r["unit"]),
    tables.Column(_lazy("帮扶项目"), lambda r: r["program"]),
    tables.Column(_lazy("金额（元）"), lambda r: r["amount"]),
    tables.Column(_lazy("状态"), lambda r: r["status"]),
    tables.Column(_lazy("申请时间"), lambda r: r["drafted"]),
)


# -- drafting -----------------------------------------------------------------------------


@login_required
@GET_POST
def application_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action=EDIT)
    today = clock.today()
    programs = list(selectors.programs_for(household))
    offered = [p for p in programs if rules.window_open(p, today)]
    initial: dict[str, Any] = {"months": rules.MAX_SCHOOL_MONTHS}
    if request.method == "GET" and request.GET.get("program"):
        initial["program"] = request.GET["program"]
    form = ApplicationForm(
        request.POST or None,
        household=household,
        programs=selectors.programs_for(household),
        offered=offered,
        initial=initial,
    )
    program = form.selected_program()
    if program is not None and not form.is_bound:
        standard = rules.standard_amount(program, household)
        form.initial["amount"] = "" if standard is None else standard
        if program.kind == Kind.GOODS:
            form.initial["goods_value"] = form.initial["amount"]
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_draft(
                actor=user, household=household, **form.service_kwargs()
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            text = _("已提交“%(p)s”申请：%(n)s，%(a)s 元，等待审批。") % {
                "p": application.program.display_name,
                "n": household.name,
                "a": application.amount,
            }
            if application.goods_value:
                text += _("其中实物（%(d)s）折价 %(g)s 元。") % {
                    "d": application.goods_description,
                    "g": application.goods_value,
                }
            messages.success(request, text)
            return redirect("programs:application_detail", pk=application.pk)
    context = {
        "household": household,
        "form": form,
        "program": program,
        "preview": selectors.preview(program, household, today) if program else None,
        "offered": offered,
    }
    if request.method == "GET" and _is_htmx(request):
        return render(request, "programs/applications/_program_fields.html", context)
    return render(request, "programs/applications/application_form.html", context)


# -- one application ----------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    application: Application,
    *,
    decide_form: DecideForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    return_form: ReturnForm | None = None,
) -> HttpResponse:
    user = _user(request)
    household = application.household
    may_decide = selectors.may_decide(user, application)
    # 回避: the chair who would be refused is told so instead of offered the form.
    recusal = conflict_selectors.recusal(user, application) if may_decide else []
    may_decide = may_decide and not recusal
    flags = conflict_selectors.flag_notes(application)
    may_withdraw = selectors.may_withdraw(user, application)
    history = selectors.history_of(application)
    payments = [
        {"obj": p, "bank_account": mask_bank_account(p.bank_account)}
        for p in selectors.payments_of(application)
    ]
    context = {
        "application": application,
        "household": household,
        # Shown masked here; the household page reveals a full number, audited.
        "id_number": mask_id_number(household.id_number),
        "bank_account": mask_bank_account(household.bank_account),
        "decisions": list(application.decisions.all()),
        "payments": payments,
        "may_decide": may_decide,
        "may_withdraw": may_withdraw,
        "decide_form": decide_form or (DecideForm() if may_decide else None),
        "withdraw_form": withdraw_form or (WithdrawForm() if may_withdraw else None),
        # Whoever may decide may return instead.
        "return_form": return_form or (ReturnForm() if may_decide else None),
        "may_resubmit": selectors.may_resubmit(user, application),
        "history": history,
        "returned_because": selectors.return_reason(history),
        "threshold": services.threshold_for(application.program, household),
        "cash_part": application.amount - application.goods_value,
        "recusal": [m.for_actor() for m in recusal],
        "recused": any(f["refused"] and f["user_id"] == user.pk for f in flags),
        "conflict_flags": flags,
    }
    return render(request, "programs/applications/application_detail.html", context)


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.get_application_for(_user(request), pk, action=VIEW)
    return _detail(request, application)


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_application_for(user, pk, action=DECIDE)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            decided = services.application_decide(
                actor=user,
                application=application,
                approve=form.approve(),
                note=form.cleaned_data["note"],
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已审批：%(n)s 的申请现为“%(s)s”。")
                % {"n": decided.household.name, "s": decided.get_status_display()},
            )
            return redirect("programs:application_detail", pk=application.pk)
    return _detail(request, application, decide_form=form)


def _reason_step(
    request: HttpRequest,
    pk: int,
    *,
    action: str,
    form_class: type[Form],
    service: Callable[..., Any],
    done: str,
    form_name: str,
) -> HttpResponse:
    """A POST that moves an application with a required reason (withdraw,
    退回修改): the service decides who may; a refusal keeps the page."""
    user = _user(request)
    application = selectors.get_application_for(user, pk, action=action)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=user, application=application, reason=form.cleaned_data["reason"])
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("programs:application_detail", pk=application.pk)
    forms: dict[str, Any] = {form_name: form}
    return _detail(request, application, **forms)


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_step(
        request, pk, action=EDIT, form_class=WithdrawForm,
        service=services.application_withdraw, done=_("已撤回该申请。"),
        form_name="withdraw_form",
    )  # fmt: skip


@login_required
@require_POST
def application_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_step(
        request, pk, action=DECIDE, form_class=ReturnForm,
        service=services.application_return, done=_("已退回经办人修改。"),
        form_name="return_form",
    )  # fmt: skip


@login_required
@GET_POST
def application_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = selectors.get_application_for(user, pk, action=EDIT)
    try:
        services.check_own_draft(user, application)
    except PermissionDenied as exc:
        return refused(request, exc)
    if application.status != ApplicationStatus.RETURNED:
        messages.error(request, _("只有被退回修改的申请可以重新提交。"))
        return redirect("programs:application_detail", pk=application.pk)
    form = ResubmitForm(request.POST or None, application=application)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_resubmit(
                actor=user, application=application, **form.service_kwargs()
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已修改并重新提交，等待审批。"))
            return redirect("programs:application_detail", pk=application.pk)
    history = selectors.history_of(application)
    context = {
        "application": application,
        "household": application.household,
        "form": form,
        "program": application.program,
        "preview": selectors.preview(application.program, application.household, clock.today()),
        "returned_because": selectors.return_reason(history),
    }
    return render(request, "programs/applications/application_resubmit.html", context)


urlpatterns: list[URLPattern] = [
    path("applications/", application_list, name="application_list"),
    path("households/<int:pk>/apply/", application_create, name="application_create"),
    path("applications/<int:pk>/", application_detail, name="application_detail"),
    path("applications/<int:pk>/decide/", application_decide, name="application_decide"),
    path("applications/<int:pk>/withdraw/", application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/return/", application_return, name="application_return"),
    path("applications/<int:pk>/resubmit/", application_resubmit, name="application_resubmit"),
]
