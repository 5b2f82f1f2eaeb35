"""Making a batch: the consenting households of a union, written in the
layout civil affairs asks for, and those left out for lack of consent.

`civil_export_start` records the batch and runs the `civil_export` job:
in the request for a small union, by the background worker for a big one
(as the imports decide, `reports.imports.start_job`). The job writes the
workbook, stores it with its SHA-256 and records every household
considered, sent or left out, in one transaction.
"""

import datetime
import hashlib
import io
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers
from accounts.xlsx import text_row
from cases import clock
from cases.models import Household, HouseholdStatus, Member, Tier
from cases.selectors.households import has_valid_consent

from ..imports import XLSX, start_job
from ..jobs import JobError, JobOutput, Progress, job_kind
from ..models import CivilBatch, CivilBatchStatus, CivilLine, Job
from .layouts import MEMBER_SEPARATOR, Layout, layouts

EXCHANGE = "civil.exchange"
EXPORT_KIND = "civil_export"
SHEET_TITLE = "报送名单"
# A repeated click within this time finds the batch already being made.
REPEAT_WINDOW = datetime.timedelta(minutes=5)


# A batch's life, one way only: made (生成中) → its file written (待民政返回)
# → civil affairs' answer taken (已导入比对结果).
BATCH_MOVES: dict[str, frozenset[str]] = {
    CivilBatchStatus.PREPARING: frozenset({CivilBatchStatus.EXPORTED}),
    CivilBatchStatus.EXPORTED: frozenset({CivilBatchStatus.COMPARED}),
    CivilBatchStatus.COMPARED: frozenset(),
}


def batch_refusal(batch: CivilBatch, to: str) -> str | None:
    """Why the batch may not move to `to` now, or None when it may."""
    if to in BATCH_MOVES[batch.status]:
        return None
    if batch.status == CivilBatchStatus.PREPARING:
        return _("该批次的报送文件还在生成，完成后才能导入比对结果。")
    if to == CivilBatchStatus.EXPORTED:
        return _("该批次的文件已经生成。")
    return _("该批次已经导入过比对结果，不能重复导入。")


def batch_move(locked: CivilBatch, to: str) -> dict[str, list[str]]:
    """Move a batch locked by the caller (select_for_update) to `to`, by the
    table above; the change for the caller's audit record, its history."""
    refusal = batch_refusal(locked, to)
    if refusal is not None:
        raise ValidationError(refusal)
    before, locked.status = locked.status, to
    return {"status": [before, to]}


def require_exchange(actor: User, unit: Unit) -> None:
    if not covers(actor, EXCHANGE, unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席可以报送或导入民政比对数据。"))


def candidates(unit: Unit, filters: dict[str, Any]) -> QuerySet[Household]:
    """The filed households of the union and every union below it that the
    filters pick, with or without a consent."""
    households = Household.objects.filter(
        unit__path__startswith=unit.path, status=HouseholdStatus.FILED
    )
    if filters.get("tier"):
        households = households.filter(tier_id=filters["tier"])
    return households


def civil_export_start(
    *, actor: User, unit: Unit, layout: str, tier: Tier | None = None
) -> CivilBatch:
    """Record a batch and make its file (now, or in the background for a
    union with many households)."""
    require_exchange(actor, unit)
    if not unit.is_active:
        raise ValidationError({"unit": _("该工会已停用。")})
    if layout not in layouts():
        raise ValidationError({"layout": _("请选择文件格式。")})
    filters = {"tier": tier.pk} if tier is not None else {}
    recent = (
        CivilBatch.objects.filter(
            created_by=actor,
            unit=unit,
            layout=layout,
            filters=filters,
            status=CivilBatchStatus.PREPARING,
            created_at__gte=timezone.now() - REPEAT_WINDOW,
        )
        .order_by("-id")
        .first()
    )
    if recent is not None:
        return recent  # a double click or a second tab: the same batch
    rows = candidates(unit, filters).count()
    if not rows:
        raise ValidationError({"unit": _("所选工会没有符合条件的已建档家庭。")})
    with transaction.atomic():
        batch = CivilBatch.objects.create(
            unit=unit, layout=layout, filters=filters, created_by=actor
        )
        audit_record(
            actor=actor,
            action="civil.batch.create",
            obj=batch,
            unit=unit,
            changes={"layout": [None, layout], "filters": [None, filters]},
        )
    title = _("民政比对报送文件 %(unit)s") % {"unit": unit.name}
    params = {"batch": batch.pk, "rows": rows}
    job = start_job(actor=actor, kind=EXPORT_KIND, title=title, params=params)
    CivilBatch.objects.filter(pk=batch.pk).update(job=job)
    batch.refresh_from_db()
    return batch


# -- the job ---------------------------------------------------------------------------


def _households(batch: CivilBatch) -> list[Household]:
    members = Member.objects.exclude(id_number="").order_by("id")
    return list(
        candidates(batch.unit, batch.filters)
        .annotate(consented=has_valid_consent())
        .select_related("unit")
        .prefetch_related(Prefetch("members", queryset=members, to_attr="sent_members"))
        .order_by("id")
    )


def _value(household: Household, field: str, person: tuple[str, str, str] | None) -> Any:
    members = getattr(household, "sent_members", [])
    if field == "name":
        return household.name
    if field == "id_number":
        return household.id_number
    if field == "address":
        return household.address
    if field == "household_size":
        return household.household_size
    if field == "member_id_numbers":
        return MEMBER_SEPARATOR.join(m.id_number for m in members)
    if field == "member_names":
        return MEMBER_SEPARATOR.join(m.name for m in members)
    if field == "unit":
        return household.unit.name
    if field == "file_number":
        return household.file_number or ""
    assert person is not None
    name, number, relation = person
    return {"person_name": name, "person_id_number": number, "person_relation": relation}[field]


def _people(household: Household) -> Iterable[tuple[str, str, str]]:
    yield household.name, household.id_number, _("户主")
    for member in getattr(household, "sent_members", []):
        yield member.name, member.id_number, str(member.get_relation_display())


def workbook(layout: Layout, households: Iterable[Household]) -> bytes:
    """The file civil affairs receives: one sheet, the layout's headers,
    every cell kept as text where a spreadsheet could take it for a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = "A2"
    for index, (_header, field) in enumerate(layout.columns, start=1):
        wide = field in ("address", "member_id_numbers", "member_names")
        sheet.column_dimensions[get_column_letter(index)].width = 40 if wide else 22
    sheet.append(text_row(sheet, layout.headers))
    for household in households:
        people: Iterable[tuple[str, str, str] | None] = (
            _people(household) if layout.per_person else (None,)
        )
        for person in people:
            values = [_value(household, field, person) for _h, field in layout.columns]
            sheet.append(text_row(sheet, values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@job_kind(EXPORT_KIND)
def civil_export_job(job: Job, progress: Progress) -> JobOutput:
    batch = CivilBatch.objects.select_related("unit").get(pk=job.params["batch"])
    actor = job.created_by
    # Asked again when the job runs: the role may have gone since.
    require_exchange(actor, batch.unit)
    layout = layouts().get(batch.layout)
    if layout is None:
        raise JobError(_("文件格式“%(l)s”已不再提供，请重新报送。") % {"l": batch.layout})
    households = _households(batch)
    progress(0, len(households))
    sent = [h for h in households if h.consented]  # type: ignore[attr-defined]
    content = workbook(layout, sent)
    digest = hashlib.sha256(content).hexdigest()
    progress(len(households) // 2, len(households))
    filename = f"民政比对_{batch.unit.code}_{clock.today():%Y%m%d}_{batch.pk}.xlsx"
    with transaction.atomic():
        locked = CivilBatch.objects.select_for_update(no_key=True).get(pk=batch.pk)
        refusal = batch_refusal(locked, CivilBatchStatus.EXPORTED)
        if refusal is not None:  # a retried run after the file was written
            return JobOutput(message=refusal, result={"batch": batch.pk})
        # A retried run starts the batch's list afresh.
        CivilLine.objects.filter(batch=locked).delete()
        CivilLine.objects.bulk_create(
            [
                CivilLine(
                    batch=locked,
                    household=h,
                    unit_id=h.unit_id,
                    included=bool(h.consented),  # type: ignore[attr-defined]
                    member_ids=[m.pk for m in getattr(h, "sent_members", [])]
                    if h.consented  # type: ignore[attr-defined]
                    else [],
                )
                for h in households
            ],
            batch_size=1000,
        )
        locked.file.save(filename, ContentFile(content), save=False)
        locked.filename = filename
        locked.sha256 = digest
        locked.included = len(sent)
        locked.left_out = len(households) - len(sent)
        locked.exported_at = timezone.now()
        moved = batch_move(locked, CivilBatchStatus.EXPORTED)
        try:
            locked.save()
        except Exception:
            locked.file.delete(save=False)
            raise
        audit_record(
            actor=actor,
            action="civil.export",
            obj=locked,
            unit=locked.unit,
            changes={
                **moved,
                "included": [None, locked.included],
                "left_out": [None, locked.left_out],
                "sha256": [None, digest],
            },
        )
    message = _("已生成报送文件：报送 %(n)s 户；%(m)s 户没有签署授权书，未报送。") % {
        "n": len(sent),
        "m": len(households) - len(sent),
    }
    return JobOutput(message=message, result={"batch": batch.pk, "content_type": XLSX})
