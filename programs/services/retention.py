"""The programs' part of anonymising a closed file past its retention date
(see cases.services.retention): where a payment went, the application and
claim texts, and the household's mutual-aid memberships. Amounts, dates,
programs and the ledger's figures stay as they are.

The append-only records of the file's money (ledger entries, approval
decisions, committee votes, application history, and the audit events of
its roster entries and reversals) keep every row and figure; only the
names, ID numbers and phones in their text, and what a person typed, are
replaced, inside `pgtrigger.ignore` for exactly those tables."""

from importlib import import_module

import pgtrigger
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from cases.models import Household
from cases.services.retention import (
    ANONYMISED,
    Redactor,
    SystemText,
    audit_redact,
    placeholder_id,
    rewrite_rows,
)
from funds.models import Fund, LedgerEntry

from ..models import (
    AidPayment,
    Application,
    ApplicationStatusChange,
    Claim,
    ClaimVote,
    CoopMember,
    Decision,
    Loan,
    Premium,
    Repayment,
    VerificationCase,
    VerificationLine,
)

LEDGER_TRIGGER = "funds.LedgerEntry:ledger_append_only"
DECISION_TRIGGER = "programs.Decision:decision_append_only"
VOTE_TRIGGER = "programs.ClaimVote:claim_vote_append_only"
APPLICATION_STATUS_TRIGGER = "programs.ApplicationStatusChange:application_status_append_only"

_backfill = import_module("programs.migrations.0012_backfill_application_history")
# Reasons in an application's history that the system wrote.
APPLICATION_TEXTS = (
    SystemText(_("从批次中移除")),
    SystemText(_backfill.REASON),
)
# A reversal's memo keeps its kind; the reason typed for it goes.
MEMO_TEXTS = (SystemText(_("冲正：%(r)s"), free="r"),)
DATE_REASON_TEXTS = (SystemText(_("发放记录迁移：%(s)s")),)


def _delete_after_commit(rows: list[AidPayment]) -> int:
    names = [(row.signed_sheet.storage, row.signed_sheet.name) for row in rows if row.signed_sheet]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])
    return len(names)


def _ledger_entry_ids(household: Household, members: list[CoopMember]) -> set[int]:
    """Every ledger entry about the household: its payments, repayments,
    premiums and claims, and the entries reversing them."""
    ids = set(LedgerEntry.objects.filter(household=household).values_list("pk", flat=True))
    for entry, reversal in AidPayment.objects.filter(application__household=household).values_list(
        "entry_id", "reversal_id"
    ):
        ids.update((entry, reversal))
    ids.update(
        Repayment.objects.filter(loan__household=household).values_list("entry_id", flat=True)
    )
    for entry, reversal in Premium.objects.filter(member__in=members).values_list(
        "entry_id", "reversal_id"
    ):
        ids.update((entry, reversal))
    ids.update(Claim.objects.filter(member__in=members).values_list("entry_id", flat=True))
    ids.discard(None)  # type: ignore[arg-type]
    ids.update(LedgerEntry.objects.filter(reverses__in=ids).values_list("pk", flat=True))
    return ids


def _redact_protected(
    household: Household, members: list[CoopMember], redactor: Redactor
) -> dict[str, int]:
    entry_ids = _ledger_entry_ids(household, members)
    funds = set(LedgerEntry.objects.filter(pk__in=entry_ids).values_list("fund", flat=True))
    with pgtrigger.ignore(LEDGER_TRIGGER):
        entries = rewrite_rows(
            LedgerEntry.objects.filter(pk__in=entry_ids),
            {
                "memo": lambda memo: (
                    next(filter(None, (t.rewrite(memo, redactor) for t in MEMO_TEXTS)), None)
                    or redactor.text(memo)
                ),
                "payer": redactor.text,
                "donor": redactor.text,
                "date_reason": lambda text: redactor.free_text(text, DATE_REASON_TEXTS),
            },
        )
    with pgtrigger.ignore(DECISION_TRIGGER):
        decisions = rewrite_rows(
            Decision.objects.filter(application__household=household),
            {"note": redactor.free_text},
        )
    with pgtrigger.ignore(APPLICATION_STATUS_TRIGGER):
        changes = rewrite_rows(
            ApplicationStatusChange.objects.filter(application__household=household),
            {"reason": lambda reason: redactor.free_text(reason, APPLICATION_TEXTS)},
        )
    with pgtrigger.ignore(VOTE_TRIGGER):
        votes = rewrite_rows(
            ClaimVote.objects.filter(claim__member__in=members), {"note": redactor.free_text}
        )

    def targets(model: type, ids: object) -> Q:
        return Q(object_type=model._meta.label_lower, object_id__in=[str(pk) for pk in ids])  # type: ignore[attr-defined]

    about_people = AuditEvent.objects.filter(targets(CoopMember, [m.pk for m in members]))
    applications = Application.objects.filter(household=household)
    about_records = AuditEvent.objects.filter(
        targets(Application, applications.values_list("pk", flat=True))
        | targets(Loan, Loan.objects.filter(household=household).values_list("pk", flat=True))
        | targets(Claim, Claim.objects.filter(member__in=members).values_list("pk", flat=True))
        # A reversal is recorded on its fund, naming the entry and the reason.
        | Q(
            object_type=Fund._meta.label_lower,
            object_id__in=[str(pk) for pk in funds],
            action="ledger.reverse",
            changes__entry__0__in=list(entry_ids),
        )
    )
    events = audit_redact(about_people, redactor, of_person=True) + audit_redact(
        about_records, redactor, of_person=False
    )
    return {
        "redacted_ledger_entries": entries,
        "redacted_decisions": decisions,
        "redacted_application_status_changes": changes,
        "redacted_claim_votes": votes,
        "redacted_audit_events": events,
    }


def programs_anonymise(household: Household, redactor: Redactor) -> dict[str, int]:
    payments = AidPayment.objects.filter(application__household=household)
    files = _delete_after_commit(list(payments.exclude(signed_sheet="")))
    paid = payments.update(
        account_name="", bank_name="", bank_account="", signed_sheet="", reversal_reason=""
    )
    applications = Application.objects.filter(household=household).update(
        reason="", amount_reason=""
    )
    # What a verifier heard and a chair found (回访核实): typed text.
    lines = VerificationLine.objects.filter(household=household)
    verifications = lines.update(note="")
    VerificationCase.objects.filter(line__in=lines).exclude(resolution="").update(
        resolution=ANONYMISED
    )
    members = list(CoopMember.objects.filter(household=household))
    for member in members:
        redactor.add(member.name, member.id_number, member.phone)
    claims = Claim.objects.filter(member__in=members).update(reason=ANONYMISED)
    # The roster's one-ID-per-cooperative rule holds with a per-file placeholder.
    coop = CoopMember.objects.filter(pk__in=[m.pk for m in members]).update(
        name=ANONYMISED, id_number=placeholder_id(household), phone=""
    )
    return {
        "payments": paid,
        "payment_files": files,
        "applications": applications,
        "coop_members": coop,
        "claims": claims,
        "verifications": verifications,
        **_redact_protected(household, members, redactor),
    }
