"""回避 (conflict of interest): the guard every service calls before a user
approves, pays or verifies aid for a household.

Placeholder until the conflict-of-interest work lands: it finds no
conflicts. The signature is the contract the callers rely on."""

from django.core.exceptions import PermissionDenied

from accounts.models import User

from ..models import Application


class ConflictOfInterest(PermissionDenied):
    """The acting user is, or is close kin of, someone in the household."""


def conflict_guard(*, actor: User, application: Application, step: str) -> None:
    """Refuse `step` ("draft", "approve", "pay", "verify") when the actor has
    a conflict with the application's household, and flag the application.

    Call it first thing in a service, outside its `transaction.atomic`, so
    the flag it records survives the refusal."""
    return None
