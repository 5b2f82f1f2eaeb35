"""Separation of duties: the part a person had in one piece of aid.

The payer may not have drafted or approved it; the verifier who calls the
family back, and the chair who closes a verification case, may have had no
part in it at all. All three ask `part_in`, so "had a hand in it" means the
same everywhere: drafting the application, a decision on it, a committee
vote on a mutual-aid claim (which stands in for the chair's approval), and
paying it."""

from enum import StrEnum

from ..models import AidPayment, Application


class Part(StrEnum):
    PAID = "paid"
    DRAFTED = "drafted"
    APPROVED = "approved"
    VOTED = "voted"


def part_in(
    user_id: int, application: Application, payment: AidPayment | None = None
) -> Part | None:
    """The first part `user_id` had in the application (and its payment, when
    given), or None. Reads the decisions and the claim's votes through their
    relations, so a list that prefetched them asks no query per row."""
    if payment is not None and payment.paid_by_id == user_id:
        return Part.PAID
    if application.drafted_by_id == user_id:
        return Part.DRAFTED
    if any(d.actor_id == user_id for d in application.decisions.all()):
        return Part.APPROVED
    claim = getattr(application, "claim", None)
    if claim is not None and any(v.voter_id == user_id for v in claim.votes.all()):
        return Part.VOTED
    return None
