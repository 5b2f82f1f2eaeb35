"""Campaign batches: 春节送温暖 for one grassroots union in January, paid by
bank, and 金秋助学 for the county in August, paid partly in cash."""

import datetime

from accounts.models import Unit
from programs.models import Application, Batch, PaymentMethod
from programs.services import batches, payments

from ..clock import on_day
from .sheet import signed_sheet
from .state import MIN_HOUSEHOLDS, MoneyDemo, S

SANITATION = "410105001"  # 金水区环境卫生管理处工会: the 送温暖 batch
BUILDERS = "410105002"  # 河南省建设集团第一分公司工会: 金秋助学 paid in cash


def festival(demo: MoneyDemo) -> None:
    y = demo.year
    with on_day(datetime.date(y, 1, 15)):
        batch, _skipped = batches.batch_create(
            actor=demo.worker,
            unit=Unit.objects.get(code=SANITATION),
            program=demo.programs["festival"],
            title=f"{y}年春节送温暖（环卫处工会）",
        )
        batches.batch_submit(actor=demo.worker, batch=batch)
    with on_day(datetime.date(y, 1, 17)):
        _decide(demo, batch)
    with on_day(datetime.date(y, 1, 20)):
        approved = list(batch.lines.filter(status=S.APPROVED).order_by("pk"))
        payments.payment_batch_create(
            actor=demo.finance,
            fund=demo.funds["grant"],
            method=PaymentMethod.BANK,
            applications=approved,
            title=f"{y}年春节送温暖银行代发（环卫处工会）",
        )
    # Those households are taken: the single applications use others.
    taken = set(batch.lines.values_list("household_id", flat=True))
    _leave_out(demo, taken, keep=MIN_HOUSEHOLDS - 4)


def school(demo: MoneyDemo) -> None:
    y = demo.year
    with on_day(datetime.date(y, 8, 20)):
        batch, _skipped = batches.batch_create(
            actor=demo.worker,
            unit=demo.county,
            program=demo.programs["school"],
            title=f"{y}年金秋助学（金水区）",
            in_school=True,
        )
        batches.batch_submit(actor=demo.worker, batch=batch)
    with on_day(datetime.date(y, 8, 28)):
        _decide(demo, batch)
    approved = list(
        batch.lines.filter(status=S.APPROVED).select_related("household__unit").order_by("pk")
    )
    with on_day(datetime.date(y, 9, 6)):
        _pay_school(demo, approved)
    _leave_out(demo, {a.household_id for a in approved}, keep=8)


def _pay_school(demo: MoneyDemo, approved: list[Application]) -> None:
    """One union's lines in cash against a signed sheet, the rest by bank."""
    y = demo.year
    cash = [a for a in approved if a.household.unit.code == BUILDERS]
    bank = [a for a in approved if a.household.unit.code != BUILDERS]
    if cash:
        payments.payment_batch_create(
            actor=demo.finance,
            fund=demo.funds["grant"],
            method=PaymentMethod.CASH,
            applications=cash,
            title=f"{y}年金秋助学现金发放（建设集团一分公司工会）",
            signed_sheet=signed_sheet("金秋助学签收表"),
        )
    if bank:
        payments.payment_batch_create(
            actor=demo.city_finance,
            fund=demo.funds["city"],
            method=PaymentMethod.BANK,
            applications=bank,
            title=f"{y}年金秋助学银行代发（金水区）",
        )


def _decide(demo: MoneyDemo, batch: Batch) -> None:
    """The county chair approves; lines above its limit go to the city chair."""
    batches.batch_decide(actor=demo.chair, batch=batch, approve=True, note="同意")
    if batch.lines.filter(status=S.PENDING_PARENT).exists():
        batches.batch_decide(actor=demo.city_chair, batch=batch, approve=True, note="同意")


def _leave_out(demo: MoneyDemo, taken: set[int], *, keep: int) -> None:
    """Drop the batch's households from the pool, unless too few would remain."""
    rest = [h for h in demo.pool if h.pk not in taken]
    if len(rest) >= keep:
        demo.pool = rest
