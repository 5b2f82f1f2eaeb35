"""Permission-walk entries for the documents URLs (see tests/test_permissions.py).

A household's documents go to those who read its file (caseworkers, chairs,
finance, auditors of its union), a fund's and a payment batch's to those who
read the money (finance, chairs, auditors). The builders keep every object
in the walk household's union, so county B's people get 404."""

import datetime
import io
from typing import Any

from pypdf import PdfReader

from accounts.models import User
from cases import clock
from cases.models import Household, IntakeNotice, NoticeEntry
from programs.models import Application, PaymentBatch
from tests.funds.routes_funds import make_fund
from tests.permission_routes import Page, Route
from tests.programs.routes_payments import approved, paid

NO_FILE_ROLE = ("frank",)  # an admin: reads no household file
NOT_MONEY = ("alice", "frank")  # a caseworker and an admin: read no fund


def _application(household: Household) -> Application:
    return approved(household)


def _batch(household: Household) -> PaymentBatch:
    batch = paid(household).batch
    assert batch is not None
    return batch


def _notice(household: Household) -> IntakeNotice:
    notice = IntakeNotice.objects.create(
        unit=household.unit,
        title="建档公示（第一批）",
        starts_on=clock.today(),
        working_days=5,
        ends_on=clock.today() + datetime.timedelta(days=7),
        posted_at="公示栏",
        created_by=User.objects.get(username="alice"),
    )
    NoticeEntry.objects.create(notice=notice, household=household)
    return notice


def _pdf(title: str) -> Any:
    def check(response: Any, household: Household, _obj: Any) -> None:
        assert response.status_code == 200, response.content[:2000]
        assert response["Content-Type"] == "application/pdf"
        text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        assert title in "".join(text.split())

    return check


ROUTES: dict[str, Route] = {
    "reports:household_card": Route(
        "household", ("GET",), NO_FILE_ROLE, allowed=_pdf("困难职工家庭档案表")
    ),
    "reports:approval_form": Route(
        _application, ("GET",), NO_FILE_ROLE, allowed=_pdf("帮扶资金审批表")
    ),
    "reports:intake_notice": Route(_notice, ("GET",), NO_FILE_ROLE, allowed=_pdf("建档公示")),
    "reports:fund_disbursements": Route(
        make_fund,
        ("GET",),
        NOT_MONEY,
        allowed=_pdf("帮扶资金发放台账"),
        user="dave",
        outsider="fay",
    ),
    "reports:fund_statement": Route(
        make_fund,
        ("GET",),
        NOT_MONEY,
        allowed=_pdf("资金收支明细表"),
        user="dave",
        outsider="fay",
    ),
    "reports:batch_signoff": Route(
        _batch,
        ("GET",),
        NOT_MONEY,
        allowed=_pdf("签收单"),
        user="dave",
        outsider="fay",
    ),
}

PAGES: dict[str, Page] = {
    "reports:documents": Page(("GET",), ("alice", "carol", "dave", "erin"), ("frank",)),
    "reports:program_disbursements": Page(("GET",), ("carol", "dave", "erin"), NOT_MONEY),
    "reports:aid_notice": Page(("GET",), ("alice", "carol", "dave", "erin"), ("frank",)),
    "reports:signoff": Page(("GET",), ("dave",), ("alice", "carol", "erin", "frank")),
}
