"""Writing the audit trail. Services call `audit_record` inside their own
transaction, so an event exists exactly when its change does."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .masking import mask_field
from .middleware import current_ip
from .models import AuditEvent, Unit, User


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [old, new]} with personal values masked."""
    changed: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changed[field] = [_plain(mask_field(field, old)), _plain(mask_field(field, new))]
    return changed


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {field: _plain(_as_stored(obj, field)) for field in fields}


def _as_stored(obj: models.Model, name: str) -> Any:
    # A form hands over Decimal("6000") for a column that holds 6000.00; both
    # are the same amount, and must not show up as a change.
    value = getattr(obj, name)
    if isinstance(value, Decimal):
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            return value
        if isinstance(field, models.DecimalField) and field.decimal_places is not None:
            return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    unit: Unit | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        unit=unit,
        changes=changes or {},
        ip=current_ip.get(),
    )
