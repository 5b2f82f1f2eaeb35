"""Reads behind the complaint screens. Every page and list goes through
`visible` (services.complaints.visible_q): a complaint about a named cadre
never reaches the cadre, nor the union's other staff, by any route."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Unit, User
from accounts.paging import paged
from accounts.scoping import get_scoped, require_action, units_for
from cases import clock
from cases.models import Household, IntakeNotice
from cases.selectors.households import get_household_for
from cases.selectors.intake import get_notice_for

from ..models import (
    AidPayment,
    Application,
    Complaint,
    ComplaintCategory,
    ComplaintChange,
    ComplaintStatus,
)
from ..services import complaints as services
from .applications import get_application_for

S = ComplaintStatus
VIEW = services.VIEW

# The lists a person picks from (?view=).
MINE, OPEN, OVERDUE, CLOSED, ALL = "mine", "open", "overdue", "closed", "all"
VIEWS = (MINE, OPEN, OVERDUE, CLOSED, ALL)


def visible(user: User) -> QuerySet[Complaint]:
    """The complaints this person may read: 403 without a reading role."""
    require_action(user, VIEW)
    return Complaint.objects.filter(services.visible_q(user))


def get_complaint_for(user: User, pk: Any) -> Complaint:
    """One complaint: 403 without the role, 404 outside the person's units
    or when it names them (or names a cadre of their own union)."""
    queryset = visible(user).select_related(
        "unit__parent", "household__unit", "notice__unit", "application__household__unit",
        "application__program", "payment__application__household__unit", "subject", "owner",
        "recorded_by", "closed_by",
    )  # fmt: skip
    return get_scoped(user, queryset, pk, action=VIEW)


def history_of(complaint: Complaint) -> list[ComplaintChange]:
    return list(complaint.changes.select_related("actor").order_by("at", "id"))


# -- what a complaint is about -------------------------------------------------------

TARGETS = ("household", "notice", "application", "payment")


def get_target_for(user: User, kind: str, pk: Any) -> Any:
    """The thing a new complaint is about, as its own page scopes it (403 /
    404), read by those who read household files."""
    if kind == "household":
        return get_household_for(user, pk, action=VIEW)
    if kind == "notice":
        return get_notice_for(user, pk, action=VIEW)
    if kind == "application":
        return get_application_for(user, pk, action=VIEW)
    queryset = AidPayment.objects.select_related(
        "application__household__unit", "application__program", "fund"
    )
    return get_scoped(user, queryset, pk, action=VIEW, unit_field="application__household__unit")


def target_of(complaint: Complaint) -> Household | IntakeNotice | Application | AidPayment:
    return (
        complaint.household or complaint.notice or complaint.application or complaint.payment  # type: ignore[return-value]
    )


def describe(target: Any) -> str:
    """A line naming the target: what a complaint is about."""
    if isinstance(target, Household):
        return _("家庭档案：%(n)s") % {"n": target.name}
    if isinstance(target, IntakeNotice):
        return _("建档公示：%(t)s") % {"t": target.title}
    if isinstance(target, Application):
        return _("帮扶申请：%(n)s · %(p)s") % {
            "n": target.household.name,
            "p": target.program.display_name,
        }
    return _("帮扶发放：%(n)s · %(a)s 元 · %(d)s") % {
        "n": target.application.household.name,
        "a": target.amount,
        "d": target.paid_on,
    }


# -- lists ----------------------------------------------------------------------------


@dataclass
class ComplaintFilter:
    view: str = OPEN
    unit_id: int | None = None
    category: str = ""


def complaint_list(user: User, flt: ComplaintFilter) -> QuerySet[Complaint]:
    qs = visible(user)
    if flt.unit_id is not None:
        unit = units_for(user, VIEW).filter(pk=flt.unit_id).first()
        if unit is None:
            return Complaint.objects.none()
        qs = qs.filter(unit__in=Unit.objects.filter(path__startswith=unit.path))
    if flt.category:
        qs = qs.filter(category=flt.category)
    today = clock.today()
    order: tuple[str, ...] = ("deadline", "id")
    if flt.view == MINE:
        qs = qs.filter(owner=user).exclude(status=S.CLOSED)
    elif flt.view == OPEN:
        qs = qs.exclude(status=S.CLOSED)
    elif flt.view == OVERDUE:
        # By union, then the longest overdue first: the per-union list.
        qs = qs.exclude(status=S.CLOSED).filter(deadline__lt=today)
        order = ("unit_id", "deadline", "id")
    elif flt.view == CLOSED:
        qs = qs.filter(status=S.CLOSED)
        order = ("-id",)
    else:
        order = ("-id",)
    return paged(qs.select_related("unit", "owner").order_by(*order))


def owned_open(user: User) -> QuerySet[Complaint]:
    """The open complaints this person answers (for 待办)."""
    mine = Complaint.objects.filter(owner=user).exclude(status=S.CLOSED)
    return mine.filter(services.visible_q(user))


def overdue_by_unit(user: User, limit: int = 50) -> list[dict[str, Any]]:
    """How many open complaints are past their deadline, union by union."""
    rows = (
        visible(user)
        .exclude(status=S.CLOSED)
        .filter(deadline__lt=clock.today())
        .values("unit_id", "unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit__name")[:limit]
    )
    return list(rows)


# -- statistics -----------------------------------------------------------------------


@dataclass
class Figures:
    label: str
    received: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0  # open and still within the deadline

    @property
    def closed(self) -> int:
        return self.on_time + self.late


def _figures() -> dict[str, Any]:
    today = clock.today()
    closed = Q(status=S.CLOSED)
    return {
        "received": Count("pk"),
        "on_time": Count("pk", filter=closed & Q(closed_on__lte=F("deadline"))),
        "late": Count("pk", filter=closed & Q(closed_on__gt=F("deadline"))),
        "overdue": Count("pk", filter=~closed & Q(deadline__lt=today)),
        "pending": Count("pk", filter=~closed & Q(deadline__gte=today)),
    }


@dataclass
class Statistics:
    date_from: datetime.date
    date_to: datetime.date
    by_unit: list[Figures]
    by_category: list[Figures]
    total: Figures


def complaint_statistics(
    user: User, date_from: datetime.date, date_to: datetime.date, unit: Unit | None = None
) -> Statistics:
    """The complaints received in the period: how many, closed on time,
    closed late, overdue and still open, by union and by category. Counted
    by the day received, so a period's figures do not change as it ages
    except as its complaints are closed."""
    qs = visible(user).filter(received_on__gte=date_from, received_on__lte=date_to)
    if unit is not None:
        qs = qs.filter(unit__in=Unit.objects.filter(path__startswith=unit.path))
    figures = _figures()
    by_unit = [
        Figures(label=row.pop("unit__name"), **{k: row[k] for k in figures})
        for row in qs.values("unit__name", "unit__path").annotate(**figures).order_by("unit__path")
    ]
    labels = dict(ComplaintCategory.choices)
    found = {row["category"]: row for row in qs.values("category").annotate(**figures)}
    by_category = [
        Figures(label=str(labels[value]), **{k: found[value][k] for k in figures})
        for value in ComplaintCategory.values
        if value in found
    ]
    total = Figures(label=_("合计"))
    for row in by_unit:
        for key in figures:
            setattr(total, key, getattr(total, key) + getattr(row, key))
    return Statistics(date_from, date_to, by_unit, by_category, total)
