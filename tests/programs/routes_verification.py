"""Permission-walk entries for the 回访核实 URLs (see tests/test_permissions.py).

Samples are scoped by the union whose fund paid, lines by the household's
union, cases by the union above the household's (for its chairs). The walk
household is 郑州纺织厂工会's (under county A): county A's caseworker alice
verifies its line, its chair carol settles its case (county A is the union
above), and county B's bob and ben get 404. The payment was drafted by carol
and paid by dave, so alice had no hand in it; for the case, alice drafted
it, so carol had none."""

from typing import Any

from accounts.models import User
from cases.models import Household
from programs.models import (
    Application,
    CaseStatus,
    SampleKind,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.services import verification
from tests.permission_routes import Page, Route
from tests.programs.routes_payments import paid

NO_RECORD_ROLE = ("dave", "erin", "frank")  # finance, auditor, admin: may not verify
NO_VIEW_ROLE = ("dave", "frank")  # finance and admin: no samples to read
NO_CASES_ROLE = ("alice", "dave", "frank")  # only chairs and auditors see cases


def _sample(household: Household) -> VerificationSample:
    payment = paid(household)
    carol = User.objects.get(username="carol")
    Application.objects.filter(pk=payment.application_id).update(drafted_by=carol)
    payment.refresh_from_db()
    return verification._draw(
        actor=None,
        unit=household.unit,
        payments=[payment],
        kind=SampleKind.BATCH,
        batch=payment.batch,
    )


def _line(household: Household) -> VerificationLine:
    return _sample(household).lines.get()


def _case(household: Household) -> VerificationCase:
    line = _line(household)
    # carol settles the case: she may not have drafted the aid (alice did).
    alice = User.objects.get(username="alice")
    Application.objects.filter(pk=line.payment.application_id).update(drafted_by=alice)
    VerificationLine.objects.filter(pk=line.pk).update(
        outcome="none",
        channel="phone",
        note="户主称未收到",
        verifier=User.objects.get(username="carol"),
    )
    return VerificationCase.objects.create(
        line=line, unit=verification.escalation_unit(household.unit)
    )


def _sample_shown(response: Any, household: Household, sample: VerificationSample) -> None:
    assert response.status_code == 200
    body = response.content.decode()
    assert household.name in body and sample.seed in body and 'id="sample-lines"' in body


def _recorded(response: Any, household: Household, line: VerificationLine) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="verification-form"' in body and household.phone in body
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        line.refresh_from_db()
        assert line.outcome == "full" and line.verifier.username == "alice"  # type: ignore[union-attr]


def _taken(response: Any, _household: Household, line: VerificationLine) -> None:
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.verifier.username == "alice" and line.outcome == ""  # type: ignore[union-attr]


def _closed(response: Any, household: Household, case: VerificationCase) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        body = response.content.decode()
        assert household.name in body and 'id="case-close-form"' in body
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        case.refresh_from_db()
        assert (
            case.status == CaseStatus.CLOSED and case.resolution == "已电话确认，银行退票后重发。"
        )


ROUTES: dict[str, Route] = {
    "programs:verification_sample": Route(_sample, ("GET",), NO_VIEW_ROLE, allowed=_sample_shown),
    "programs:verification_line": Route(
        _line,
        ("GET", "POST"),
        NO_RECORD_ROLE,
        payload=lambda h: {"outcome": "full", "channel": "phone", "note": ""},
        allowed=_recorded,
    ),
    "programs:verification_line_take": Route(
        _line, ("POST",), NO_RECORD_ROLE, payload=lambda h: {}, allowed=_taken
    ),
    "programs:verification_case": Route(
        _case,
        ("GET", "POST"),
        NO_CASES_ROLE,
        payload=lambda h: {"resolution": "已电话确认，银行退票后重发。"},
        allowed=_closed,
        user="carol",
        outsider="ben",
    ),
}

PAGES: dict[str, Page] = {
    "programs:verification_samples": Page(
        ("GET",), ("alice", "bob", "carol", "erin"), NO_VIEW_ROLE
    ),
    "programs:verification_month_draw": Page(("POST",), ("carol", "ben"), (*NO_CASES_ROLE, "erin")),
    "programs:verification_todo": Page(("GET",), ("alice", "carol"), NO_RECORD_ROLE),
    "programs:verification_cases": Page(("GET",), ("carol", "erin"), NO_CASES_ROLE),
    "programs:verification_rates": Page(("GET",), ("alice", "carol", "erin"), NO_VIEW_ROLE),
    "programs:verification_share": Page(
        ("GET", "POST"), ("carol", "frank"), ("alice", "dave", "erin")
    ),
    "reports:verification_report": Page(("GET",), ("alice", "carol", "erin"), NO_VIEW_ROLE),
}
