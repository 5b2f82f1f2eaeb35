"""Permission-walk entries for the applications and batches URLs (see
tests/test_permissions.py).

Drafting, amending, submitting, withdrawing and resubmitting are the
caseworker's (alice); deciding and returning are the chair's (carol, with ben
as the chair of the other county).
Objects are built directly: the walk is about who may act on them."""

from decimal import Decimal
from typing import Any

from accounts.models import User
from cases import clock
from cases.models import Household, HouseholdStatus
from programs.models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchStatus,
    Program,
    StandardAmount,
)
from tests.permission_routes import Page, Route

S = ApplicationStatus
EDITORS_WITHOUT_ROLE = ("erin", "dave", "frank")
DECIDERS_WITHOUT_ROLE = ("alice", "erin", "dave", "frank")
READERS = ("alice", "bob", "carol", "dave", "erin")


def _file(household: Household) -> None:
    Household.objects.filter(pk=household.pk).update(
        status=HouseholdStatus.FILED, filed_on=clock.today()
    )
    household.refresh_from_db()


def _program(household: Household) -> Program:
    """A city-wide program open all year, 1000 yuan for the household's tier."""
    root = household.unit
    while root.parent is not None:
        root = root.parent
    program, created = Program.objects.get_or_create(
        unit=root, name="走访慰问", defaults={"category": "festival", "kind": "cash"}
    )
    if created or not program.amounts.filter(tier=household.tier).exists():
        StandardAmount.objects.create(program=program, tier=household.tier, amount=Decimal("1000"))
    return program


def _alice() -> User:
    return User.objects.get(username="alice")


def _application(household: Household, **fields: Any) -> Application:
    values: dict[str, Any] = {
        "program": _program(household),
        "household": household,
        "year": clock.today().year,
        "status": S.PENDING,
        "standard_amount": Decimal("1000"),
        "amount": Decimal("1000"),
        "drafted_by": _alice(),
    }
    values.update(fields)
    return Application.objects.create(**values)


def _batch(household: Household, status: str = BatchStatus.DRAFT) -> Batch:
    return Batch.objects.create(
        unit=household.unit,
        program=_program(household),
        title="春节送温暖",
        year=clock.today().year,
        status=status,
        created_by=_alice(),
    )


def _draft_line(household: Household) -> Application:
    return _application(household, batch=_batch(household), status=S.DRAFT)


def _submitted_batch(household: Household) -> Batch:
    batch = _batch(household, BatchStatus.SUBMITTED)
    _application(household, batch=batch, status=S.PENDING)
    return batch


# -- what the allowed request visibly did -------------------------------------------


def _created(response: Any, household: Household, _obj: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="application-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:3000]
        app = Application.objects.get(household=household)
        assert (app.status, app.amount, app.drafted_by.username) == (S.PENDING, 1000, "alice")


def _shown(response: Any, household: Household, _obj: Any) -> None:
    assert response.status_code == 200
    assert household.name in response.content.decode()


def _decided(response: Any, _household: Household, obj: Any) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    app = obj if isinstance(obj, Application) else obj.lines.get()
    app.refresh_from_db()
    assert app.status == S.APPROVED
    assert app.decisions.get().actor.username == "carol"


def _withdrawn(response: Any, _household: Household, app: Application) -> None:
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN


def _amended(response: Any, _household: Household, app: Application) -> None:
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.amount, app.amount_reason) == (Decimal("1500"), "重病住院")


def _submitted(response: Any, _household: Household, batch: Batch) -> None:
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED
    assert batch.lines.get().status == S.PENDING


def _returned(household: Household) -> Application:
    return _application(household, status=S.RETURNED)


def _sent_back(response: Any, _household: Household, app: Application) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert app.status == S.RETURNED
    change = app.status_changes.get()
    assert (change.actor.username, change.reason) == ("carol", "请补充诊断证明")


def _resubmitted(response: Any, _household: Household, app: Application) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="application-form"' in response.content.decode()
        return
    assert response.status_code == 302, response.content.decode()[:3000]
    app.refresh_from_db()
    assert (app.status, app.submission, app.reason) == (S.PENDING, 2, "已补充诊断证明")


def _prepare_for_program(household: Household) -> None:
    _file(household)
    _program(household)


ROUTES: dict[str, Route] = {
    "programs:application_create": Route(
        "household",
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"program": _program(h).pk, "amount": "", "reason": "春节慰问"},
        allowed=_created,
        prepare=_prepare_for_program,
    ),
    "programs:application_detail": Route(_application, ("GET",), ("frank",), allowed=_shown),
    "programs:application_decide": Route(
        _application,
        ("POST",),
        DECIDERS_WITHOUT_ROLE,
        payload=lambda h: {"decision": "approve", "note": ""},
        allowed=_decided,
        user="carol",
        outsider="ben",
    ),
    "programs:application_withdraw": Route(
        _application,
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"reason": "家庭情况好转"},
        allowed=_withdrawn,
    ),
    "programs:application_return": Route(
        _application,
        ("POST",),
        DECIDERS_WITHOUT_ROLE,
        payload=lambda h: {"reason": "请补充诊断证明"},
        allowed=_sent_back,
        user="carol",
        outsider="ben",
    ),
    "programs:application_resubmit": Route(
        _returned,
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"program": _program(h).pk, "amount": "", "reason": "已补充诊断证明"},
        allowed=_resubmitted,
        prepare=_prepare_for_program,
    ),
    "programs:batch_detail": Route(_submitted_batch, ("GET",), ("frank",), allowed=_shown),
    "programs:batch_line_amend": Route(
        _draft_line,
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"amount": "1500", "amount_reason": "重病住院"},
        allowed=_amended,
        prepare=_file,
    ),
    "programs:batch_line_remove": Route(
        _draft_line,
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"reason": "已另行慰问"},
        allowed=_withdrawn,
    ),
    "programs:batch_submit": Route(
        lambda h: _draft_line(h).batch,  # type: ignore[arg-type, return-value]
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {},
        allowed=_submitted,
    ),
    "programs:batch_decide": Route(
        _submitted_batch,
        ("POST",),
        DECIDERS_WITHOUT_ROLE,
        payload=lambda h: {"decision": "approve", "note": "", "scope": "all"},
        allowed=_decided,
        user="carol",
        outsider="ben",
    ),
}

PAGES: dict[str, Page] = {
    "programs:application_list": Page(("GET",), READERS, ("frank",)),
    "programs:batch_list": Page(("GET",), READERS, ("frank",)),
    "programs:batch_create": Page(("GET", "POST"), ("alice", "carol"), EDITORS_WITHOUT_ROLE),
}
