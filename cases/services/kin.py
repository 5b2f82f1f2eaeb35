"""回避登记: a user registers their own ID number, home address and phone,
and optionally close relatives. Each number is checked by the household
file's rule (cases.idnumber) and kept only as a keyed hash and its mask."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.masking import mask_address, mask_id_number, mask_phone
from accounts.models import User

from .. import idnumber
from ..choices import Relation
from ..forms.fields import phone_value
from ..kin import id_digest
from ..models.kin import KinRegistration, KinRelative

MAX_RELATIVES = 30


def _number(value: Any, field: str) -> str:
    try:
        return idnumber.parse(str(value or "")).number
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


@transaction.atomic
def kin_register(*, actor: User, id_number: str, address: str, phone: str) -> KinRegistration:
    """Register (or correct) the actor's own ID number, home address and phone."""
    number = _number(id_number, "id_number")
    address = (address or "").strip()
    if len(address) > 200:
        raise ValidationError({"address": _("家庭住址最多 200 个字。")})
    try:
        phone = phone_value(phone or "")
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None
    digest = id_digest(number)
    if KinRelative.objects.filter(user=actor, id_digest=digest).exists():
        raise ValidationError({"id_number": _("该身份证号已登记为您的亲属。")})
    entry = KinRegistration.objects.select_for_update(no_key=True).filter(user=actor).first()
    before = (entry.id_masked, entry.address) if entry else ("", "")
    if entry is None:
        entry = KinRegistration(user=actor)
    entry.id_digest = digest
    entry.id_masked = mask_id_number(number)
    entry.address = address
    entry.save()
    before_phone = actor.phone
    if phone != actor.phone:
        actor.phone = phone
        actor.save(update_fields=["phone"])
    audit_record(
        actor=actor,
        action="kin.register",
        obj=actor,
        changes={
            "id_number": [before[0] or None, entry.id_masked],
            "address": [mask_address(before[1]) or None, mask_address(address)],
            "phone": [mask_phone(before_phone) or None, mask_phone(phone)],
        },
    )
    return entry


@transaction.atomic
def kin_relative_add(*, actor: User, relation: str, name: str, id_number: str) -> KinRelative:
    if relation not in Relation.values:
        raise ValidationError({"relation": _("请选择与您的关系。")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写亲属姓名。")})
    if len(name) > 50:
        raise ValidationError({"name": _("姓名最多 50 个字。")})
    number = _number(id_number, "id_number")
    digest = id_digest(number)
    # Locks the user's row: two adds at once count one after the other.
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).first()
    if KinRegistration.objects.filter(user=actor, id_digest=digest).exists():
        raise ValidationError({"id_number": _("这是您本人的身份证号，不需要登记为亲属。")})
    if KinRelative.objects.filter(user=actor).count() >= MAX_RELATIVES:
        raise ValidationError(_("最多登记 %(n)s 名亲属。") % {"n": MAX_RELATIVES})
    try:
        with transaction.atomic():
            relative = KinRelative.objects.create(
                user=actor,
                relation=relation,
                name=name,
                id_digest=digest,
                id_masked=mask_id_number(number),
            )
    except IntegrityError:
        raise ValidationError({"id_number": _("该亲属已经登记过。")}) from None
    audit_record(
        actor=actor,
        action="kin.relative_add",
        obj=actor,
        changes={"relation": [None, relation], "id_number": [None, relative.id_masked]},
    )
    return relative


@transaction.atomic
def kin_relative_remove(*, actor: User, relative_id: Any) -> None:
    """Take a relative off the actor's own list; another user's is not found."""
    try:
        pk = int(relative_id)
    except (TypeError, ValueError):
        pk = 0
    relative = KinRelative.objects.select_for_update(no_key=True).filter(user=actor, pk=pk).first()
    if relative is None:
        raise ValidationError({"relative": _("未找到该亲属登记，请刷新页面后重试。")})
    relative.delete()
    audit_record(
        actor=actor,
        action="kin.relative_remove",
        obj=actor,
        changes={"relation": [relative.relation, None], "id_number": [relative.id_masked, None]},
    )
