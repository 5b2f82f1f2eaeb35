"""Permission-walk entries for the complaint URLs (see tests/test_permissions.py).

Recording and reading are for anyone who reads the household's file
(alice, a caseworker of county A); assigning, replying, closing and
reopening are the chair's (carol, the complaint's default owner, with ben
as the chair of the other county). A caseworker, finance officer or auditor
who reads the complaint but may not act on it is refused by the service
(403). The walk's complaints name no cadre; the hiding of complaints about
a named cadre has its own walk over these routes in
tests/programs/test_complaints_cadre.py."""

from typing import Any

from accounts.models import User
from accounts.scoping import covers
from cases import clock
from cases.models import Household
from programs.models import Complaint, ComplaintStatus
from programs.services.complaints import complaint_record
from tests.permission_routes import Page, Route
from tests.programs.routes_applications import _application
from tests.programs.routes_payments import paid
from tests.reports.routes_documents import _notice

READERS = ("alice", "bob", "carol", "dave", "erin")
# Read the complaint, may not act on it; frank reads nothing.
NOT_HANDLERS = ("alice", "erin", "dave", "frank")


def _user(name: str) -> User:
    return User.objects.get(username=name)


def record(actor: User, target: Any, **extra: Any) -> Complaint:
    """A phoned-in complaint about the target (a household, notice, ...)."""
    fields: dict[str, Any] = {
        "category": "amount",
        "channel": "phone",
        "content": "慰问金比邻居少",
        "complainant_name": "王秀兰",
        "complainant_phone": "13812345678",
    }
    fields.update(extra)
    return complaint_record(actor=actor, target=target, **fields)


def complaint(household: Household) -> Complaint:
    """Recorded by alice (county B's walk: by bob, its caseworker)."""
    recorder = _user("alice")
    if not covers(recorder, "household.view", household.unit):
        recorder = _user("bob")
    return record(recorder, household)


def closed(household: Household) -> Complaint:
    c = complaint(household)
    Complaint.objects.filter(pk=c.pk).update(
        status=ComplaintStatus.CLOSED, decision="dismissed", reply="已按标准发放",
        closed_on=c.received_on, closed_at=clock.now(),
    )  # fmt: skip
    c.refresh_from_db()
    return c


def _payload(_household: Household) -> dict[str, Any]:
    return {"category": "amount", "channel": "visit", "content": "补助金额有误"}


# -- what the allowed request visibly did --------------------------------------------


def _recorded(response: Any, _household: Household, target: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="complaint-form"' in response.content.decode()
        return
    assert response.status_code == 302, response.content.decode()[:3000]
    made = Complaint.objects.get(content="补助金额有误")
    assert response["Location"].endswith(f"/complaints/{made.pk}/")
    assert made.recorded_by.username == "alice" and made.owner.username == "carol"
    linked = made.household or made.notice or made.application or made.payment
    assert linked == target


def _shown(response: Any, _household: Household, c: Complaint) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert "慰问金比邻居少" in page and f"#{c.pk}" in page


def _assigned(response: Any, _household: Household, c: Complaint) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    c.refresh_from_db()
    assert c.owner.username == "alice"
    assert c.changes.last().actor.username == "carol"


def _replied(response: Any, _household: Household, c: Complaint) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    c.refresh_from_db()
    assert (c.status, c.reply) == (ComplaintStatus.HANDLING, "已核实，补发差额")


def _closed(response: Any, _household: Household, c: Complaint) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    c.refresh_from_db()
    assert (c.status, c.decision, c.on_time) == (ComplaintStatus.CLOSED, "partly", True)


def _reopened(response: Any, _household: Household, c: Complaint) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    c.refresh_from_db()
    assert (c.status, c.decision, c.closed_on) == (ComplaintStatus.HANDLING, "", None)


def _create(target: Any) -> Route:
    return Route(target, ("GET", "POST"), ("frank",), payload=_payload, allowed=_recorded)


def _chair(target: Any, payload: Any, allowed: Any) -> Route:
    return Route(
        target, ("POST",), NOT_HANDLERS, payload=payload, allowed=allowed,
        user="carol", outsider="ben",
    )  # fmt: skip


ROUTES: dict[str, Route] = {
    "programs:complaint_create_household": _create("household"),
    "programs:complaint_create_notice": _create(_notice),
    "programs:complaint_create_application": _create(_application),
    "programs:complaint_create_payment": _create(paid),
    "programs:complaint_detail": Route(complaint, ("GET",), ("frank",), allowed=_shown),
    "programs:complaint_assign": _chair(
        complaint, lambda h: {"owner": _user("alice").pk, "note": "请核实"}, _assigned
    ),
    "programs:complaint_reply": _chair(
        complaint, lambda h: {"reply": "已核实，补发差额"}, _replied
    ),
    "programs:complaint_close": _chair(
        complaint, lambda h: {"decision": "partly", "reply": "已补发差额"}, _closed
    ),
    "programs:complaint_reopen": _chair(closed, lambda h: {"reason": "投诉人不满意"}, _reopened),
}

PAGES: dict[str, Page] = {
    "programs:complaint_list": Page(("GET",), READERS, ("frank",)),
    "programs:complaint_statistics": Page(("GET",), READERS, ("frank",)),
    "reports:complaint_statistics": Page(("GET",), READERS, ("frank",)),
}
