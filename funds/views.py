"""The finance staff's fund screens: the funds and their balances, one fund's
ledger, receipts and donations, transfers and corrections."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.masking import mask_name
from accounts.paging import CURSOR_PARAMS, list_query, paginate
from accounts.scoping import Unmasker, can_unmask, covers, has_action, require_action, units_for
from accounts.web import attach_errors as _attach_errors
from accounts.web import query_without_page as _query

from . import selectors, services
from .forms import (
    EntryFilterForm,
    FundCreateForm,
    FundFilterForm,
    ReceiptForm,
    ReverseForm,
    TransferForm,
)
from .models import EntryKind, Fund, LedgerEntry, PayerKind, Restriction

FUND_PAGE_SIZE = 25
LEDGER_PAGE_SIZE = 50
GET_POST = require_http_methods(["GET", "POST"])
VIEW = selectors.VIEW
MANAGE = selectors.MANAGE


def _user(request: HttpRequest) -> Any:
    return request.user


def _to_fund(fund_pk: int) -> HttpResponse:
    return redirect("funds:fund_detail", pk=fund_pk)


# -- Funds ---------------------------------------------------------------------------


@login_required
@require_GET
def fund_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, VIEW)
    form = FundFilterForm(request.GET or None, units=units_for(user, VIEW).filter(is_active=True))
    if form.is_bound and not form.is_valid():
        funds = Fund.objects.none()
    else:
        flt = form.to_filter() if form.is_bound else selectors.FundFilter()
        funds = selectors.fund_list(user, flt)
    page = Paginator(funds, FUND_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "can_create": has_action(user, MANAGE),
    }
    return render(request, "funds/fund_list.html", context)


@login_required
@GET_POST
def fund_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, MANAGE)
    units = selectors.finance_units(user)
    form = FundCreateForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fund = services.fund_create(
                actor=user,
                unit=data["unit"],
                name=data["name"],
                year=data["year"],
                restriction=data["restriction"],
                restricted_purpose=data["restricted_purpose"],
                restricted_household=data["restricted_household"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已建立资金“%(n)s”。") % {"n": str(fund)})
            return _to_fund(fund.pk)
    if request.method == "GET" and units.count() == 1:
        form.initial["unit"] = units.first()
    return render(request, "funds/fund_form.html", {"form": form})


# The screen on which an owned entry is reversed, so the record that owns it
# (the application, the loan, the membership) stays in step with the money.
OWNER_SCREENS = {
    "aid_payment": "programs:aid_payment_reverse",
    "repayment": "programs:repayment_reverse",
    "premium": "programs:premium_reverse",
}


def _owner_url(entry: LedgerEntry, owner: str | None) -> str | None:
    """The owner's reversal screen for an entry that may still be reversed."""
    if owner is None or entry.kind == EntryKind.REVERSAL:
        return None
    if getattr(entry, "reversed_by", None) is not None:
        return None
    record = getattr(entry, owner)
    if owner == "aid_payment" and record.reversal_id is not None:
        return None
    return reverse(OWNER_SCREENS[owner], args=[record.pk])


def _owner(entry: Any) -> tuple[str | None, int | None]:
    """Which record owns the entry (as services.owner_of names it) and its
    pk, from the ledger page's annotations (selectors.ledger_entries)."""
    if entry.payment_pk is not None:
        return "aid_payment", entry.payment_pk
    if entry.repayment_pk is not None:
        return "repayment", entry.repayment_pk
    if entry.premium_pk is not None:
        return "premium", entry.premium_pk
    return None, None


def _money(amount: Any) -> str:
    return f"{amount:,.2f}"


class _LedgerRows:
    """What each row of a ledger page shows, worked out in Python rather
    than by template lookups, filters, {% translate %} and {% url %} per row:
    a page holds 50 of them. Labels are translated once per page, the unions'
    masking decided once per union, URLs reversed once."""

    def __init__(self, user: Any, can_manage: bool) -> None:
        self.user = user
        self.can_manage = can_manage
        self.kinds = {value: str(label) for value, label in EntryKind.choices}
        self.payer_kinds = {value: str(label) for value, label in PayerKind.choices}
        self.unmask = Unmasker(user)
        self.reverse_url = reverse("funds:entry_reverse", args=[_PK])
        self.owner_urls = {
            owner: reverse(name, args=[_PK]) for owner, name in OWNER_SCREENS.items()
        }
        self.owner_labels = {
            "aid_payment": _("冲正发放"),
            "repayment": _("冲正还款"),
            "premium": _("冲正缴费"),
        }

    def _name(self, household: Any) -> str:
        if household is None:
            return ""
        # Finance and chairs see the name; an auditor without the grant a mask.
        return self.unmask.name(household.name, household.unit.path)

    def row(self, entry: Any) -> dict[str, Any]:
        owner, owner_pk = _owner(entry)
        reversed_by = entry.reversed_by_pk
        reversible = entry.kind != EntryKind.REVERSAL and reversed_by is None
        action_url = action_label = ""
        if self.can_manage and reversible:
            if owner is None:
                # Entries owned by a payment, repayment or premium are reversed there.
                action_url, action_label = _url(self.reverse_url, entry.pk), _("冲正")
            elif not (owner == "aid_payment" and entry.payment_reversal_pk is not None):
                action_url = _url(self.owner_urls[owner], owner_pk)
                action_label = self.owner_labels[owner]
        other_fund = ""
        if (
            entry.kind in (EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT)
            and entry.other_fund_name is not None
        ):
            other_fund = f"{entry.other_fund_name}（{entry.other_fund_year}）"
        source = payer = ""
        if entry.source is not None:
            source = entry.source.display_name
            if entry.payer:
                payer = f"{entry.payer}（{self.payer_kinds.get(entry.payer_kind, '')}）"
        return {
            "pk": entry.pk,
            "date": entry.occurred_on.strftime("%Y-%m-%d"),
            "kind": self.kinds.get(entry.kind, entry.kind),
            "transfer_in": entry.kind == EntryKind.TRANSFER_IN,
            "memo": entry.memo,
            "household_name": self._name(entry.household),
            "source": source,
            "payer": payer,
            "date_reason": entry.date_reason,
            "donor": entry.donor,
            "campaign": entry.campaign,
            "receipt_number": entry.receipt_number,
            "other_fund": other_fund,
            "reverses": entry.reverses_id,
            "reversed_by": reversed_by,
            "amount_in": _money(entry.amount) if entry.direction > 0 else "",
            "amount_out": _money(entry.amount) if entry.direction < 0 else "",
            "actor": str(entry.actor),
            "created_at": timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M"),
            "action_url": action_url,
            "action_label": action_label,
        }


_PK = 987654321  # stands for a row's pk in a URL reversed once per page


def _url(pattern: str, pk: Any) -> str:
    return pattern.replace(str(_PK), str(pk))


@login_required
@require_GET
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    fund = selectors.get_fund_for(user, pk)
    form = EntryFilterForm(request.GET or None, fund=fund)
    entries: QuerySet[LedgerEntry]
    if form.is_bound and not form.is_valid():
        entries = LedgerEntry.objects.none()
    else:
        flt = form.to_filter() if form.is_bound else selectors.EntryFilter()
        entries = selectors.ledger_entries(fund, flt)
    page = paginate(request, entries, LEDGER_PAGE_SIZE)
    can_manage = covers(user, MANAGE, fund.unit)
    prepare = _LedgerRows(user, can_manage)
    rows = [prepare.row(e) for e in page.object_list]
    date_from, date_to = form.period()
    restricted_household = None
    if fund.restricted_household is not None:
        h = fund.restricted_household
        restricted_household = h.name if can_unmask(user, h.unit) else mask_name(h.name)
    context = {
        "fund": fund,
        "totals": selectors.fund_totals(fund),
        "summary": selectors.fund_period_summary(fund, date_from, date_to),
        # The statement links print the period the summary shows.
        "period_query": urlencode(
            {
                k: v.isoformat()
                for k, v in (("date_from", date_from), ("date_to", date_to))
                if v is not None
            }
        ),
        "campaigns": selectors.campaign_sums(fund),
        "form": form,
        "page": page,
        "rows": rows,
        "query": list_query(request),
        "can_manage": can_manage,
        "can_transfer": can_manage and fund.restriction == Restriction.NONE,
        "restricted_household": restricted_household,
        "filtered": form.is_bound
        and any(v for k, v in request.GET.items() if k not in CURSOR_PARAMS),
    }
    return render(request, "funds/fund_detail.html", context)


# -- Money in, between funds, and corrections -------------------------------------------


@login_required
@GET_POST
def receipt_post(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    fund = selectors.get_fund_for(user, pk, action=MANAGE)
    form = ReceiptForm(request.POST or None, fund=fund)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.receipt_post(actor=user, fund=fund, **form.cleaned_data)
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已记入“%(f)s”%(k)s %(a)s 元。")
                % {"f": fund.name, "k": entry.get_kind_display(), "a": f"{entry.amount:.2f}"},
            )
            return _to_fund(fund.pk)
    return render(
        request,
        "funds/receipt_form.html",
        {"fund": fund, "form": form, "totals": selectors.fund_totals(fund)},
    )


@login_required
@GET_POST
def transfer_post(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    fund = selectors.get_fund_for(user, pk, action=MANAGE)
    targets = selectors.managed_funds(user).exclude(pk=fund.pk)
    form = TransferForm(request.POST or None, targets=targets)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            out, _into = services.transfer_post(
                actor=user,
                source=fund,
                target=data["target"],
                amount=data["amount"],
                memo=data["memo"],
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已从“%(s)s”调出 %(a)s 元至“%(t)s”。")
                % {"s": fund.name, "a": f"{out.amount:,.2f}", "t": data["target"].name},
            )
            return _to_fund(fund.pk)
    context = {
        "fund": fund,
        "form": form,
        "totals": selectors.fund_totals(fund),
        "restricted": fund.restriction != Restriction.NONE,
    }
    return render(request, "funds/transfer_form.html", context)


@login_required
@GET_POST
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    entry = selectors.get_entry_for(user, pk, action=MANAGE)
    owner = services.owner_of(entry)
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_correct(actor=user, entry=entry, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已冲正，原分录与冲正分录均保留在台账中。"))
            return _to_fund(entry.fund_id)
    household = entry.household
    name = ""
    if household is not None:
        name = household.name if can_unmask(user, household.unit) else mask_name(household.name)
    context = {
        "entry": entry,
        "fund": entry.fund,
        "form": form,
        "owner": owner,
        "household_name": name,
        "reversed_by": getattr(entry, "reversed_by", None),
        "owner_url": _owner_url(entry, owner),
    }
    return render(request, "funds/entry_reverse.html", context)
