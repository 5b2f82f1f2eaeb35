"""公示表: the intake notice (households being filed) and the aid notice (who
received what).

A public notice shows what DOMAIN.md allows and nothing else: the union,
the name, the tier, the cause as its category name, the program and the
amount; the ID number masked by the one rule. The selectors below read only
those fields, so no health status, diagnosis, note or reason can reach a
notice, whoever prints it.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from accounts.i18n import pick_name
from accounts.masking import mask_id_number
from accounts.models import User
from accounts.money import yuan
from accounts.scoping import units_for
from cases.models import IntakeNotice
from cases.selectors.desk import complaint_desk_for
from cases.selectors.intake import get_notice_for
from programs.models import AidPayment, Batch, PaymentBatch

from .base import (
    ID,
    INT,
    MONEY,
    PDF,
    XLSX,
    Column,
    Document,
    Generator,
    Row,
    Table,
    period_text,
    register,
)
from .options import AidNoticeOptions
from .payments import CHUNK, _sum
from .scope import active_units, visible_programs

VIEW = "household.view"

# -- 建档公示 ----------------------------------------------------------------------------

INTAKE_FIELDS = (
    "household__unit__name",
    "household__name",
    "household__id_number",
    "household__tier__name",
    "household__main_cause__name",
    "household__tier__name_en",
    "household__main_cause__name_en",
)


def intake_columns() -> list[Column]:
    return [
        Column("seq", _("序号"), INT, 6),
        Column("unit", _("所属工会"), width=24),
        Column("name", _("户主姓名"), width=12),
        Column("id_number", _("身份证号"), ID, 21),
        Column("tier", _("困难类别"), width=12),
        Column("cause", _("致困原因"), width=14),
    ]


def intake_notice_rows(notice: IntakeNotice) -> Table:
    """The one selector of the intake notice: the households it lists."""
    qs = notice.entries.order_by("household__unit__path", "household__name", "household_id")
    count = qs.aggregate(n=Count("pk"))["n"]

    def rows() -> Iterator[Row]:
        values = qs.values_list(*INTAKE_FIELDS).iterator(chunk_size=CHUNK)
        for seq, (unit, name, idn, tier, cause, tier_en, cause_en) in enumerate(values, 1):
            tier, cause = pick_name(tier or "", tier_en), pick_name(cause or "", cause_en)
            yield (seq, unit, name, mask_id_number(idn), tier, cause)

    return Table(
        columns=intake_columns(),
        rows=rows,
        count=count,
        totals={},
        sheet=_("建档公示"),
    )


@register
class IntakeNoticeDocument(Generator):
    name = "intake_notice"
    prefix = "GS"
    action = VIEW
    formats = (PDF, XLSX)

    def target(self, user: User, pk: Any) -> IntakeNotice:
        return get_notice_for(user, pk)

    def build(self, user: User, target: IntakeNotice, options: dict[str, Any]) -> Document:
        table = intake_notice_rows(target)
        period = _("%(a)s 至 %(b)s（%(n)s 个工作日）") % {
            "a": target.starts_on,
            "b": target.ends_on,
            "n": target.working_days,
        }
        count = _("共 %(n)s 户") % {"n": table.count}
        return Document(
            report=self.name,
            title=target.title,
            number=self.number(f"N{target.pk}"),
            template="reports/pdf/notice.html",
            filename=f"intake-notice-{target.pk}",
            table=table,
            context={
                "kind": "intake",
                "unit_name": target.unit.name,
                "period": period,
                "posted_at": target.posted_at,
                "count_text": count,
                "complaint_desk": complaint_desk_for(target.unit),
            },
            facts=[
                (_("公示单位"), target.unit.name),
                (_("公示期"), period),
                (_("张贴地点"), target.posted_at),
                (_("公示家庭"), count),
            ],
            obj=target,
            unit=target.unit,
        )


# -- 帮扶公示 ----------------------------------------------------------------------------

AID_FIELDS = (
    "application__household__unit__name",
    "application__household__name",
    "application__household__id_number",
    "application__household__tier__name",
    "application__household__main_cause__name",
    "application__program__name",
    "goods_description",
    "goods_value",
    "entry__amount",
    "application__household__tier__name_en",
    "application__household__main_cause__name_en",
    "application__program__name_en",
)


def aid_columns() -> list[Column]:
    return [
        Column("seq", _("序号"), INT, 6),
        Column("unit", _("所属工会"), width=22),
        Column("name", _("姓名"), width=10),
        Column("id_number", _("身份证号"), ID, 21),
        Column("tier", _("困难类别"), width=10),
        Column("cause", _("致困原因"), width=12),
        Column("program", _("帮扶项目"), width=16),
        # One handout, one line: cash, goods (what and their value), total.
        Column("cash", _("现金"), MONEY, 10),
        Column("goods", _("实物内容"), width=14),
        Column("goods_value", _("实物折价"), MONEY, 10),
        Column("amount", _("合计金额"), MONEY, 11),
    ]


def aid_notice_rows(payments: QuerySet[AidPayment]) -> Table:
    """The one selector of the aid notice: live payments (a reversed payment
    was not received), by union and name, and their total."""
    qs = payments.filter(reversal__isnull=True).order_by(
        "application__household__unit__path", "application__household__name", "pk"
    )
    sums = qs.aggregate(count=Count("pk"), total=_sum("entry__amount"), goods=_sum("goods_value"))
    total, goods_total = yuan(sums["total"]), yuan(sums["goods"])

    def rows() -> Iterator[Row]:
        values = qs.values_list(*AID_FIELDS).iterator(chunk_size=CHUNK)
        for seq, row in enumerate(values, 1):
            unit, name, idn, tier, cause, program, goods, goods_value, amount, *english = row
            tier, cause, program = (
                pick_name(n or "", en)
                for n, en in zip((tier, cause, program), english, strict=True)
            )
            yield (
                seq, unit, name, mask_id_number(idn), tier, cause, program,
                amount - goods_value, goods, goods_value, amount,
            )  # fmt: skip

    return Table(
        columns=aid_columns(),
        rows=rows,
        count=sums["count"],
        totals={"cash": total - goods_total, "goods_value": goods_total, "amount": total},
        sheet=_("帮扶公示"),
        capitals=[(_("合计金额"), total)],
    )


@register
class AidNoticeDocument(Generator):
    name = "aid_notice"
    prefix = "GS"
    action = VIEW
    formats = (PDF, XLSX)
    required = ("program", "batch", "aid_batch")

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> AidNoticeOptions:
        # A batch is chosen by those who read the money (finance, chairs,
        # auditors): it is scoped by its fund's union.
        batches = PaymentBatch.objects.filter(
            fund__unit__in=units_for(user, "fund.view")
        ).select_related("fund")
        return AidNoticeOptions(
            data,
            programs=visible_programs(user, VIEW),
            batches=batches.order_by("-created_at", "-pk"),
            units=active_units(user, VIEW),
            # An aid batch (送温暖) is scoped by the union that drafted it.
            aid_batches=Batch.objects.filter(unit__in=units_for(user, VIEW))
            .select_related("program")
            .order_by("-created_at", "-pk"),
        )

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        payments = AidPayment.objects.filter(application__household__unit__in=units_for(user, VIEW))
        program, batch, unit = options.get("program"), options.get("batch"), options.get("unit")
        parts = []
        if program is not None:
            payments = payments.filter(application__program=program)
            parts.append(program.display_name)
        if batch is not None:
            payments = payments.filter(batch=batch)
            parts.append(batch.title)
        aid_batch = options.get("aid_batch")
        if aid_batch is not None:
            payments = payments.filter(application__batch=aid_batch)
            parts.append(aid_batch.title)
        if unit is not None:
            payments = payments.filter(application__household__unit__path__startswith=unit.path)
        if options.get("date_from"):
            payments = payments.filter(paid_on__gte=options["date_from"])
        if options.get("date_to"):
            payments = payments.filter(paid_on__lte=options["date_to"])
        table = aid_notice_rows(payments)
        title = options.get("title") or _("%(s)s帮扶情况公示") % {"s": " · ".join(parts)}
        period = period_text(options.get("date_from"), options.get("date_to"))
        count = _("共 %(n)s 人次") % {"n": table.count}
        scope_unit = unit.name if unit is not None else ""
        if program is not None:
            key = f"P{program.pk}"
        elif batch is not None:
            key = f"B{batch.pk}"
        else:
            key = f"C{aid_batch.pk}" if aid_batch is not None else "A"
        # Where complaints go: the chosen union's desk, else the union
        # that runs the program, batch or fund the notice is drawn from.
        desk_unit = unit or next(
            (
                o.unit if not isinstance(o, PaymentBatch) else o.fund.unit
                for o in (program, aid_batch, batch)
                if o is not None
            ),
            None,
        )
        return Document(
            report=self.name,
            title=title,
            number=self.number(key),
            template="reports/pdf/notice.html",
            filename=f"aid-notice-{key}",
            table=table,
            context={
                "kind": "aid",
                "unit_name": scope_unit,
                "period": period,
                "posted_at": options.get("posted_at") or "",
                "count_text": count,
                "complaint_desk": complaint_desk_for(desk_unit),
            },
            facts=[
                (_("公示范围"), scope_unit or _("全部")),
                (_("发放期间"), period),
                (_("人次"), count),
            ],
            obj=program or batch or aid_batch,
            unit=unit,
            landscape=True,
        )
