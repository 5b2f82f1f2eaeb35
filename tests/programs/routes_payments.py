"""Permission-walk entries for the payments URLs (see tests/test_permissions.py).

Applications are scoped by their household's union, payments and batches by
their fund's union; the builders keep both in the walk household's union, so
county A's finance officer dave reaches them and county B's fay gets 404."""

import io
from decimal import Decimal as D
from typing import Any

import openpyxl
from django.core.files.base import ContentFile

from accounts.models import User
from cases import clock
from cases.models import Household
from funds.models import EntryKind, LedgerEntry
from funds.services import balance_of
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    PaymentBatch,
    PaymentMethod,
    Program,
)
from tests.funds.routes_funds import NO_FUND_ROLE, NOT_FINANCE, make_fund
from tests.permission_routes import Page, Route

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ACCOUNT = "6222020200112233445"


def approved(household: Household) -> Application:
    """An approved 1000-yuan application of the household, drafted by alice,
    payable from a fund of the household's union."""
    Household.objects.filter(pk=household.pk).update(bank_name="中国工商银行", bank_account=ACCOUNT)
    household.refresh_from_db()
    fund = make_fund(household)
    program, _ = Program.objects.get_or_create(
        unit=household.unit, name="春节送温暖", defaults={"category": "festival", "kind": "cash"}
    )
    program.funds.add(fund)
    return Application.objects.create(
        program=program,
        household=household,
        year=2026,
        status=ApplicationStatus.APPROVED,
        amount=D("1000"),
        drafted_by=User.objects.get(username="alice"),
    )


def paid(household: Household, method: str = PaymentMethod.BANK) -> AidPayment:
    """The application paid in a batch (rows written directly, as a payment
    would write them)."""
    application = approved(household)
    fund = application.program.funds.get()
    dave = User.objects.get(username="dave")
    entry = LedgerEntry.objects.create(
        fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=application.amount,
        occurred_on=clock.today(), memo="春节送温暖", household=household, actor=dave,
    )  # fmt: skip
    batch = PaymentBatch.objects.create(fund=fund, method=method, title="第一批", created_by=dave)
    payment = AidPayment(
        application=application, fund=fund, entry=entry, batch=batch, method=method,
        amount=application.amount, paid_on=clock.today(), paid_by=dave,
    )  # fmt: skip
    if method == PaymentMethod.BANK:
        payment.account_name = household.name
        payment.bank_name = household.bank_name
        payment.bank_account = household.bank_account
    else:
        payment.signed_sheet.save("sheet.pdf", ContentFile(PDF), save=False)
    payment.save()
    Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.PAID)
    return payment


def _batch(household: Household) -> PaymentBatch:
    return paid(household).batch  # type: ignore[return-value]


def _cash(household: Household) -> AidPayment:
    return paid(household, PaymentMethod.CASH)


def _pay_payload(household: Household) -> dict[str, Any]:
    application = Application.objects.get(household=household)
    fund = application.program.funds.get()
    return {
        "application": application.pk,
        "fund": fund.pk,
        "method": "bank",
        "paid_on": clock.today().isoformat(),
    }


def _paid(response: Any, household: Household, application: Application) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="pay-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        payment = AidPayment.objects.get(application=application)
        assert payment.bank_account == ACCOUNT and payment.entry.amount == D("1000")
        assert balance_of(payment.fund) == D("4000.00")


def _batch_shown(response: Any, household: Household, batch: PaymentBatch) -> None:
    assert response.status_code == 200
    body = response.content.decode()
    assert household.name in body and "1,000.00" in body
    assert ACCOUNT not in body and ACCOUNT[-4:] in body


def _bank_file(response: Any, household: Household, batch: PaymentBatch) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][:3] == (household.name, "中国工商银行", ACCOUNT)


def _sheet(response: Any, _household: Household, _payment: AidPayment) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def _payment_reversed(response: Any, _household: Household, payment: AidPayment) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="payment-reverse-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        payment.refresh_from_db()
        assert payment.reversal is not None and payment.reversal_reason == "账号有误"
        assert payment.application.status == ApplicationStatus.APPROVED
        assert balance_of(payment.fund) == D("5000.00")


ROUTES: dict[str, Route] = {
    "programs:aid_pay": Route(
        approved,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=_pay_payload,
        allowed=_paid,
        user="dave",
        outsider="fay",
    ),
    "programs:payment_batch_detail": Route(
        _batch, ("GET",), NO_FUND_ROLE, allowed=_batch_shown, user="dave", outsider="fay"
    ),
    "programs:payment_batch_bank_file": Route(
        _batch, ("GET",), NOT_FINANCE, allowed=_bank_file, user="dave", outsider="fay"
    ),
    # A signed sheet carries names and signatures: finance and chairs, and
    # auditors only with the grant to see unmasked data (erin has none).
    "programs:payment_sheet": Route(
        _cash, ("GET",), (*NO_FUND_ROLE, "erin"), allowed=_sheet, user="dave", outsider="fay"
    ),
    "programs:aid_payment_reverse": Route(
        paid,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"reason": "账号有误"},
        allowed=_payment_reversed,
        user="dave",
        outsider="fay",
    ),
}

PAGES: dict[str, Page] = {
    "programs:payment_queue": Page(("GET",), ("dave", "fay"), NOT_FINANCE),
    "programs:payment_batch_create": Page(("POST",), ("dave",), NOT_FINANCE),
    "programs:payment_batch_list": Page(("GET",), ("dave", "carol", "erin"), NO_FUND_ROLE),
}
