"""Permission-walk entries for the funds URLs (see tests/test_permissions.py).

Funds are scoped by their own union: the builders put the fund in the walk
household's union, so county A's finance officer dave reaches it and county
B's fay gets 404 (and the mirror image for a county-B household)."""

from decimal import Decimal as D
from typing import Any

from accounts.models import User
from cases import clock
from cases.models import Household
from funds.models import EntryKind, Fund, IncomeSource, LedgerEntry
from funds.services import balance_of, income_source
from tests.permission_routes import Page, Route

NOT_FINANCE = ("alice", "carol", "erin", "frank")  # may not move money
NO_FUND_ROLE = ("alice", "frank")  # caseworker and admin: may not read funds


def make_fund(household: Household, name: str = "送温暖专项", amount: str = "5000") -> Fund:
    """A fund of the household's union holding `amount` (rows written directly:
    the walk is about who reaches it, not how it was filled)."""
    dave = User.objects.get(username="dave")
    fund, created = Fund.objects.get_or_create(
        unit=household.unit,
        year=2026,
        name=name,
        defaults={"created_by": dave},
    )
    if created and D(amount) > 0:
        LedgerEntry.objects.create(
            fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=D(amount),
            occurred_on=clock.today(), memo="区财政拨款", actor=dave,
            source=income_source("admin_allocation"), payer_kind="unit", payer="金水区财政局",
        )  # fmt: skip
    return fund


def _receipt(household: Household) -> LedgerEntry:
    fund = make_fund(household)
    return LedgerEntry.objects.filter(fund=fund, kind=EntryKind.RECEIPT).first()  # type: ignore[return-value]


def _detail_shown(response: Any, _household: Household, fund: Fund) -> None:
    assert response.status_code == 200
    body = response.content.decode()
    assert fund.name in body and "5,000.00" in body


def _receipt_payload(_household: Household) -> dict[str, Any]:
    return {
        "amount": "300.00",
        "source": IncomeSource.objects.get(code="donation").pk,
        "payer_kind": "unit",
        "payer": "某爱心企业",
        "occurred_on": clock.today().isoformat(),
        "memo": "爱心捐款",
        "donor": "某爱心企业",
        "campaign": "情暖冬日",
        "receipt_number": "JZ-0001",
        "reference": "receipt:walk",
    }


def _received(response: Any, _household: Household, fund: Fund) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="receipt-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        entry = LedgerEntry.objects.get(reference="receipt:walk")
        assert (entry.fund_id, entry.amount, entry.kind) == (fund.pk, D("300"), "donation")
        assert (entry.source.code, entry.payer) == ("donation", "某爱心企业")
        assert balance_of(fund) == D("5300.00")


def _transfer_payload(household: Household) -> dict[str, Any]:
    target = make_fund(household, name="金秋助学", amount="0")
    return {"target": target.pk, "amount": "1200", "memo": "调剂"}


def _transferred(response: Any, household: Household, fund: Fund) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="transfer-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        target = Fund.objects.get(unit=household.unit, name="金秋助学")
        assert balance_of(fund) == D("3800.00") and balance_of(target) == D("1200.00")


def _reversed(response: Any, _household: Household, entry: LedgerEntry) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="reverse-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        reversal = LedgerEntry.objects.get(reverses=entry)
        assert reversal.direction == -1 and reversal.amount == entry.amount
        assert balance_of(entry.fund) == D("0.00")


ROUTES: dict[str, Route] = {
    "funds:fund_detail": Route(
        make_fund, ("GET",), NO_FUND_ROLE, allowed=_detail_shown, user="dave", outsider="fay"
    ),
    "funds:receipt_post": Route(
        make_fund,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=_receipt_payload,
        allowed=_received,
        user="dave",
        outsider="fay",
    ),
    "funds:transfer_post": Route(
        make_fund,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=_transfer_payload,
        allowed=_transferred,
        user="dave",
        outsider="fay",
    ),
    "funds:entry_reverse": Route(
        _receipt,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"reason": "重复记账"},
        allowed=_reversed,
        user="dave",
        outsider="fay",
    ),
}

PAGES: dict[str, Page] = {
    "funds:fund_list": Page(("GET",), ("dave", "fay", "carol", "erin"), NO_FUND_ROLE),
    "funds:fund_create": Page(("GET", "POST"), ("dave", "fay"), NOT_FINANCE),
}
