"""Writes for units, users and memberships."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import Membership, Unit, User


def _path_for(unit_id: int, parent: Unit | None) -> str:
    return (parent.path if parent else "") + f"{unit_id:07d}/"


@transaction.atomic
def unit_create(
    *, actor: User | None, code: str, name: str, kind: str, parent: Unit | None = None
) -> Unit:
    code = code.strip()
    if Unit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("单位代码“%(code)s”已被使用。") % {"code": code}})
    unit = Unit.objects.create(
        code=code,
        name=name.strip(),
        kind=kind,
        parent=parent,
        path="",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = _path_for(unit.pk, parent)
    unit.save(update_fields=["path"])
    audit_record(
        actor=actor,
        action="unit.create",
        obj=unit,
        unit=unit,
        changes={"code": [None, code], "name": [None, unit.name]},
    )
    return unit


@transaction.atomic
def unit_update(*, actor: User | None, unit: Unit, name: str, kind: str, is_active: bool) -> Unit:
    before = {"name": unit.name, "kind": unit.kind, "is_active": unit.is_active}
    unit.name, unit.kind, unit.is_active = name.strip(), kind, is_active
    unit.save(update_fields=["name", "kind", "is_active"])
    after = {"name": unit.name, "kind": unit.kind, "is_active": unit.is_active}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(actor=actor, action="unit.update", obj=unit, unit=unit, changes=changes)
    return unit


@transaction.atomic
def membership_grant(
    *, actor: User | None, user: User, unit: Unit, role: str, sees_unmasked: bool = False
) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"sees_unmasked": sees_unmasked}
    )
    if not created and membership.sees_unmasked != sees_unmasked:
        membership.sees_unmasked = sees_unmasked
        membership.save(update_fields=["sees_unmasked"])
    audit_record(
        actor=actor,
        action="membership.grant",
        obj=membership,
        unit=unit,
        changes={"user": [None, user.username], "role": [None, role]},
    )
    return membership


@transaction.atomic
def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    audit_record(
        actor=actor,
        action="membership.revoke",
        obj=membership,
        unit=membership.unit,
        changes={"user": [membership.user.username, None], "role": [membership.role, None]},
    )
    membership.delete()
