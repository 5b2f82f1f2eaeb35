"""Annual review, monthly income and exits, re-filing, non-cash help."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import covers, require_action, units_for
from accounts.web import attach_errors as _attach_errors

from .. import clock
from ..forms.lifecycle import (
    ExitFlagDismissForm,
    ExitForm,
    MonthlyIncomeForm,
    NonCashHelpForm,
    ReopenForm,
    ReviewItemForm,
    ReviewStartForm,
)
from ..models import ExitKind, Household, ReviewOutcome
from ..models import HouseholdStatus as S
from ..selectors import lifecycle as selectors
from ..selectors.households import get_household_for
from ..services import lifecycle as services
from ..services.intake import standard_for

REVIEW_PAGE_SIZE = 25
GET_POST = require_http_methods(["GET", "POST"])


def _user(request: HttpRequest) -> Any:
    return request.user


def _to_panel(household_pk: int) -> HttpResponse:
    return redirect(reverse("cases:household_detail", args=[household_pk]) + "#lifecycle")


# -- 年审 ----------------------------------------------------------------------------


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rounds = selectors.review_rounds_for(user)
    page = Paginator(rounds, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/lifecycle/review_list.html",
        {"page": page, "can_start": selectors.can_start_review(user)},
    )


@login_required
@GET_POST
def review_start(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "case.decide")
    units = units_for(user, "case.decide").filter(is_active=True)
    form = ReviewStartForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.review_round_start(
                actor=user, unit=form.cleaned_data["unit"], year=form.cleaned_data["year"]
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            total, sampled = selectors.round_sampled_ids(review)
            messages.success(
                request,
                _("已发起“%(u)s” %(y)s 年度年审：共 %(n)s 户，抽取 %(s)s 户实地复核。")
                % {"u": review.unit.name, "y": review.year, "n": len(total), "s": len(sampled)},
            )
            return redirect("cases:review_detail", pk=review.pk)
    if request.method == "GET" and units.count() == 1:
        form.initial["unit"] = units.first()
    return render(
        request,
        "cases/lifecycle/review_start.html",
        {"form": form, "percent": selectors.rules().review_sample_percent},
    )


@login_required
@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    review = selectors.get_round_for(user, pk)
    only_sampled = request.GET.get("sampled") == "1"
    outcome = request.GET.get("outcome", "")
    if outcome not in ReviewOutcome.values:
        outcome = ""
    items = selectors.round_items(user, review, only_sampled=only_sampled, outcome=outcome)
    page = Paginator(items, REVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"item": item, "can_record": covers(user, "household.edit", item.household.unit)}
        for item in page.object_list
    ]
    all_ids, marked = selectors.round_sampled_ids(review)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/lifecycle/review_detail.html",
        {
            "review": review,
            "page": page,
            "rows": rows,
            "progress": selectors.round_progress(user, review),
            # Drawn again from the stored seed: the marks must be the same.
            "sample_reproduced": services.draw_sample(all_ids, review.sample_percent, review.seed)
            == marked,
            "round_size": len(all_ids),
            "round_sampled": len(marked),
            "only_sampled": only_sampled,
            "outcome": outcome,
            "query": query.urlencode(),
        },
    )


@login_required
@GET_POST
def review_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = selectors.get_review_item_for(user, pk, action="household.edit")
    initial = {}
    if item.outcome != ReviewOutcome.PENDING:
        initial = {"outcome": item.outcome, "notes": item.notes, "checked_on": item.checked_on}
    form = ReviewItemForm(request.POST or None, sampled=item.sampled, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_item_record(actor=user, item=item, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已记录“%(n)s”的年审结果。") % {"n": item.household.name})
            return redirect("cases:review_detail", pk=item.round_id)
    assess_url = reverse("cases:intake_assess", args=[item.household_id])
    context = {"item": item, "form": form, "assess_url": assess_url}
    return render(request, "cases/lifecycle/review_item.html", context)


# -- Monthly income and exits -------------------------------------------------------


@login_required
@GET_POST
def income_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    form = MonthlyIncomeForm(request.POST or None, household_size=household.household_size)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.monthly_income_record(
                actor=user, household=household, **form.cleaned_data
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _income_message(record))
            flagged = Household.objects.values_list("exit_flagged_on", flat=True).get(pk=pk)
            if flagged is not None:
                months = selectors.rules().exit_consecutive_months
                messages.warning(
                    request,
                    _("人均月收入已连续 %(n)s 个月高于当地低保标准，已提示脱困，请工会主席确认。")
                    % {"n": months},
                )
            return _to_panel(household.pk)
    standard = standard_for(household.unit, services.month_start(clock.today()))
    return render(
        request,
        "cases/lifecycle/income_form.html",
        {
            "household": household,
            "form": form,
            "standard": standard,
            "months": selectors.rules().exit_consecutive_months,
        },
    )


def _income_message(record: Any) -> str:
    values = {"m": f"{record.month:%Y-%m}", "p": record.per_capita, "s": record.standard}
    if record.standard is None:
        return _("已登记 %(m)s 月收入，人均 %(p)s 元；当地尚未设定低保标准，无法比较。") % values
    if record.above_standard:
        return _("已登记 %(m)s 月收入，人均 %(p)s 元，高于低保标准 %(s)s 元。") % values
    return _("已登记 %(m)s 月收入，人均 %(p)s 元，未高于低保标准 %(s)s 元。") % values


@login_required
@GET_POST
def exit_flag_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="case.decide")
    form = ExitFlagDismissForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exit_flag_dismiss(
                actor=user, household=household, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已否决脱困提示，收入将重新连续计算。"))
            return _to_panel(household.pk)
    return render(
        request,
        "cases/lifecycle/exit_flag_dismiss.html",
        {"household": household, "form": form},
    )


@login_required
@GET_POST
def household_exit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="case.decide")
    kind = request.GET.get("kind", "")
    initial = {"kind": kind} if kind in ExitKind.values else {}
    form = ExitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            closed = services.household_exit(actor=user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("“%(n)s”已退出，档案保存至 %(d)s。")
                % {"n": closed.name, "d": closed.retention_until.isoformat()},  # type: ignore[union-attr]
            )
            return _to_panel(household.pk)
    return render(
        request,
        "cases/lifecycle/household_exit.html",
        {
            "household": household,
            "form": form,
            "retention_years": selectors.rules().retention_years,
        },
    )


# -- 非现金帮扶 ------------------------------------------------------------------------


@login_required
@GET_POST
def noncash_record(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = get_household_for(user, pk, action="household.edit")
    form = NonCashHelpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.noncash_help_record(actor=user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已登记非现金帮扶。"))
            return _to_panel(household.pk)
    return render(
        request, "cases/lifecycle/noncash_form.html", {"household": household, "form": form}
    )


urlpatterns: list[URLPattern] = [
    path("reviews/", review_list, name="review_list"),
    path("reviews/new/", review_start, name="review_start"),
    path("reviews/<int:pk>/", review_detail, name="review_detail"),
    path("review-items/<int:pk>/", review_item, name="review_item"),
    path("households/<int:pk>/income/", income_record, name="income_record"),
    path("households/<int:pk>/exit-flag/dismiss/", exit_flag_dismiss, name="exit_flag_dismiss"),
    path("households/<int:pk>/exit/", household_exit, name="household_exit"),
    path("households/<int:pk>/noncash/", noncash_record, name="noncash_record"),
]


def panel_context(user: Any, household: Household) -> dict[str, Any]:
    """What the household page's lifecycle panel shows (a fixed number of queries)."""
    if not selectors.ever_filed(household):
        return {"lifecycle": {"show": False}}
    panel = selectors.lifecycle_panel(household)
    can_edit = covers(user, "household.edit", household.unit)
    # The chair who put the case forward may not decide on it (as in intake).
    can_decide = (
        covers(user, "case.decide", household.unit) and household.submitted_by_id != user.pk
    )
    is_filed = household.status == S.FILED
    is_exited = household.status == S.EXITED
    reopen_url = (
        reverse("cases:intake_reopen", args=[household.pk]) if is_exited and can_edit else None
    )
    needs_rule = bool(panel.run or household.exit_flagged_on)
    return {
        "lifecycle": {
            "show": True,
            "panel": panel,
            "needed": selectors.rules().exit_consecutive_months if needs_rule else None,
            "can_record": can_edit and is_filed,
            "can_exit": can_decide and is_filed,
            "can_decide": can_decide,
            "exit_kind": ExitKind(household.exit_kind).label
            if household.exit_kind in ExitKind.values
            else household.exit_kind,
            "is_exited": is_exited,
            "reopen_url": reopen_url,
            # Its own ids: the intake panel on the same page has a reason field too.
            "reopen_form": ReopenForm(auto_id="id_lifecycle_reopen_%s") if reopen_url else None,
            "recovered": ExitKind.RECOVERED.value,
        }
    }
