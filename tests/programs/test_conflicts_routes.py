"""回避 through every URL that drafts, approves or pays aid, by crafted POSTs.

The permission walk (tests/test_permissions.py) lets each route's persona do
its work. Here the same persona, with the same payload, first registers a
relative whose ID number is the household head's: every route that
approves or pays now answers 403 with the reason and changes nothing but
the flag; every route that drafts goes through and flags the application.
A route added to the walk that moves aid must be named below."""

from typing import Any

import pytest
from django.urls import reverse

from cases.services.kin import kin_relative_add
from programs.models import ConflictFlag
from tests.builders import make_household
from tests.test_permissions import (
    ID_URLS,
    ROUTES,
    _request,
    make_attachment,
    row_counts,
    target_of,
)

# Routes on which a conflicted user is refused, and the step flagged.
REFUSED = {
    "programs:application_decide": "approve",
    "programs:application_return": "approve",
    "programs:batch_decide": "approve",
    "programs:aid_pay": "pay",
    "programs:loan_disburse": "pay",
    "programs:claim_vote": "approve",
    "programs:claim_pay": "pay",
    # 回访核实: taking a line and recording it are both the verifier's acts.
    "programs:verification_line": "verify",
    "programs:verification_line_take": "verify",
}
# Routes that draft: done, and flagged.
FLAGGED = {
    "programs:application_create": "draft",
    "programs:application_resubmit": "draft",
    "programs:batch_line_amend": "draft",
    "programs:claim_submit": "draft",
}
# Bookkeeping a refused request may add: the flag, its trail, the sign-in.
BOOKKEEPING = {"programs.ConflictFlag", "accounts.AuditEvent"}


@pytest.fixture
def people(alice, bob, carol, dave, erin, frank, ben, fay):
    return {p.username: p for p in (alice, bob, carol, dave, erin, frank, ben, fay)}


@pytest.fixture
def walked(units):
    """The permission walk's household (tests/conftest.py)."""
    return make_household(units["a1"], name="王秀兰")


def _recuse(user: Any, household: Any) -> None:
    kin_relative_add(actor=user, relation="spouse", name="王秀兰", id_number=household.id_number)


def _as_conflicted(client: Any, name: str, household: Any, people: dict[str, Any]) -> tuple:
    """The route's object and persona, the persona registered as kin of the
    household's head and signed in: (route, url, persona)."""
    route = ROUTES[name]
    if route.prepare is not None:
        route.prepare(household)
    obj = target_of(route, household, make_attachment(household))
    user = people[route.user]
    _recuse(user, household)
    client.force_login(user)
    return route, reverse(name, args=[obj.pk]), user


# The other id routes of programs decide no aid: they read, take money back
# (reversals, repayments, premiums), keep the roster, or send on drafts
# already flagged (batch_submit) or withdraw them.
NOT_DECIDING = {
    # 申请回避: the chair declares she must recuse (tests/programs/test_conflicts.py).
    "programs:application_recuse",
    "programs:aid_payment_reverse",
    "programs:application_detail",
    "programs:application_withdraw",
    "programs:batch_detail",
    "programs:batch_line_remove",
    "programs:batch_submit",
    # Complaints and verification cases are answered, not decided aid: a
    # cadre named in one never sees it (tests/programs/test_complaints_cadre.py).
    "programs:complaint_assign",
    "programs:complaint_close",
    "programs:complaint_create_application",
    "programs:complaint_create_household",
    "programs:complaint_create_notice",
    "programs:complaint_create_payment",
    "programs:complaint_detail",
    "programs:complaint_reopen",
    "programs:complaint_reply",
    "programs:verification_case",
    "programs:verification_sample",
    "programs:claim_detail",
    "programs:coop_detail",
    "programs:coop_enroll",
    "programs:household_money",
    "programs:loan_detail",
    "programs:member_add",
    "programs:member_edit",
    "programs:member_link",
    "programs:member_remove",
    "programs:payment_batch_bank_file",
    "programs:payment_batch_detail",
    "programs:payment_sheet",
    "programs:premium_record",
    "programs:premium_reverse",
    "programs:repayment_record",
    "programs:repayment_reverse",
    "programs:roster_import",
    "programs:roster_template",
}


def test_every_id_route_of_aid_is_classified():
    """A new route under programs/ must say here whether it decides aid."""
    ours = {n for n in ID_URLS if n.startswith("programs:")}
    assert ours - set(REFUSED) - set(FLAGGED) - NOT_DECIDING == set()
    assert not (set(REFUSED) | set(FLAGGED) | NOT_DECIDING) - ours


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_conflicted_user_is_refused_on_every_route(client, people, walked, name):
    route, url, user = _as_conflicted(client, name, walked, people)
    before = row_counts()
    response = _request(client, "POST", url, route, walked)
    assert response.status_code == 403, response.content.decode()[:2000]
    page = response.content.decode()
    assert "回避" in page and "王秀兰" in page  # the relative the user registered
    assert walked.id_number not in page
    after = row_counts()
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= BOOKKEEPING, changed
    flag = ConflictFlag.objects.get(user=user)
    assert (flag.step, flag.refused, flag.reasons) == (REFUSED[name], True, ["relative_id:spouse"])


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FLAGGED))
def test_a_conflicted_drafter_drafts_and_is_flagged(client, people, walked, name):
    route, url, user = _as_conflicted(client, name, walked, people)
    response = _request(client, "POST", url, route, walked)
    assert 200 <= response.status_code < 400, response.content.decode()[:2000]
    flag = ConflictFlag.objects.get(user=user)
    assert (flag.step, flag.refused) == (FLAGGED[name], False)
