"""Loan screens (无息贷款, 创业担保借款): the lists, the arrears list, one
loan's schedule, paying an approved loan application out, and recording a
repayment or reversing a mistaken one."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import can_unmask, covers, get_scoped, units_for
from accounts.web import attach_errors as _attach_errors
from cases import clock

from ..forms.loans import DisburseForm, LoanFilterForm, RepaymentForm, ReversalForm
from ..models import Application, ApplicationStatus, Kind, Loan, LoanStatus
from ..selectors import loans as selectors
from ..services import loans as services
from .applications import refused

PAGE_SIZE = 25
FINANCE = "fund.manage"
GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def loan_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = LoanFilterForm(request.GET or None)
    flt = selectors.LoanFilter()
    if form.is_valid():
        flt = selectors.LoanFilter(
            status=form.cleaned_data["status"], arrears_only=form.cleaned_data["arrears"]
        )
    page = Paginator(selectors.loan_list(user, flt), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programs/loans/loan_list.html",
        {
            "form": form,
            "page": page,
            "rows": selectors.page_rows(page.object_list),
            "query": query.urlencode(),
            "awaiting": selectors.awaiting_disbursement(user),
        },
    )


@login_required
@require_GET
def loan_arrears(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = clock.today()
    page = Paginator(selectors.loan_arrears(user, today), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programs/loans/loan_arrears.html",
        {"page": page, "rows": selectors.page_rows(page.object_list, today), "today": today},
    )


@login_required
@require_GET
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    today = clock.today()
    loan = selectors.get_loan_for(user, pk, today=today)
    rows, repayments = selectors.schedule(loan, today)
    can_manage = covers(user, FINANCE, loan.fund.unit)
    return render(
        request,
        "programs/loans/loan_detail.html",
        {
            "loan": loan,
            "rows": rows,
            "repayments": repayments,
            "days_overdue": selectors.days_overdue(loan, today),
            "can_repay": loan.status == LoanStatus.ACTIVE and can_manage,
            "can_reverse": can_manage,
        },
    )


@login_required
@GET_POST
def loan_disburse(request: HttpRequest, pk: int) -> HttpResponse:
    """放款: pay an approved loan application out and set its schedule."""
    user = _user(request)
    queryset = Application.objects.filter(program__kind=Kind.LOAN).select_related(
        "household__unit", "program"
    )
    application: Application = get_scoped(
        user, queryset, pk, action=(FINANCE,), unit_field="household__unit"
    )
    done = Loan.objects.filter(application=application).first()
    if done is not None:
        messages.info(request, _("该借款已放款。"))
        return redirect("programs:loan_detail", pk=done.pk)
    funds = application.program.funds.filter(
        is_active=True, unit__in=units_for(user, FINANCE)
    ).order_by("-year", "name")
    form = DisburseForm(request.POST or None, request.FILES or None, funds=funds)
    approved = application.status == ApplicationStatus.APPROVED
    if request.method == "POST" and form.is_valid():
        try:
            loan = services.loan_disburse(
                actor=user,
                application=application,
                fund=form.cleaned_data["fund"],
                method=form.cleaned_data["method"],
                term_months=form.cleaned_data["term_months"],
                first_due_on=form.cleaned_data["first_due_on"],
                signed_sheet=form.cleaned_data.get("signed_sheet"),
            )
        except PermissionDenied as exc:
            return refused(request, exc)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已向 %(n)s 家放款 %(a)s 元，分 %(m)s 期还款。")
                % {"n": loan.household.name, "a": loan.principal, "m": loan.term_months},
            )
            return redirect("programs:loan_detail", pk=loan.pk)
    household = application.household
    return render(
        request,
        "programs/loans/loan_disburse.html",
        {
            "application": application,
            "household": household,
            "form": form,
            "approved": approved,
            "has_funds": funds.exists(),
            "can_unmask": can_unmask(user, household.unit),
        },
    )


@login_required
@GET_POST
def repayment_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    today = clock.today()
    loan = selectors.get_loan_for(user, pk, action=FINANCE, today=today)
    form = RepaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        try:
            repayment = services.repayment_record(
                actor=user,
                loan=loan,
                amount=form.cleaned_data["amount"],
                paid_on=form.cleaned_data["paid_on"],
                date_reason=form.cleaned_data["date_reason"],
                reference=f"repay:{loan.pk}:{token}" if token else None,
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            loan.refresh_from_db(fields=["status"])
            if loan.status == LoanStatus.SETTLED:
                messages.success(
                    request,
                    _("已登记还款 %(a)s 元，该笔借款已结清。") % {"a": repayment.amount},
                )
            else:
                messages.success(request, _("已登记还款 %(a)s 元。") % {"a": repayment.amount})
            return redirect("programs:loan_detail", pk=loan.pk)
    return render(
        request,
        "programs/loans/repayment_form.html",
        {"loan": loan, "form": form, "days_overdue": selectors.days_overdue(loan, today)},
    )


@login_required
@GET_POST
def repayment_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """冲正还款: take a mistaken repayment back out of the fund; the loan owes
    it again."""
    user = _user(request)
    today = clock.today()
    repayment, loan = selectors.get_repayment_for(user, pk, action=FINANCE, today=today)
    form = ReversalForm(request.POST or None)
    reversal = getattr(repayment.entry, "reversed_by", None)
    if request.method == "POST" and form.is_valid():
        try:
            services.repayment_reverse(
                actor=user, repayment=repayment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已冲正 %(n)s 家 %(d)s 的还款 %(a)s 元，款项已从“%(f)s”转回，未还本金相应增加。")
                % {
                    "n": loan.household.name,
                    "d": repayment.paid_on.isoformat(),
                    "a": f"{repayment.amount:,.2f}",
                    "f": loan.fund.name,
                },
            )
            return redirect("programs:loan_detail", pk=loan.pk)
    return render(
        request,
        "programs/loans/repayment_reverse.html",
        {
            "repayment": repayment,
            "loan": loan,
            "form": form,
            "reversal": reversal,
            "reason": selectors.reversal_reason(reversal) if reversal is not None else "",
            "outstanding_after": loan.outstanding + repayment.amount,  # type: ignore[attr-defined]
        },
    )


urlpatterns: list[URLPattern] = [
    path("loans/", loan_list, name="loan_list"),
    path("loans/arrears/", loan_arrears, name="loan_arrears"),
    path("loans/<int:pk>/", loan_detail, name="loan_detail"),
    path("loans/<int:pk>/repay/", repayment_record, name="repayment_record"),
    path("repayments/<int:pk>/reverse/", repayment_reverse, name="repayment_reverse"),
    path("applications/<int:pk>/disburse/", loan_disburse, name="loan_disburse"),
]
