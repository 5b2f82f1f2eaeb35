"""Choices a document's options may offer, inside the person's units."""

from django.db.models import Q, QuerySet

from accounts.models import Unit, User
from accounts.scoping import require_action, unit_q, units_for
from programs.models import Program


def visible_programs(user: User, action: str) -> QuerySet[Program]:
    """Programs set up by the person's unions, the unions above them, or
    below them: a county's finance officer reads the city's 送温暖 program,
    for the county's own payments."""
    paths = [m.unit.path for m in require_action(user, action)]
    ancestors = {int(part) for path in paths for part in path.split("/") if part}
    return (
        Program.objects.filter(Q(unit_id__in=ancestors) | unit_q(paths, prefix="unit__"))
        .select_related("unit")
        .order_by("unit__path", "name", "pk")
    )


def active_units(user: User, action: str) -> QuerySet[Unit]:
    return units_for(user, action).filter(is_active=True).order_by("path")
