"""发放台账 (disbursement ledger) and 签收单 (sign-off sheet).

The ledger lists aid payments, live and reversed, with the reversal beside
the payment it undid; its amounts are the ledger entries' own (the payment
entry and its reversing entry), so its 实发 total is what the fund page and
the payment batch page show for the same rows.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.i18n import pick_name
from accounts.masking import mask_id_number
from accounts.models import User
from accounts.money import NO_MONEY, SUM_FIELD, yuan
from accounts.scoping import Unmasker, require_action, units_for
from funds import selectors as fund_selectors
from funds.models import Fund
from programs.models import AidPayment, PaymentBatch, PaymentMethod, Program
from programs.selectors import payments as payment_selectors

from .base import (
    DATE,
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
from .options import PeriodOptions, ProgramLedgerOptions, SignoffOptions
from .scope import active_units, visible_programs

VIEW = "fund.view"
MANAGE = "fund.manage"
CHUNK = 2000


def _sum(field: str, **filters: Any) -> Coalesce:
    return Coalesce(Sum(field, **filters), NO_MONEY, output_field=SUM_FIELD)


# -- 发放台账 ----------------------------------------------------------------------------

LEDGER_FIELDS = (
    "paid_on",
    "application__household__name",
    "application__household__id_number",
    "application__household__unit__name",
    "application__household__unit__path",
    "application__program__name",
    "fund__name",
    "method",
    "goods_description",
    "goods_value",
    "entry__amount",
    "reversal__occurred_on",
    "reversal__amount",
    "application__program__name_en",
)


def ledger_columns() -> list[Column]:
    # Widths in characters, a Chinese character counting two (as in Excel):
    # the same proportions, in the ledger's smaller PDF type, give the
    # landscape page one line per payment with its cash and goods parts.
    return [
        Column("seq", _("序号"), INT, 5),
        Column("paid_on", _("发放日期"), DATE, 11),
        Column("name", _("户主姓名"), width=8),
        Column("id_number", _("身份证号"), ID, 18),
        Column("unit", _("所属工会"), width=14),
        Column("program", _("帮扶项目"), width=13),
        Column("fund", _("资金"), width=11),
        Column("method", _("发放方式"), width=9),
        # One handout, one line: its cash part, what goods and their value,
        # and the whole (cash + goods) that left the fund.
        Column("cash", _("现金"), MONEY, 10),
        Column("goods", _("实物内容"), width=12),
        Column("goods_value", _("实物折价"), MONEY, 10),
        Column("amount", _("发放金额"), MONEY, 10),
        Column("reversed_on", _("冲正日期"), DATE, 11),
        Column("reversed", _("冲正金额"), MONEY, 10),
        Column("net", _("实发金额"), MONEY, 10),
    ]


def disbursements(payments: QuerySet[AidPayment], unmask: Unmasker) -> Table:
    """The one selector of the ledger: its rows, streamed in payment order,
    and its totals, added up by the database from the same rows."""
    qs = payments.order_by("paid_on", "pk")
    totals = qs.aggregate(
        count=Count("pk"),
        paid=_sum("entry__amount"),
        goods=_sum("goods_value"),
        reversed=_sum("reversal__amount"),
        reversed_count=Count("reversal"),
    )
    paid, reversed_ = yuan(totals["paid"]), yuan(totals["reversed"])
    goods_total = yuan(totals["goods"])
    methods = {value: str(label) for value, label in PaymentMethod.choices}

    def rows() -> Iterator[Row]:
        values = qs.values_list(*LEDGER_FIELDS).iterator(chunk_size=CHUNK)
        for seq, row in enumerate(values, 1):
            (paid_on, name, idn, unit, path, program, fund, method, goods, goods_value, amount,
             r_on, r_amount, program_en) = row  # fmt: skip
            program = pick_name(program, program_en)
            yield (
                seq,
                paid_on,
                unmask.name(name, path),
                mask_id_number(idn),
                unit,
                program,
                fund,
                methods.get(method, method),
                amount - goods_value,
                goods,
                goods_value,
                amount,
                r_on,
                r_amount,
                amount - r_amount if r_amount is not None else amount,
            )

    net = paid - reversed_
    return Table(
        columns=ledger_columns(),
        rows=rows,
        count=totals["count"],
        totals={
            "cash": paid - goods_total,
            "goods_value": goods_total,
            "amount": paid,
            "reversed": reversed_,
            "net": net,
        },
        sheet=_("发放台账"),
        capitals=[(_("实发金额合计"), net)],
        meta={"reversed_count": totals["reversed_count"]},
    )


def _in_period(payments: QuerySet[AidPayment], options: Mapping[str, Any]) -> QuerySet[AidPayment]:
    if options.get("date_from"):
        payments = payments.filter(paid_on__gte=options["date_from"])
    if options.get("date_to"):
        payments = payments.filter(paid_on__lte=options["date_to"])
    return payments


def _ledger_document(
    generator: Generator, key: str, scope: str, table: Table, options: Mapping[str, Any], **kw: Any
) -> Document:
    period = period_text(options.get("date_from"), options.get("date_to"))
    count = _("共 %(n)s 笔，其中已冲正 %(r)s 笔") % {
        "n": table.count,
        "r": table.meta.get("reversed_count", 0),
    }
    return Document(
        report=generator.name,
        title=_("帮扶资金发放台账"),
        number=generator.number(key),
        template="reports/pdf/disbursements.html",
        filename=f"disbursements-{key}",
        table=table,
        landscape=True,
        context={"scope": scope, "period": period, "count_text": count},
        facts=[(_("范围"), scope), (_("发放期间"), period), (_("笔数"), count)],
        **kw,
    )


@register
class FundDisbursements(Generator):
    """The ledger of one fund, from the fund's page."""

    name = "fund_disbursements"
    prefix = "FFTZ"
    action = VIEW
    formats = (PDF, XLSX)

    def target(self, user: User, pk: Any) -> Fund:
        return fund_selectors.get_fund_for(user, pk)

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> PeriodOptions:
        return PeriodOptions(data)

    def build(self, user: User, target: Fund, options: dict[str, Any]) -> Document:
        table = disbursements(
            _in_period(AidPayment.objects.filter(fund=target), options), Unmasker(user)
        )
        scope = _("资金：%(f)s（%(y)s）· %(u)s") % {
            "f": target.name,
            "y": target.year,
            "u": target.unit.name,
        }
        return _ledger_document(
            self, f"F{target.pk}", scope, table, options, obj=target, unit=target.unit
        )


@register
class ProgramDisbursements(Generator):
    """The ledger of one program, across the funds the person may read."""

    name = "program_disbursements"
    prefix = "FFTZ"
    action = VIEW
    formats = (PDF, XLSX)
    required = ("program",)

    def options(
        self, user: User, target: Any, data: Mapping[str, Any] | None
    ) -> ProgramLedgerOptions:
        return ProgramLedgerOptions(
            data, programs=visible_programs(user, VIEW), units=active_units(user, VIEW)
        )

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        program: Program = options["program"]
        payments = AidPayment.objects.filter(
            application__program=program, fund__unit__in=units_for(user, VIEW)
        )
        unit = options.get("unit")
        if unit is not None:
            payments = payments.filter(fund__unit__path__startswith=unit.path)
        table = disbursements(_in_period(payments, options), Unmasker(user))
        scope = _("帮扶项目：%(p)s") % {"p": program.display_name}
        if unit is not None:
            scope += " · " + unit.name
        return _ledger_document(
            self, f"P{program.pk}", scope, table, options, obj=program, unit=unit
        )


# -- 签收单 ------------------------------------------------------------------------------


def signoff_columns(goods: bool) -> list[Column]:
    # A person signs once for the whole handout: the cash, the goods (what and
    # their value) and the total on one line.
    return [
        Column("seq", _("序号"), INT, 5),
        Column("name", _("姓名"), width=10),
        Column("id_number", _("身份证号"), ID, 20),
        Column("unit", _("所属工会"), width=16),
        Column("program", _("帮扶项目"), width=14),
        Column("cash", _("现金"), MONEY, 10),
        Column("goods", _("发放物品") if goods else _("实物内容"), width=14),
        Column("goods_value", _("实物折价"), MONEY, 10),
        Column("amount", _("折合金额") if goods else _("合计金额"), MONEY, 11),
        Column("signature", _("领取人签名"), width=14),
        Column("signed_on", _("领取日期"), width=11),
    ]


def signoff(
    rows_from: QuerySet[Any], *, household: str, program: str, amount: str, goods: bool,
    unmask: Unmasker,
) -> Table:  # fmt: skip
    """The one selector of the sign-off sheet, for payments (a batch) or for
    approved applications (before paying): `household`, `program` and
    `amount` name the fields to read on either (both carry the goods part as
    `goods_description` and `goods_value`)."""
    qs = rows_from.order_by(f"{household}unit__path", f"{household}name", "pk")
    totals = qs.aggregate(count=Count("pk"), total=_sum(amount), goods=_sum("goods_value"))
    total, goods_total = yuan(totals["total"]), yuan(totals["goods"])
    fields = (
        f"{household}name",
        f"{household}id_number",
        f"{household}unit__name",
        f"{household}unit__path",
        program,
        "goods_description",
        "goods_value",
        amount,
        f"{program}_en",
    )

    def rows() -> Iterator[Row]:
        values = qs.values_list(*fields).iterator(chunk_size=CHUNK)
        for seq, row in enumerate(values, 1):
            name, idn, unit, path, program_name, goods_text, goods_value, value, program_en = row
            program_name = pick_name(program_name, program_en)
            yield (
                seq,
                unmask.name(name, path),
                mask_id_number(idn),
                unit,
                program_name,
                value - goods_value,
                goods_text,
                goods_value,
                value,
                "",
                "",
            )

    return Table(
        columns=signoff_columns(goods),
        rows=rows,
        count=totals["count"],
        totals={"cash": total - goods_total, "goods_value": goods_total, "amount": total},
        sheet=_("签收单"),
        capitals=[(_("合计金额"), total)],
    )


def _signoff_document(
    generator: Generator, key: str, title: str, scope: str, table: Table, **kw: Any
) -> Document:
    count = _("共 %(n)s 人") % {"n": table.count}
    return Document(
        report=generator.name,
        title=title,
        number=generator.number(key),
        template="reports/pdf/signoff.html",
        filename=f"signoff-{key}",
        table=table,
        landscape=True,
        context={"scope": scope, "count_text": count},
        facts=[(_("范围"), scope), (_("人数"), count)],
        **kw,
    )


def _signoff_title(method: str) -> str:
    if method == PaymentMethod.GOODS:
        return _("帮扶物资发放签收单")
    if method == PaymentMethod.CASH:
        return _("帮扶现金发放签收单")
    return _("帮扶资金发放签收单")


@register
class BatchSignoff(Generator):
    """The sheet of a payment batch: its live payments (a reversed one is no
    longer handed out)."""

    name = "batch_signoff"
    prefix = "QS"
    action = VIEW
    formats = (PDF, XLSX)

    def target(self, user: User, pk: Any) -> PaymentBatch:
        return payment_selectors.get_batch_for(user, pk)

    def build(self, user: User, target: PaymentBatch, options: dict[str, Any]) -> Document:
        goods = target.method == PaymentMethod.GOODS
        table = signoff(
            target.payments.filter(reversal__isnull=True),
            household="application__household__",
            program="application__program__name",
            amount="entry__amount",
            goods=goods,
            unmask=Unmasker(user),
        )
        scope = _("发放批次：%(t)s · %(f)s（%(m)s）") % {
            "t": target.title,
            "f": target.fund.name,
            "m": target.get_method_display(),
        }
        return _signoff_document(
            self,
            f"B{target.pk}",
            _signoff_title(target.method),
            scope,
            table,
            obj=target,
            unit=target.fund.unit,
        )


@register
class ApplicationsSignoff(Generator):
    """The sheet for approved applications not yet paid, printed before a
    cash or goods hand-out; the signed sheet is then uploaded with the
    payment."""

    name = "signoff"
    prefix = "QS"
    action = MANAGE
    formats = (PDF, XLSX)
    required = ("program", "application")

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> SignoffOptions:
        payable = payment_selectors.payable(user)
        return SignoffOptions(
            data,
            programs=Program.objects.filter(pk__in=payable.values("program_id"))
            .select_related("unit")
            .order_by("name", "pk"),
            units=active_units(user, MANAGE),
            applications=payable,
        )

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        require_action(user, MANAGE)
        applications = payment_selectors.payable(user)
        chosen = options.get("application")
        if chosen:
            applications = applications.filter(pk__in=[a.pk for a in chosen])
        program = options.get("program")
        if program is not None:
            applications = applications.filter(program=program)
        unit = options.get("unit")
        if unit is not None:
            applications = applications.filter(household__unit__path__startswith=unit.path)
        method = options.get("method") or PaymentMethod.CASH
        table = signoff(
            applications,
            household="household__",
            program="program__name",
            amount="amount",
            goods=method == PaymentMethod.GOODS,
            unmask=Unmasker(user),
        )
        parts = [program.display_name if program is not None else _("所选申请")]
        if unit is not None:
            parts.append(unit.name)
        key = f"P{program.pk}" if program is not None else "A"
        return _signoff_document(
            self,
            key,
            _signoff_title(method),
            " · ".join(parts),
            table,
            obj=program,
            unit=unit,
        )
