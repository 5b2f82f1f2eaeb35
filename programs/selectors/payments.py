"""Reads for paying aid: the queue of approved applications, the funds a
payer may draw on, payment batches and their payments.

Applications are scoped by their household's union, payments and batches by
their fund's union; acting takes `fund.manage`, reading `fund.view`."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import Unit, User
from accounts.money import NO_MONEY, SUM_FIELD, yuan
from accounts.paging import count_cap, estimated_count, paged, rounded_estimate
from accounts.scoping import covers_everything, get_scoped, require_action, units_for
from cases.models import Household
from funds import selectors as fund_selectors
from funds.models import Fund

from ..models import (
    AidPayment,
    Application,
    ApplicationStatus,
    ClaimVote,
    Decision,
    Kind,
    PaymentBatch,
    Program,
)

MANAGE = "fund.manage"
VIEW = "fund.view"


def _payable() -> Q:
    # Loans are paid out by the loan screen (which sets the schedule), and
    # help without money (a service, zero yuan) has nothing to pay.
    return Q(status=ApplicationStatus.APPROVED, amount__gt=0) & ~Q(program__kind=Kind.LOAN)


@dataclass
class QueueFilter:
    program: Program | None = None
    unit: Unit | None = None


def payable(user: User) -> QuerySet[Application]:
    """Approved, unpaid applications of households in the user's finance units."""
    granted = require_action(user, MANAGE)
    if covers_everything(granted):
        return Application.objects.filter(_payable())  # every union: no scope join
    return Application.objects.filter(_payable(), household__unit__in=units_for(user, MANAGE))


def queue_filtered(
    user: User, flt: QueueFilter, *, waiting: QuerySet[Application] | None = None
) -> QuerySet[Application]:
    """`payable` (or `waiting`, the user's `payable` read once for the page),
    filtered: what the queue's total adds up (`queue_total`)."""
    qs = payable(user) if waiting is None else waiting
    if flt.program is not None:
        qs = qs.filter(program=flt.program)
    if flt.unit is not None:
        # The union's households as a subquery of ids (read off the
        # household unit index), not a join the page's order must wait on.
        qs = qs.filter(
            household__in=Household.objects.filter(unit__path__startswith=flt.unit.path).values(
                "pk"
            )
        )
    return qs


def payment_queue(
    user: User, flt: QueueFilter, *, waiting: QuerySet[Application] | None = None
) -> QuerySet[Application]:
    """The queue page's rows: `queue_filtered`, with what each row shows."""
    return queue_rows(user, queue_filtered(user, flt, waiting=waiting))


def queue_rows(user: User, qs: QuerySet[Application]) -> QuerySet[Application]:
    """The filtered queue (`queue_filtered`) in the page's order, with what
    each row shows."""
    # What a row shows, as plain values beside the application (no related
    # instances, no prefetch: 50 rows of five models each cost the page more
    # than its SQL), and whether this payer decided or voted on it (what the
    # payer check, services.payments.check_payer, looks for besides the
    # drafter).
    mine_decided = Decision.objects.filter(application=OuterRef("pk"), actor=user)
    mine_voted = ClaimVote.objects.filter(claim__application=OuterRef("pk"), voter=user)
    return paged(
        qs.only("id", "amount", "drafted_by_id", "program_id", "batch_id", "household_id")
        .annotate(
            household_name=F("household__name"),
            household_file_number=F("household__file_number"),
            unit_name=F("household__unit__name"),
            program_name=F("program__name"),
            program_name_en=F("program__name_en"),
            batch_title=F("batch__title"),
            payer_decided=Exists(mine_decided),
            payer_voted=Exists(mine_voted),
        )
        # Oldest application first: paid in the order they were made. The
        # order is the primary key alone, so a page (and the page after a
        # 下一页 key) reads off application_payable_idx, or
        # application_payable_prog_idx with a program, instead of sorting
        # every payable row on each request.
        .order_by("pk")
    )


def queue_funds(user: User, program_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
    """For each program, the funds it may be paid from that this payer
    manages (name and year, newest year first): never another county's. One
    query for a page of the queue."""
    links = (
        Program.funds.through.objects.filter(
            program_id__in=set(program_ids), fund__unit__in=units_for(user, MANAGE)
        )
        .order_by("-fund__year", "fund__name")
        .values_list("program_id", "fund__name", "fund__year")
    )
    funds: dict[int, list[tuple[str, int]]] = {}
    for program_id, name, year in links:
        funds.setdefault(program_id, []).append((name, year))
    return funds


@dataclass
class QueueTotal:
    """How many applications the queue holds and what they add up to, when
    they are few enough to add up on every request: `count` and `total` up to
    the cap, else `estimate` (the planner's, on PostgreSQL) and no total."""

    count: int | None
    total: Decimal | None
    estimate: int | None
    cap: int

    # Grouped by thousands as the list pagers write them ("约 24,000 条"),
    # whatever the language's own grouping.
    @property
    def count_text(self) -> str:
        return f"{self.count:,}" if self.count is not None else ""

    @property
    def estimate_text(self) -> str:
        return f"{self.estimate:,}" if self.estimate is not None else ""

    @property
    def cap_text(self) -> str:
        return f"{self.cap:,}"


def queue_total(applications: QuerySet[Application]) -> QueueTotal:
    """The queue's count and sum, reading at most cap + 1 rows (one query,
    over the same index as the page); above the cap, an estimate instead."""
    cap = count_cap()
    row = (
        applications.order_by()
        .values("pk", "amount")[: cap + 1]
        .aggregate(
            count=Count("pk"), total=Coalesce(Sum("amount"), NO_MONEY, output_field=SUM_FIELD)
        )
    )
    if row["count"] <= cap:
        return QueueTotal(row["count"], yuan(row["total"]), None, cap)
    estimate = estimated_count(applications)
    if estimate is not None:
        estimate = rounded_estimate(max(estimate, cap + 1))
    return QueueTotal(None, None, estimate, cap)


def queue_programs(
    user: User, *, waiting: QuerySet[Application] | None = None
) -> QuerySet[Program]:
    """Programs with something to pay in the user's units (the filter's choices)."""
    qs = payable(user) if waiting is None else waiting
    return Program.objects.filter(pk__in=qs.values("program_id")).order_by("name")


def get_application_to_pay(user: User, pk: Any) -> Application:
    queryset = Application.objects.select_related(
        "household__unit", "program", "drafted_by", "batch"
    ).prefetch_related("decisions__actor")
    return get_scoped(user, queryset, pk, action=MANAGE, unit_field="household__unit")


def pay_funds(user: User, application: Application) -> QuerySet[Fund]:
    """The program's funds this payer manages that reach the household's union,
    each with its balance."""
    # The household's union and the unions above it, read off its path.
    reaching = [int(part) for part in application.household.unit.path.split("/") if part]
    return fund_selectors.managed_funds(user).filter(
        programs=application.program, unit_id__in=reaching
    )


def live_payment(application: Application) -> AidPayment | None:
    return (
        application.payments.filter(reversal__isnull=True)
        .select_related("fund__unit", "paid_by", "batch", "entry")
        .first()
    )


def past_payments(application: Application) -> list[AidPayment]:
    """Payments of the application that were reversed, newest first."""
    return list(
        application.payments.filter(reversal__isnull=False).select_related(
            "fund", "paid_by", "reversal__actor"
        )
    )


# -- Batches and payments --------------------------------------------------------------


def batch_list(user: User) -> QuerySet[PaymentBatch]:
    require_action(user, VIEW)
    live = Q(payments__reversal__isnull=True)
    return (
        PaymentBatch.objects.filter(fund__unit__in=units_for(user, VIEW))
        .select_related("fund__unit", "created_by")
        .annotate(
            paid_count=Count("payments", filter=live),
            paid_total=Coalesce(
                Sum("payments__entry__amount", filter=live), NO_MONEY, output_field=SUM_FIELD
            ),
        )
        .order_by("-created_at", "-pk")
    )


def get_batch_for(user: User, pk: Any, *, action: str = VIEW) -> PaymentBatch:
    queryset = PaymentBatch.objects.select_related("fund__unit", "created_by")
    return get_scoped(user, queryset, pk, action=action, unit_field="fund__unit")


def batch_payments(batch: PaymentBatch) -> list[AidPayment]:
    return list(
        batch.payments.select_related(
            "application__household__unit", "application__program", "entry", "reversal", "paid_by"
        ).order_by("pk")
    )


@dataclass
class BatchTotals:
    count: int
    total: Decimal
    reversed_count: int


def batch_totals(batch: PaymentBatch) -> BatchTotals:
    """What the batch paid and still stands: the sum of its live payments'
    ledger entries (reversed payments are left out)."""
    row = batch.payments.aggregate(
        count=Count("pk", filter=Q(reversal__isnull=True)),
        total=Coalesce(
            Sum("entry__amount", filter=Q(reversal__isnull=True)), NO_MONEY, output_field=SUM_FIELD
        ),
        reversed_count=Count("pk", filter=Q(reversal__isnull=False)),
    )
    return BatchTotals(row["count"], yuan(row["total"]), row["reversed_count"])


def bank_file_rows(batch: PaymentBatch) -> list[AidPayment]:
    """The transfers the bank is asked to make: the live payments, in order."""
    return list(batch.payments.filter(reversal__isnull=True).select_related("entry").order_by("pk"))


def get_payment_for(user: User, pk: Any, *, action: str = VIEW) -> AidPayment:
    queryset = AidPayment.objects.select_related(
        "application__household__unit", "application__program", "fund__unit", "batch",
        "entry", "reversal", "paid_by",
    )  # fmt: skip
    return get_scoped(user, queryset, pk, action=action, unit_field="fund__unit")
