import datetime
from typing import Any

from django.db.models import Q, QuerySet

from .models import AuditEvent, User
from .scoping import require_action, roles_for, unit_q, units_for


def audit_events(user: User, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Audit events of the units the user oversees.

    Events with no unit (sign-ins, system changes) are visible only to admins
    of a root unit, who oversee everything.
    """
    require_action(user, "audit.view")
    scope = units_for(user, "audit.view")
    visible = Q(unit__in=scope)
    if any(m.unit.parent_id is None for m in roles_for(user, "audit.view")):
        visible |= Q(unit__isnull=True)
    qs = AuditEvent.objects.filter(visible)
    if filters.get("action"):
        qs = qs.filter(action__startswith=filters["action"])
    if filters.get("actor"):
        qs = qs.filter(actor__username=filters["actor"])
    if filters.get("unit"):
        qs = qs.filter(unit__in=scope.filter(unit_q([filters["unit"].path])))
    if filters.get("object_id"):
        qs = qs.filter(object_id=filters["object_id"])
    if filters.get("date_from"):
        qs = qs.filter(created_at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(created_at__date__lte=filters["date_to"] or datetime.date.max)
    return qs.select_related("actor", "unit").order_by("-created_at", "-id")
