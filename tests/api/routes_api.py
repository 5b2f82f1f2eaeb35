"""The API permission walk's tables (tests/api/test_api_permissions.py).

Every URL under /api/v1/ has an entry here; the walk fails on one without.
Object URLs name what the id points at (built in the walk household's union)
and who may reach it; the others name who is let in and who is refused.
Personas as in tests/conftest.py, plus `nobody`, a user without any role."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

from django.db.models import Model

from accounts.masking import mask_id_number
from accounts.models import Unit, User
from cases import clock
from cases.models import Helper, Household, HouseholdStatus, Member, Visit
from programs.models import Application, Program, StandardAmount
from tests.builders import make_id, roster_person
from tests.funds.routes_funds import make_fund
from tests.programs.routes_payments import approved, paid


@dataclass
class ApiRoute:
    """An URL with an object id."""

    target: Callable[[Household], Model]
    methods: tuple[str, ...]
    refused: tuple[str, ...]  # personas without the role: 403
    user: str = "alice"
    outsider: str = "bob"  # same role, another county: 404
    payload: Callable[[Household], Any] | None = None
    # What the allowed answer shows, checked on its JSON.
    allowed: Callable[[Any, Household, Any], None] | None = None


@dataclass
class ApiPage:
    """An URL without an id: a list, a write, or the schema."""

    methods: tuple[str, ...]
    allowed: tuple[str, ...]
    refused: tuple[str, ...] = ()
    # A write naming an object of the walk household's union in its body:
    # the outsider gets 404 for it, as for an object URL.
    payload: Callable[[Household], Any] | None = None
    outsider: str = ""
    # For a list: the walk household's row is in the allowed persona's page,
    # never in the outsider's (`hidden_from`).
    row: Callable[[Household], int] | None = None
    hidden_from: tuple[str, ...] = field(default_factory=tuple)
    anonymous: int = 401


def filed(household: Household) -> Household:
    Household.objects.filter(pk=household.pk).update(
        status=HouseholdStatus.FILED, filed_on=clock.today()
    )
    household.refresh_from_db()
    return household


def helper(household: Household) -> Helper:
    filed(household)
    alice = User.objects.get(username="alice")
    found = Helper.objects.filter(household=household).first()
    return found or Helper.objects.create(
        household=household,
        person=roster_person(household.unit, alice),
        user=alice,
        role="union_cadre",
        is_first=True,
        start_on=clock.today(),
    )


def visit(household: Household) -> Visit:
    found = Visit.objects.filter(household=household).first()
    return found or Visit.objects.create(
        household=household,
        visitor=User.objects.get(username="alice"),
        visited_on=clock.today(),
        needs="需要冬衣",
    )


def program(household: Household) -> Program:
    """A living-aid program of the household's own union, with a standard."""
    found, created = Program.objects.get_or_create(
        unit=household.unit, name="春节送温暖", defaults={"category": "festival", "kind": "cash"}
    )
    if created and household.tier_id:
        StandardAmount.objects.create(program=found, tier_id=household.tier_id, amount=D("800"))
    return found


def application(household: Household) -> Application:
    found = Application.objects.filter(household=household).first()
    return found or approved(household)


def visit_payload(household: Household) -> dict[str, Any]:
    filed(household)
    return {
        "household": household.pk,
        "visited_on": clock.today().isoformat(),
        "kind": "home",
        "knows_name": True,
        "needs": "需要冬衣",
    }


def application_payload(household: Household) -> dict[str, Any]:
    filed(household)
    return {"household": household.pk, "program": program(household).pk, "reason": "冬季困难"}


def unit_of(household: Household) -> Unit:
    return household.unit


def _shows_household(body: Any, household: Household, _obj: Any) -> None:
    assert body["id"] == household.pk and body["name"] == household.name
    assert body["id_number"] != household.id_number  # masked, as on the page


def _revealed(body: Any, household: Household, _obj: Any) -> None:
    assert body == {"field": "id_number", "value": household.id_number}


def _shows_id(body: Any, _household: Household, obj: Any) -> None:
    assert body["id"] == obj.pk


def with_member(household: Household) -> Household:
    """The household with one member, for the member list's check."""
    Member.objects.create(household=household, name="王小明", relation="child", id_number=make_id())
    return household


def _members(body: Any, household: Household, _obj: Any) -> None:
    member = household.members.get()
    assert [(m["id"], m["name"]) for m in body] == [(member.pk, member.name)]
    # Masked as on the household page: never the full number in a list.
    assert body[0]["id_number"] == mask_id_number(member.id_number) != member.id_number


def _entries(body: Any, _household: Household, fund: Any) -> None:
    assert body["results"] and {r["kind"] for r in body["results"]} == {"receipt"}


NO_HOUSEHOLD_ROLE = ("frank",)  # the system administrator reads no household files
NO_FUND_ROLE = ("alice", "frank")  # caseworkers and the administrator: no money pages

ROUTES: dict[str, ApiRoute] = {
    "api:unit-detail": ApiRoute(unit_of, ("GET",), ("nobody",), allowed=_shows_id),
    "api:household-detail": ApiRoute(
        lambda h: h, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_shows_household
    ),
    "api:household-members": ApiRoute(with_member, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_members),
    # A full value takes a role that sees unmasked data: the auditor without
    # that grant is refused like someone without any role.
    "api:household-reveal": ApiRoute(
        lambda h: h,
        ("POST",),
        (*NO_HOUSEHOLD_ROLE, "erin"),
        payload=lambda h: {"field": "id_number"},
        allowed=_revealed,
    ),
    "api:helper-detail": ApiRoute(helper, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_shows_id),
    "api:visit-detail": ApiRoute(visit, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_shows_id),
    "api:program-detail": ApiRoute(program, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_shows_id),
    "api:application-detail": ApiRoute(application, ("GET",), NO_HOUSEHOLD_ROLE, allowed=_shows_id),
    "api:fund-detail": ApiRoute(
        make_fund, ("GET",), NO_FUND_ROLE, user="dave", outsider="fay", allowed=_shows_id
    ),
    "api:fund-entries": ApiRoute(
        make_fund, ("GET",), NO_FUND_ROLE, user="dave", outsider="fay", allowed=_entries
    ),
    "api:payment-detail": ApiRoute(
        paid, ("GET",), NO_FUND_ROLE, user="dave", outsider="fay", allowed=_shows_id
    ),
}

EVERYONE = ("alice", "bob", "carol", "dave", "erin", "frank")
READERS = ("alice", "bob", "carol", "dave", "erin")

PAGES: dict[str, ApiPage] = {
    "api:me": ApiPage(("GET",), (*EVERYONE, "nobody")),
    "api:schema": ApiPage(("GET",), ("alice", "nobody")),
    "api:docs": ApiPage(("GET",), ("alice",), anonymous=302),
    # Any other path under /api/v1/: a JSON 404 for everyone.
    "api:not_found": ApiPage(("GET", "POST"), (), anonymous=404),
    "api:statistics": ApiPage(("GET",), READERS, NO_HOUSEHOLD_ROLE),
    "api:unit-list": ApiPage(
        ("GET",), EVERYONE, ("nobody",), row=lambda h: h.unit_id, hidden_from=("bob",)
    ),
    "api:household-list": ApiPage(
        ("GET",), READERS, NO_HOUSEHOLD_ROLE, row=lambda h: h.pk, hidden_from=("bob",)
    ),
    "api:helper-list": ApiPage(
        ("GET",), READERS, NO_HOUSEHOLD_ROLE, row=lambda h: helper(h).pk, hidden_from=("bob",)
    ),
    "api:visit-list": ApiPage(
        ("GET", "POST"),
        READERS,
        NO_HOUSEHOLD_ROLE,
        row=lambda h: visit(h).pk,
        hidden_from=("bob",),
        payload=visit_payload,
        outsider="bob",
    ),
    "api:program-list": ApiPage(
        ("GET",), READERS, NO_HOUSEHOLD_ROLE, row=lambda h: program(h).pk, hidden_from=("bob",)
    ),
    "api:application-list": ApiPage(
        ("GET", "POST"),
        READERS,
        NO_HOUSEHOLD_ROLE,
        row=lambda h: application(h).pk,
        hidden_from=("bob",),
        payload=application_payload,
        outsider="bob",
    ),
    "api:fund-list": ApiPage(
        ("GET",),
        ("carol", "dave", "erin", "fay"),
        NO_FUND_ROLE,
        row=lambda h: make_fund(h).pk,
        hidden_from=("fay",),
    ),
    "api:payment-list": ApiPage(
        ("GET",),
        ("carol", "dave", "erin", "fay"),
        NO_FUND_ROLE,
        row=lambda h: paid(h).pk,
        hidden_from=("fay",),
    ),
}

# Who may write, of the personas let into a list: the rest are refused (403).
WRITERS = {"api:visit-list": ("alice", "carol"), "api:application-list": ("alice", "carol")}
