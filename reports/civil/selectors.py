"""Reads of the civil-affairs round trip, always within the person's scope.

A batch belongs to the union it was made for. Chairs who may exchange data
with civil affairs, and caseworkers who review the suggestions, see the
batches of the unions their role covers; anyone else gets 403, and a batch
of another union 404.
"""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Unit, User
from accounts.scoping import get_scoped, require_action, roles_for, scope_q

from ..models import (
    CivilBatch,
    CivilLine,
    CivilOutcome,
    CivilSuggestion,
    CivilUnknown,
    SuggestionStatus,
)
from .export import EXCHANGE
from .review import REVIEW

VIEW_ACTIONS = (EXCHANGE, REVIEW)


def require_viewer(user: User) -> None:
    if not any(roles_for(user, action) for action in VIEW_ACTIONS):
        require_action(user, EXCHANGE)  # raises PermissionDenied


def batches_for(user: User) -> QuerySet[CivilBatch]:
    require_viewer(user)
    scope = scope_q(user, VIEW_ACTIONS, "unit__")
    batches = CivilBatch.objects.select_related("unit", "created_by").order_by("-id")
    return batches.filter(scope) if scope is not None else batches.none()


def get_batch_for(
    user: User, pk: object, *, action: str | tuple[str, ...] = VIEW_ACTIONS
) -> CivilBatch:
    return get_scoped(
        user,
        CivilBatch.objects.select_related("unit", "created_by", "compared_by", "job"),
        pk,
        action=action,
    )


def get_suggestion_for(user: User, pk: object) -> CivilSuggestion:
    return get_scoped(
        user,
        CivilSuggestion.objects.select_related("household__unit", "batch"),
        pk,
        action=REVIEW,
        unit_field="household__unit",
    )


def _changed() -> Exists:
    return Exists(
        CivilSuggestion.objects.filter(line=OuterRef("pk"), status=SuggestionStatus.ACCEPTED)
    )


def batch_figures(batch: CivilBatch) -> dict[str, Any]:
    """Per union of the batch and in total: households considered, checked
    (sent), left out, matched, with differences, not returned, changed (a
    suggestion accepted); and the suggestions by their state. Two queries."""
    sent = Q(included=True)
    rows = list(
        CivilLine.objects.filter(batch=batch)
        .alias(has_change=_changed())
        .values("unit_id")
        .annotate(
            considered=Count("pk"),
            checked=Count("pk", filter=sent),
            left_out=Count("pk", filter=Q(included=False)),
            matched=Count("pk", filter=Q(outcome=CivilOutcome.MATCHED)),
            differs=Count("pk", filter=Q(outcome=CivilOutcome.DIFFERS)),
            missing=Count("pk", filter=Q(outcome=CivilOutcome.MISSING)),
            changed=Count("pk", filter=Q(has_change=True)),
        )
        .order_by("unit_id")
    )
    names = dict(Unit.objects.filter(pk__in=[r["unit_id"] for r in rows]).values_list("pk", "name"))
    keys = ("considered", "checked", "left_out", "matched", "differs", "missing", "changed")
    total = {key: sum(r[key] for r in rows) for key in keys}
    for row in rows:
        row["unit"] = names.get(row["unit_id"], "")
    states = dict(
        CivilSuggestion.objects.filter(batch=batch)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    suggestions = {s.value: states.get(s.value, 0) for s in SuggestionStatus}
    suggestions["all"] = sum(suggestions.values())
    total["unknown"] = CivilUnknown.objects.filter(batch=batch).count()
    return {"units": rows, "total": total, "suggestions": suggestions}


def list_figures(batches: list[CivilBatch]) -> dict[int, dict[str, int]]:
    """Matched, with differences and changed households of each batch on a
    list page, in one query."""
    rows = (
        CivilLine.objects.filter(batch_id__in=[b.pk for b in batches], included=True)
        .alias(has_change=_changed())
        .values("batch_id")
        .annotate(
            matched=Count("pk", filter=Q(outcome=CivilOutcome.MATCHED)),
            differs=Count("pk", filter=Q(outcome=CivilOutcome.DIFFERS)),
            changed=Count("pk", filter=Q(has_change=True)),
        )
        .order_by()
    )
    return {row.pop("batch_id"): row for row in rows}


def left_out(batch: CivilBatch) -> QuerySet[CivilLine]:
    """The households not sent for lack of a signed consent."""
    return (
        CivilLine.objects.filter(batch=batch, included=False)
        .select_related("household", "unit")
        .order_by("id")
    )


def unknown(batch: CivilBatch) -> QuerySet[CivilUnknown]:
    return CivilUnknown.objects.filter(batch=batch).order_by("id")


def lines(batch: CivilBatch, outcome: str = "") -> QuerySet[CivilLine]:
    found = CivilLine.objects.filter(batch=batch, included=True)
    if outcome:
        found = found.filter(outcome=outcome)
    return found.select_related("household__tier", "unit").order_by("id")


def suggestions(
    batch: CivilBatch, *, kind: str = "", status: str = ""
) -> QuerySet[CivilSuggestion]:
    found = CivilSuggestion.objects.filter(batch=batch)
    if kind:
        found = found.filter(kind=kind)
    if status:
        found = found.filter(status=status)
    return found.select_related(
        "household__unit", "household__tier", "line", "member", "tier_from", "tier_to", "decided_by"
    ).order_by("id")
