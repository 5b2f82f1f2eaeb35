"""A caseworker's decision on one suggestion of a batch.

Accepting changes the household through the cases services, which keep
their own records: a tier change and a member removed are household
updates (audit trail), a re-check records civil affairs' checked income as
that month's household income (`monthly_income_record`, which re-applies
the exit rule). The decision itself (who, when, accepted or not, why) stays
on the suggestion and in the audit trail; a decided suggestion is never
decided again.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import covers
from cases.services.households import household_update
from cases.services.lifecycle import monthly_income_record

from ..models import CivilSuggestion, SuggestionKind, SuggestionStatus

REVIEW = "household.edit"
REASON_MAX = 500


def _apply(actor: User, suggestion: CivilSuggestion) -> None:
    household = suggestion.household
    if suggestion.kind == SuggestionKind.TIER:
        household_update(actor=actor, household=household, data={"tier": suggestion.tier_to})
    elif suggestion.kind == SuggestionKind.RECHECK:
        line = suggestion.line
        if line.checked_on is None or suggestion.checked_income is None:
            raise ValidationError(_("比对结果缺少核对日期或核对收入，无法记入月收入。"))
        monthly_income_record(
            actor=actor,
            household=household,
            month=line.checked_on,
            household_income=suggestion.checked_income,
            household_size=household.household_size,
        )
    elif suggestion.kind == SuggestionKind.MEMBER and suggestion.member_id is not None:
        household_update(
            actor=actor,
            household=household,
            data={"household_size": max(1, household.household_size - 1)},
            delete_member_ids=[suggestion.member_id],
        )


@transaction.atomic
def suggestion_decide(
    *, actor: User, suggestion: CivilSuggestion, accept: bool, reason: str
) -> CivilSuggestion:
    locked = (
        CivilSuggestion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("household__unit", "line", "tier_to", "member")
        .get(pk=suggestion.pk)
    )
    household = locked.household
    if not covers(actor, REVIEW, household.unit):
        raise PermissionDenied(_("您无权修改该家庭的档案。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写理由。")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("理由不能超过 %(n)s 个字。") % {"n": REASON_MAX}})
    if locked.status != SuggestionStatus.PENDING:
        raise ValidationError(
            _("该建议已经处理（%(s)s），不能重复处理。")
            % {"s": SuggestionStatus(locked.status).label}
        )
    if accept:
        _apply(actor, locked)
    status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.REJECTED
    locked.status = status
    locked.reason = reason
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="civil.suggestion.accept" if accept else "civil.suggestion.reject",
        obj=household,
        unit=household.unit,
        changes={
            "suggestion": [None, f"{locked.batch_id}/{locked.pk} {locked.get_kind_display()}"],
            "status": [SuggestionStatus.PENDING.value, status.value],
            "reason": [None, reason],
        },
    )
    return locked
