"""Writes to household files. Each runs in one transaction and leaves an
audit event; callers pass the acting user explicitly."""

import datetime
import hashlib
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record, diff, snapshot
from accounts.models import Unit, User
from accounts.scoping import covers

from .. import clock, idnumber, meanstest
from ..choices import AttachmentKind
from ..models import CLOSED_STATUSES, Attachment, FileCategory, Household, Member

# Fields a caseworker edits on the file itself (everything but workflow state).
HOUSEHOLD_FIELDS = (
    "name", "id_number", "ethnicity", "political_status", "phone", "address", "employer",
    "employer_type", "employment_status", "health_status", "disability_type",
    "disability_grade", "model_worker_level", "housing_type", "housing_area", "hukou_type",
    "marital_status", "single_parent", "medical_insurance", "zero_employment",
    "income_wages", "income_business", "income_property", "income_transfer", "income_other",
    "expense_medical", "expense_disability", "expense_education", "expense_housing",
    "household_size", "tier", "main_cause", "bank_name", "bank_branch", "bank_account", "note",
)  # fmt: skip
MEMBER_FIELDS = (
    "name", "relation", "id_number", "health_status", "annual_income", "occupation",
    "school", "school_stage", "grade",
)  # fmt: skip
# Personal values a permitted user may ask to see in full, one at a time.
REVEALABLE_FIELDS = ("id_number", "phone", "address", "bank_account")


def per_capita_monthly(household: Household) -> Decimal:
    """(12-month income − rigid expenses) ÷ household size ÷ 12, as the
    means test works it out."""
    net = household.annual_income - household.rigid_expenses
    return meanstest.per_capita_monthly(net, household.household_size)


def _check_scope(actor: User, unit: Unit) -> None:
    if not covers(actor, "household.edit", unit):
        raise PermissionDenied(_("您无权在该工会建立或修改档案。"))


def check_id_free(id_number: str, *, exclude_pk: int | None = None) -> None:
    """Refuse a second active file for the same person, naming only the unit."""
    others = Household.objects.exclude(status__in=CLOSED_STATUSES).filter(id_number=id_number)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    holder = others.select_related("unit").first()
    if holder is not None:
        raise ValidationError({"id_number": duplicate_message(holder.unit.name)})


def duplicate_message(unit_name: str) -> str:
    # Only the holding union is named: not the file, its status or the person.
    return _("该身份证号已在“%(unit)s”建有档案，不能重复建档。") % {"unit": unit_name}


def _apply_id(obj: Household | Member, number: str) -> None:
    info = idnumber.parse(number)
    obj.id_number, obj.birth_date, obj.sex = info.number, info.birth_date, info.sex


def _save_members(
    household: Household, members: list[dict[str, Any]], delete_ids: list[int]
) -> dict[str, list[Any]]:
    """Upsert and delete members; return the audit summary of what changed."""
    changes: dict[str, list[Any]] = {}
    for data in members:
        number = data.get("id_number") or ""
        if number and idnumber.normalize(number) == household.id_number:
            raise ValidationError(
                _("家庭成员“%(name)s”的身份证号与户主相同。") % {"name": data.get("name", "")}
            )
    existing = {m.pk: m for m in household.members.all()}
    removed = [existing[pk] for pk in delete_ids if pk in existing]
    for member in removed:
        member.delete()
    if removed:
        changes["members_removed"] = [[m.name for m in removed], None]
    added, edited = [], []
    for data in members:
        pk = data.get("id")
        found = existing.get(pk) if pk else None
        if pk and found is None:
            continue  # a member of another household: never touch it
        member = found if found is not None else Member(household=household)
        before = snapshot(member, list(MEMBER_FIELDS)) if member.pk else None
        for field in MEMBER_FIELDS:
            if field == "id_number":
                continue
            setattr(member, field, data.get(field, getattr(member, field)))
        number = data.get("id_number") or ""
        if number:
            _apply_id(member, number)
        else:
            member.id_number, member.birth_date, member.sex = "", None, ""
        member.save()
        if before is None:
            added.append(member.name)
        elif diff(before, snapshot(member, list(MEMBER_FIELDS))):
            edited.append(member.name)
    if added:
        changes["members_added"] = [None, added]
    if edited:
        changes["members_edited"] = [None, edited]
    return changes


def _check_categories(categories: list[FileCategory], *, kept: set[int]) -> None:
    """Only active categories may be newly given; one the file already
    carries stays even after it was retired from the list."""
    retired = [c.name for c in categories if not c.is_active and c.pk not in kept]
    if retired:
        raise ValidationError(
            {"categories": _("档案分类“%(c)s”已停用，不能再选。") % {"c": "、".join(retired)}}
        )


def _save_household(household: Household) -> None:
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError as exc:
        # Two people filing the same person at the same moment: the database
        # constraint decides; report it like the ordinary duplicate check.
        check_id_free(household.id_number, exclude_pk=household.pk)
        raise ValidationError(_("保存失败，请重试。")) from exc


@transaction.atomic
def household_create(
    *,
    actor: User,
    unit: Unit,
    data: dict[str, Any],
    secondary_causes: list[Any] | None = None,
    categories: list[FileCategory] | None = None,
    members: list[dict[str, Any]] | None = None,
) -> Household:
    _check_scope(actor, unit)
    _check_categories(categories or [], kept=set())
    household = Household(unit=unit, created_by=actor, submitted_by=actor)
    for field in HOUSEHOLD_FIELDS:
        if field in data:
            setattr(household, field, data[field])
    _apply_id(household, data["id_number"])
    check_id_free(household.id_number)
    household.per_capita_monthly_income = per_capita_monthly(household)
    _save_household(household)
    household.secondary_causes.set(secondary_causes or [])
    household.categories.set(categories or [])
    member_changes = _save_members(household, members or [], [])
    changes = diff({}, snapshot(household, ["unit", *HOUSEHOLD_FIELDS]))
    if categories:
        changes["categories"] = [None, sorted(c.name for c in categories)]
    changes.update(member_changes)
    audit_record(actor=actor, action="household.create", obj=household, unit=unit, changes=changes)
    return household


@transaction.atomic
def household_update(
    *,
    actor: User,
    household: Household,
    data: dict[str, Any],
    unit: Unit | None = None,
    secondary_causes: list[Any] | None = None,
    categories: list[FileCategory] | None = None,
    members: list[dict[str, Any]] | None = None,
    delete_member_ids: list[int] | None = None,
) -> Household:
    household = Household.objects.select_for_update(no_key=True).get(pk=household.pk)
    _check_scope(actor, household.unit)
    if unit is not None and unit.pk != household.unit_id:
        _check_scope(actor, unit)
    tracked = ["unit", *HOUSEHOLD_FIELDS]
    before = snapshot(household, tracked)
    before_causes = sorted(c.name for c in household.secondary_causes.all())
    carried = list(household.categories.all())
    if categories is not None:
        _check_categories(categories, kept={c.pk for c in carried})
    if unit is not None:
        household.unit = unit
    for field in HOUSEHOLD_FIELDS:
        if field in data and field != "id_number":
            setattr(household, field, data[field])
    if "id_number" in data:
        _apply_id(household, data["id_number"])
        check_id_free(household.id_number, exclude_pk=household.pk)
    household.per_capita_monthly_income = per_capita_monthly(household)
    _save_household(household)
    if secondary_causes is not None:
        household.secondary_causes.set(secondary_causes)
    changes = diff(before, snapshot(household, tracked))
    after_causes = sorted(c.name for c in household.secondary_causes.all())
    if after_causes != before_causes:
        changes["secondary_causes"] = [before_causes, after_causes]
    if categories is not None:
        household.categories.set(categories)
        before_names = sorted(c.name for c in carried)
        after_names = sorted(c.name for c in categories)
        if after_names != before_names:
            changes["categories"] = [before_names, after_names]
    changes.update(_save_members(household, members or [], delete_member_ids or []))
    if changes:
        audit_record(
            actor=actor,
            action="household.update",
            obj=household,
            unit=household.unit,
            changes=changes,
        )
    return household


@transaction.atomic
def household_reveal_id(*, actor: User, household: Household, field: str = "id_number") -> str:
    """Return a full personal value and leave a trace that someone saw it."""
    audit_record(
        actor=actor,
        action="household.reveal",
        obj=household,
        unit=household.unit,
        changes={"field": [None, field]},
    )
    # Opening the edit form or an attachment discloses as much as one value
    # does; those callers pass a label ("edit_form", "attachment:7") instead.
    if field not in REVEALABLE_FIELDS:
        return ""
    return str(getattr(household, field))


def consent_signed_on(kind: str, signed_on: datetime.date | None) -> datetime.date | None:
    """The signing date an attachment keeps: a consent's (授权书), required
    and not after today, since without it no data check may start; None for
    every other kind. The upload form and attachment_add both ask here."""
    if kind != AttachmentKind.CONSENT:
        return None
    if signed_on is None:
        raise ValidationError({"signed_on": _("上传授权书须填写签署日期。")})
    if signed_on > clock.today():
        raise ValidationError({"signed_on": _("签署日期不能晚于今天。")})
    return signed_on


@transaction.atomic
def attachment_add(
    *,
    actor: User,
    household: Household,
    kind: str,
    upload: UploadedFile,
    content_type: str,
    signed_on: datetime.date | None = None,
) -> Attachment:
    _check_scope(actor, household.unit)
    signed_on = consent_signed_on(kind, signed_on)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        household=household,
        kind=kind,
        original_name=(upload.name or "")[:200],
        content_type=content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        signed_on=signed_on,
        uploaded_by=actor,
    )
    attachment.file.save(upload.name or "upload", upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    audit_record(
        actor=actor,
        action="attachment.add",
        obj=household,
        unit=household.unit,
        changes={
            "attachment": [None, f"{attachment.get_kind_display()} {attachment.original_name}"]
        },
    )
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment) -> None:
    household = attachment.household
    _check_scope(actor, household.unit)
    label = f"{attachment.get_kind_display()} {attachment.original_name}"
    stored = attachment.file.name
    attachment.delete()
    storage = attachment.file.storage
    transaction.on_commit(lambda: storage.delete(stored))
    audit_record(
        actor=actor,
        action="attachment.delete",
        obj=household,
        unit=household.unit,
        changes={"attachment": [label, None]},
    )
