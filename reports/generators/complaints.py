"""投诉统计表: complaints received in a period, closed on time, closed late,
overdue and still open, by union and by category. The numbers come from
programs.selectors.complaints.complaint_statistics, the same function the
statistics page shows, and only count the complaints the person may read."""

from collections.abc import Iterator, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.scoping import units_for
from cases import clock
from programs.forms.complaints import PeriodForm
from programs.selectors.complaints import VIEW, Figures, complaint_statistics

from .base import INT, PDF, XLSX, Column, Document, Generator, Line, Row, Table, register

KEYS = ("received", "on_time", "late", "overdue", "pending")


def columns() -> list[Column]:
    return [
        Column("label", _("所属工会"), width=26),
        Column("received", _("受理"), INT, 8),
        Column("on_time", _("按期办结"), INT, 10),
        Column("late", _("超期办结"), INT, 10),
        Column("overdue", _("超期未办结"), INT, 11),
        Column("pending", _("办理中（未超期）"), INT, 14),
    ]


def _row(f: Figures) -> Row:
    return (f.label, *(getattr(f, k) for k in KEYS))


@register
class ComplaintStatisticsDocument(Generator):
    name = "complaint_statistics"
    prefix = "TS"
    action = VIEW
    formats = (PDF, XLSX)
    required = ("date_from", "date_to", "format")

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> forms.Form:
        units = units_for(user, VIEW).filter(is_active=True)
        return PeriodForm(data, units=units)

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        today = clock.today()
        start = options.get("date_from") or today.replace(month=1, day=1)
        end = options.get("date_to") or today
        unit = options.get("unit")
        stats = complaint_statistics(user, start, end, unit)

        def rows() -> Iterator[Row]:
            yield from (_row(f) for f in stats.by_unit)

        table = Table(
            columns=columns(),
            rows=rows,
            count=len(stats.by_unit),
            totals={k: getattr(stats.total, k) for k in KEYS},
            sheet=_("投诉统计"),
            after=[
                Line(_("类别：%(c)s") % {"c": f.label}, {k: getattr(f, k) for k in KEYS})
                for f in stats.by_category
            ],
        )
        period = _("%(a)s 至 %(b)s") % {"a": start, "b": end}
        scope = unit.name if unit is not None else _("全部")
        return Document(
            report=self.name,
            title=_("投诉办理情况统计表"),
            number=self.number(f"{start:%Y%m%d}{end:%Y%m%d}"),
            template="reports/pdf/complaints.html",
            filename=f"complaints-{start:%Y%m%d}-{end:%Y%m%d}",
            table=table,
            context={"scope": scope, "period": period},
            facts=[(_("范围"), scope), (_("受理期间"), period)],
            unit=unit,
        )
