"""Taking civil affairs' answer back: upload → check → confirm, as every
import does (`reports.imports`), then each household of the batch compared.

A household matches when civil affairs returned it and nothing differs.
Differences become suggestions (`CivilSuggestion`):

- civil affairs counts the household as 低保 or 特困 (or 低保边缘) while the
  union's tier is a lighter one → change the tier (`CIVIL_AFFAIRS_TIERS`
  says which national category each status means);
- the income civil affairs checked is higher than the file's monthly
  income → re-check the income;
- a member whose ID number was sent is not in the answer → verify the
  household's members.

ID numbers in the answer that the batch never sent are listed as unknown.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from accounts.money import yuan
from cases.import_sheet import CellError, probe
from cases.models import Member, Tier
from cases.models.household import private_storage

from ..imports import (
    claim_check,
    errors_xlsx,
    read_head,
    record_run,
    refusal_messages,
    refused_output,
    start_job,
    store_upload,
)
from ..jobs import JobOutput, Progress, job_kind
from ..models import (
    CivilBatch,
    CivilBatchStatus,
    CivilLine,
    CivilOutcome,
    CivilStatus,
    CivilSuggestion,
    CivilUnknown,
    Job,
    SuggestionKind,
)
from .export import batch_move, batch_refusal, require_exchange
from .sheet import Answer, read_comparison

CHECK_KIND = "civil_compare_check"
RUN_KIND = "civil_compare"
KINDS = (CHECK_KIND, RUN_KIND)

# Which national category each civil-affairs status means; the tier
# suggested is the first active tier of that category.
DEFAULT_TIERS = {"tekun": "deep", "dibao": "deep", "edge": "relative"}
# How hard a tier's national category is, to suggest only a heavier one.
CATEGORY_WEIGHT = {"deep": 3, "accident": 2, "relative": 2, "edge": 1}
STATUS_WEIGHT = {"tekun": 3, "dibao": 3, "edge": 2, "none": 0}


def _batch_for_upload(actor: User, batch: CivilBatch) -> None:
    require_exchange(actor, batch.unit)
    refusal = batch_refusal(batch, CivilBatchStatus.COMPARED)
    if refusal is not None:
        raise ValidationError(refusal)


def compare_check_start(*, actor: User, batch: CivilBatch, upload: UploadedFile) -> Job:
    """Accept civil affairs' answer for checking: refuse at once what is not
    an .xlsx under 10 MB, keep it privately, and run (or queue) the check."""
    _batch_for_upload(actor, batch)
    name = read_head(upload)
    rows = probe(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    stored = store_upload(actor, upload)
    params = {
        "upload": stored,
        "filename": name[:200],
        "rows": rows,
        "batch": batch.pk,
        "sha256": digest.hexdigest(),
    }
    title = _("检查民政比对结果 %(name)s") % {"name": name[:150]}
    return start_job(actor=actor, kind=CHECK_KIND, title=title, params=params)


def compare_confirm(*, actor: User, check: Job) -> Job:
    """Write a checked answer: once, only if the check found nothing wrong,
    only by the person who uploaded it."""
    batch = CivilBatch.objects.select_related("unit").get(pk=check.params["batch"])
    _batch_for_upload(actor, batch)
    locked = claim_check(actor=actor, check=check, kinds=(CHECK_KIND,))
    params = {**locked.params, "rows": locked.result.get("total", 0), "check_job": locked.pk}
    title = _("导入民政比对结果 %(name)s") % {"name": params.get("filename", "")[:150]}
    run = start_job(actor=actor, kind=RUN_KIND, title=title, params=params)
    record_run(locked, run)
    return run


# -- comparing ---------------------------------------------------------------------------


@dataclass
class Plan:
    """What the answer says of each household of the batch."""

    lines: list[CivilLine] = field(default_factory=list)
    suggestions: list[CivilSuggestion] = field(default_factory=list)
    unknown: list[Answer] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        outcomes = [line.outcome for line in self.lines]
        return {
            "sent": len(self.lines),
            "matched": outcomes.count(CivilOutcome.MATCHED),
            "differs": outcomes.count(CivilOutcome.DIFFERS),
            "missing": outcomes.count(CivilOutcome.MISSING),
            "suggestions": len(self.suggestions),
            "unknown": len(self.unknown),
        }


def _tier_targets() -> dict[str, Tier]:
    mapping = {**DEFAULT_TIERS, **getattr(settings, "CIVIL_AFFAIRS_TIERS", {})}
    tiers = list(Tier.objects.filter(is_active=True).order_by("sort_order", "id"))
    targets: dict[str, Tier] = {}
    for status, category in mapping.items():
        tier = next((t for t in tiers if t.national_category == category), None)
        if tier is not None:
            targets[status] = tier
    return targets


def _weight(tier: Tier | None) -> int:
    return CATEGORY_WEIGHT.get(tier.national_category, 0) if tier is not None else 0


def plan(batch: CivilBatch, answers: Iterable[Answer]) -> Plan:
    """Compare every household sent with the answer; nothing is written."""
    by_id = {a.id_number: a for a in answers}
    lines = list(
        CivilLine.objects.filter(batch=batch, included=True)
        .select_related("household__tier")
        .order_by("id")
    )
    member_ids = [pk for line in lines for pk in line.member_ids]
    members: dict[int, Member] = {m.pk: m for m in Member.objects.filter(pk__in=member_ids)}
    targets = _tier_targets()
    result = Plan()
    used: set[str] = set()
    for line in lines:
        household = line.household
        sent = [members[pk] for pk in line.member_ids if pk in members and members[pk].id_number]
        used.add(household.id_number)
        used.update(m.id_number for m in sent)
        head = by_id.get(household.id_number)
        rows = [r for r in [head, *(by_id.get(m.id_number) for m in sent)] if r is not None]
        result.lines.append(line)
        if not rows:
            line.outcome = CivilOutcome.MISSING
            continue
        primary = head or rows[0]
        status = max(rows, key=lambda r: STATUS_WEIGHT.get(r.status, 0)).status
        line.civil_status = status
        line.civil_amount = primary.amount
        line.civil_income = primary.income
        line.checked_on = primary.checked_on
        found = _suggestions(batch, line, status, primary, sent, by_id, targets)
        result.suggestions += found
        line.outcome = CivilOutcome.DIFFERS if found else CivilOutcome.MATCHED
    result.unknown = [a for a in by_id.values() if a.id_number not in used]
    return result


def _suggestions(
    batch: CivilBatch,
    line: CivilLine,
    status: str,
    primary: Answer,
    sent: list[Member],
    by_id: dict[str, Answer],
    targets: dict[str, Tier],
) -> list[CivilSuggestion]:
    household = line.household
    found: list[CivilSuggestion] = []

    def suggest(kind: str, **values: Any) -> None:
        found.append(
            CivilSuggestion(batch=batch, line=line, household=household, kind=kind, **values)
        )

    target = targets.get(status)
    if target is not None and _weight(target) > _weight(household.tier):
        suggest(SuggestionKind.TIER, tier_from=household.tier, tier_to=target)
    file_income = yuan(Decimal(household.annual_income) / 12)
    if primary.income is not None and primary.income > file_income:
        suggest(SuggestionKind.RECHECK, file_income=file_income, checked_income=primary.income)
    for member in sent:
        if member.id_number not in by_id:
            suggest(SuggestionKind.MEMBER, member=member)
    return found


# -- the job kinds -----------------------------------------------------------------------


def _output(job: Job, *, total: int, errors: list[CellError], counts: dict[str, int]) -> JobOutput:
    filename = job.params.get("filename", "")
    result: dict[str, Any] = {
        "ok": not errors,
        "total": total,
        "valid": total - len({e.row for e in errors if e.row and e.row > 1}),
        "imported": counts.get("sent", 0) if job.kind == RUN_KIND and not errors else 0,
        "units": {},
        "errors": [e.as_list() for e in errors],
        "filename": filename,
        "civil": counts,
        "batch": job.params.get("batch"),
    }
    if errors:
        return refused_output(filename, len(errors), errors_xlsx(errors), result)
    if job.kind == RUN_KIND:
        message = _("已导入比对结果：一致 %(m)s 户，有差异 %(d)s 户，民政未返回 %(x)s 户。") % {
            "m": counts["matched"],
            "d": counts["differs"],
            "x": counts["missing"],
        }
    else:
        message = _("检查通过：共 %(n)s 行，可导入。") % {"n": total}
    return JobOutput(message=message, result=result)


def _process(job: Job, progress: Progress, *, dry_run: bool) -> JobOutput:
    actor = job.created_by
    storage = private_storage()
    batch = CivilBatch.objects.select_related("unit").get(pk=job.params["batch"])
    try:
        require_exchange(actor, batch.unit)
        with storage.open(job.params["upload"], "rb") as source:
            comparison = read_comparison(source)
    except (ValidationError, PermissionDenied) as exc:
        storage.delete(job.params["upload"])
        errors = [CellError(None, "", m) for m in refusal_messages(exc)]
        return _output(job, total=0, errors=errors, counts={})
    progress(comparison.total // 2, comparison.total or 1)
    if comparison.errors:
        storage.delete(job.params["upload"])
        return _output(job, total=comparison.total, errors=comparison.errors, counts={})
    found = plan(batch, comparison.answers)
    if not dry_run:
        _write(actor, batch, found, job)
        storage.delete(job.params["upload"])
    return _output(job, total=comparison.total, errors=[], counts=found.counts())


@transaction.atomic
def _write(actor: User, batch: CivilBatch, found: Plan, job: Job) -> None:
    locked = CivilBatch.objects.select_for_update(no_key=True).get(pk=batch.pk)
    moved = batch_move(locked, CivilBatchStatus.COMPARED)
    CivilLine.objects.bulk_update(
        found.lines,
        ["outcome", "civil_status", "civil_amount", "civil_income", "checked_on"],
        batch_size=1000,
    )
    CivilSuggestion.objects.bulk_create(found.suggestions, batch_size=1000)
    CivilUnknown.objects.bulk_create(
        [
            CivilUnknown(batch=locked, id_number=a.id_number, civil_status=a.status, row=a.row)
            for a in found.unknown
        ],
        batch_size=1000,
    )
    locked.compared_at = timezone.now()
    locked.compared_by = actor
    locked.comparison_filename = job.params.get("filename", "")[:200]
    locked.comparison_sha256 = job.params.get("sha256", "")
    locked.save()
    audit_record(
        actor=actor,
        action="civil.compare",
        obj=locked,
        unit=locked.unit,
        changes={**moved, **{key: [None, value] for key, value in found.counts().items()}},
    )


@job_kind(CHECK_KIND)
def compare_check_job(job: Job, progress: Progress) -> JobOutput:
    return _process(job, progress, dry_run=True)


@job_kind(RUN_KIND)
def compare_run_job(job: Job, progress: Progress) -> JobOutput:
    return _process(job, progress, dry_run=False)


def status_label(value: str) -> str:
    return str(CivilStatus(value).label) if value else ""
