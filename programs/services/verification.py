"""回访核实: drawing the sample, verifying a line, settling the case.

The draw. Each payment of the population is ranked by the SHA-256 of
"<seed>:<payment id>" (hex, smallest first) and the first `size` are drawn.
Anyone holding the seed and the payment ids draws the same lines again, in
any language, without this product (`sample_pick`).

A payment batch is drawn inside the transaction that pays it
(payment_batch_create calls `sample_draw_batch`): the sample exists exactly
when the batch does. Drawing on commit would leave a paid batch without a
sample whenever the process died between the two, and the draw costs one
insert per drawn line, which the batch's own inserts dwarf.

Payments made one by one are drawn once a month per union (the union of
the fund they came from), by `manage.py verification_draw` or a chair's
button, from the payments *recorded* in that month: once the month is over,
nothing can join it, so the draw never misses a late entry.
"""

import datetime
import hashlib
import math
import secrets
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers
from cases import clock

from ..models import (
    AidPayment,
    Application,
    CaseStatus,
    Channel,
    Outcome,
    PaymentBatch,
    SampleKind,
    VerificationCase,
    VerificationLine,
    VerificationRules,
    VerificationSample,
)
from ..models.verification import DEFAULT_SHARE_PERCENT
from .conflicts import conflict_guard
from .duties import Part, part_in

RECORD = "verification.record"
SETTLE = "verification.settle"
CONFIGURE = "verification.configure"
NOTE_MAX = 500
RESOLUTION_MAX = 2000


# -- The share ---------------------------------------------------------------------------


def _ancestor_paths(unit: Unit) -> list[str]:
    return [unit.path[: i + 1] for i, ch in enumerate(unit.path) if ch == "/"]


def verification_share(unit: Unit) -> int:
    """The union's share in percent: its own row, else its nearest
    ancestor's, else DEFAULT_SHARE_PERCENT. The draw, the settings page and
    the report all ask here."""
    share = (
        VerificationRules.objects.filter(unit__path__in=_ancestor_paths(unit))
        .order_by("-unit__path")
        .values_list("share_percent", flat=True)
        .first()
    )
    return DEFAULT_SHARE_PERCENT if share is None else share


def sample_size(population: int, share_percent: int) -> int:
    """The share of the population, rounded up, at least one, at most all."""
    if population <= 0:
        return 0
    return min(population, max(1, math.ceil(population * share_percent / 100)))


@transaction.atomic
def verification_share_set(*, actor: User, unit: Unit, share_percent: object) -> VerificationRules:
    """Set a union's share (its units below follow it unless they set their own)."""
    if not covers(actor, CONFIGURE, unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席或系统管理员可以设置回访比例。"))
    try:
        share = int(str(share_percent).strip())
    except (TypeError, ValueError):
        raise ValidationError({"share_percent": _("抽查比例须为 1 到 100 之间的整数。")}) from None
    if not 1 <= share <= 100:
        raise ValidationError({"share_percent": _("抽查比例须为 1 到 100 之间的整数。")})
    before = verification_share(unit)
    rules, _created = VerificationRules.objects.update_or_create(
        unit=unit, defaults={"share_percent": share, "updated_by": actor}
    )
    audit_record(
        actor=actor,
        action="verification.share_set",
        obj=unit,
        unit=unit,
        changes={"share_percent": [before, share]},
    )
    return rules


# -- The draw ----------------------------------------------------------------------------


def new_seed() -> str:
    return secrets.token_hex(16)


def sample_pick(population: Sequence[int], seed: str, size: int) -> list[int]:
    """The drawn payment ids, in the order drawn: ranked by
    sha256("<seed>:<id>"), smallest first."""

    def rank(pk: int) -> str:
        return hashlib.sha256(f"{seed}:{pk}".encode()).hexdigest()

    return sorted(set(population), key=rank)[:size]


def sample_redraw(sample: VerificationSample) -> list[int]:
    """Draw the sample again from its recorded population and seed: the
    payment ids of its lines, in their order, if nothing was tampered with."""
    return sample_pick(sample.population, sample.seed, sample.size)


def _draw(
    *,
    actor: User | None,
    unit: Unit,
    payments: list[AidPayment],
    kind: str,
    batch: PaymentBatch | None = None,
    month: datetime.date | None = None,
    seed: str | None = None,
) -> VerificationSample:
    by_id = {p.pk: p for p in payments}
    population = sorted(by_id)
    share = verification_share(unit)
    size = sample_size(len(population), share)
    seed = seed or new_seed()
    sample = VerificationSample.objects.create(
        unit=unit,
        kind=kind,
        payment_batch=batch,
        month=month,
        seed=seed,
        share_percent=share,
        population=population,
        size=size,
        drawn_on=clock.today(),
        drawn_by=actor,
    )
    VerificationLine.objects.bulk_create(
        VerificationLine(
            sample=sample,
            payment_id=pk,
            household_id=by_id[pk].application.household_id,
            position=position,
        )
        for position, pk in enumerate(sample_pick(population, seed, size), start=1)
    )
    audit_record(
        actor=actor,
        action="verification.draw",
        obj=sample,
        unit=unit,
        changes={
            "seed": [None, seed],
            "population": [None, len(population)],
            "size": [None, size],
            "share_percent": [None, share],
        },
    )
    return sample


def sample_draw_batch(*, actor: User, batch: PaymentBatch) -> VerificationSample:
    """Draw the verification sample of a payment batch just paid, inside the
    caller's transaction (payment_batch_create)."""
    payments = list(
        AidPayment.objects.filter(batch=batch, reversal__isnull=True)
        .select_related("application")
        .order_by("pk")
    )
    return _draw(
        actor=actor, unit=batch.fund.unit, payments=payments, kind=SampleKind.BATCH, batch=batch
    )


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    first = month_start(today or clock.today())
    return month_start(first - datetime.timedelta(days=1))


def _month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    nxt = month_start(month + datetime.timedelta(days=32))
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(month, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(nxt, datetime.time.min, tzinfo=tz)
    return start, end


def single_payments(unit: Unit, month: datetime.date) -> list[AidPayment]:
    """The month's population: payments not in a batch, not reversed, not
    brought in from the books (发放记录迁移), from the union's own funds,
    recorded during the month (in the union's time zone)."""
    start, end = _month_bounds(month)
    return list(
        AidPayment.objects.filter(
            batch__isnull=True,
            reversal__isnull=True,
            fund__unit=unit,
            created_at__gte=start,
            created_at__lt=end,
            application__migrated_from="",
        )
        .select_related("application")
        .order_by("pk")
    )


def units_with_single_payments(month: datetime.date) -> list[Unit]:
    start, end = _month_bounds(month)
    ids = (
        AidPayment.objects.filter(
            batch__isnull=True,
            reversal__isnull=True,
            created_at__gte=start,
            created_at__lt=end,
            application__migrated_from="",
        )
        .values_list("fund__unit_id", flat=True)
        .distinct()
    )
    return list(Unit.objects.filter(pk__in=list(ids)).order_by("path"))


def sample_draw_month(
    *, actor: User | None, unit: Unit, month: datetime.date
) -> tuple[VerificationSample | None, bool]:
    """Draw a union's monthly sample of single payments, once: a second call
    (the command after the button, two clicks) returns the first draw and
    False. None when the union paid nothing one by one that month. `actor`
    None is the scheduled command."""
    month = month_start(month)
    if month >= month_start(clock.today()):
        raise ValidationError({"month": _("只能对已经结束的月份抽样。")})
    if actor is not None and not covers(actor, SETTLE, unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席可以进行月度回访抽样。"))
    with transaction.atomic():
        # The union's row serialises two draws of its month: the second
        # waits, then finds the first.
        Unit.objects.select_for_update(no_key=True).filter(pk=unit.pk).first()
        existing = VerificationSample.objects.filter(
            unit=unit, kind=SampleKind.MONTH, month=month
        ).first()
        if existing is not None:
            return existing, False
        payments = single_payments(unit, month)
        if not payments:
            return None, False
        return (
            _draw(actor=actor, unit=unit, payments=payments, kind=SampleKind.MONTH, month=month),
            True,
        )


# -- Verifying a line -------------------------------------------------------------------


def check_verifier(actor: User, line: VerificationLine) -> None:
    """A caseworker or chair of a union covering the household, who had no
    part in the aid: neither drafted, approved (or voted on, for a mutual-aid
    claim) nor paid it."""
    refusals = {
        Part.PAID: _("发放该笔帮扶的人员不能回访核实。"),
        Part.DRAFTED: _("起草该申请的人员不能回访核实。"),
        Part.APPROVED: _("审批该申请的人员不能回访核实。"),
        Part.VOTED: _("参加表决该互助申请的委员会成员不能回访核实。"),
    }
    if not covers(actor, RECORD, line.household.unit):
        raise PermissionDenied(_("只有该户所在工会或上级工会的帮扶干部、主席可以回访核实。"))
    part = part_in(actor.pk, line.payment.application, line.payment)
    if part is not None:
        raise PermissionDenied(refusals[part])


def _application_of(line: VerificationLine) -> Application:
    return Application.objects.select_related("household").get(
        pk=AidPayment.objects.values_list("application_id", flat=True).get(pk=line.payment_id)
    )


def _locked(line: VerificationLine) -> VerificationLine:
    # Only rows that never change are joined: a lock that waited for another
    # verifier's commit re-reads the line, but PostgreSQL does not redo an
    # outer join to the verifier it set, so the verifier is read afterwards.
    return (
        VerificationLine.objects.select_for_update(no_key=True, of=("self",))
        .select_related("payment__application", "household__unit", "sample")
        .get(pk=line.pk)
    )


def _not_someone_elses(actor: User, line: VerificationLine) -> None:
    if line.outcome:
        raise ValidationError(
            _("该户已由 %(u)s 核实（%(o)s），不能重复登记。")
            % {"u": line.verifier, "o": line.get_outcome_display()}
        )
    if line.verifier_id is not None and line.verifier_id != actor.pk:
        raise ValidationError(
            _("该户已由 %(u)s 于 %(t)s 领取核实，请选择其他户。")
            % {"u": line.verifier, "t": f"{timezone.localtime(line.taken_at):%Y-%m-%d %H:%M}"}
        )


def verification_line_take(*, actor: User, line: VerificationLine) -> VerificationLine:
    """Take a drawn household to call or visit. Two verifiers taking it at
    once: the line's row lock lets one in, the other is told who has it."""
    conflict_guard(actor=actor, application=_application_of(line), step="verify")
    with transaction.atomic():
        line = _locked(line)
        check_verifier(actor, line)
        _not_someone_elses(actor, line)
        if line.verifier_id == actor.pk:
            return line
        line.verifier = actor
        line.taken_at = clock.now()
        line.save(update_fields=["verifier", "taken_at"])
        audit_record(
            actor=actor,
            action="verification.take",
            obj=line.household,
            unit=line.household.unit,
            changes={"line": [None, line.pk]},
        )
    return line


def escalation_unit(unit: Unit) -> Unit:
    """Where a problem goes: the union above, or the root union itself."""
    return unit.parent if unit.parent_id is not None else unit  # type: ignore[return-value]


def _amount(value: object, paid: Decimal) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount_received": _("请填写实收金额（元）。")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount_received": _("部分收到时，实收金额须大于 0。")})
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError({"amount_received": _("金额最多保留两位小数。")})
    if amount >= paid:
        raise ValidationError(
            {
                "amount_received": _("实收金额须小于发放金额 %(a)s 元；全额收到请选“全额收到”。")
                % {"a": f"{paid:,.2f}"}
            }
        )
    return amount


def verification_record(
    *,
    actor: User,
    line: VerificationLine,
    outcome: str,
    channel: str,
    note: str = "",
    amount_received: object = None,
) -> VerificationLine:
    """Record what the household said. The verifier takes the line if nobody
    has; a line another verifier holds, or one already verified, is refused
    with who has it. Anything but 全额收到 opens a case for the chair of the
    union above the household's."""
    conflict_guard(actor=actor, application=_application_of(line), step="verify")
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("请选择核实结果。")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("请选择核实方式（电话或入户）。")})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("情况说明最多 %(n)s 个字。") % {"n": NOTE_MAX}})
    if outcome != Outcome.FULL and not note:
        raise ValidationError({"note": _("未全额收到或联系不上时，请写明情况。")})
    with transaction.atomic():
        line = _locked(line)
        check_verifier(actor, line)
        _not_someone_elses(actor, line)
        amount = None
        if outcome == Outcome.PARTIAL:
            amount = _amount(amount_received, line.payment.amount)
        now = clock.now()
        if line.verifier_id is None:
            line.taken_at = now
        line.verifier = actor
        line.outcome = outcome
        line.channel = channel
        line.note = note
        # money_field's stub types the column as never None; it is nullable.
        line.amount_received = amount  # type: ignore[assignment]
        line.verified_at = now
        line.save(
            update_fields=[
                "verifier",
                "taken_at",
                "outcome",
                "channel",
                "note",
                "amount_received",
                "verified_at",
            ]
        )
        problem = outcome != Outcome.FULL
        VerificationSample.objects.filter(pk=line.sample_id).update(
            done=F("done") + 1, problems=F("problems") + (1 if problem else 0)
        )
        changes: dict[str, list[object]] = {
            "line": [None, line.pk],
            "outcome": [None, outcome],
            "channel": [None, channel],
        }
        if amount is not None:
            changes["amount_received"] = [None, str(amount)]
        if problem:
            case = VerificationCase.objects.create(
                line=line, unit=escalation_unit(line.household.unit)
            )
            changes["case"] = [None, case.pk]
        audit_record(
            actor=actor,
            action="verification.record",
            obj=line.household,
            unit=line.household.unit,
            changes=changes,
        )
    return line


# -- Settling a case --------------------------------------------------------------------


@transaction.atomic
def verification_case_close(
    *, actor: User, case: VerificationCase, resolution: str
) -> VerificationCase:
    """The chair of the case's union records what was found and done, and
    closes it. A closed case stays closed."""
    case = (
        VerificationCase.objects.select_for_update(no_key=True, of=("self",))
        .select_related("unit", "line__household__unit")
        .get(pk=case.pk)
    )
    if not covers(actor, SETTLE, case.unit):
        raise PermissionDenied(
            _("只有 %(u)s 或其上级工会的主席可以办结该回访问题。") % {"u": case.unit}
        )
    payment = case.line.payment
    if part_in(actor.pk, payment.application, payment) is not None:
        raise PermissionDenied(
            _("起草、审批或发放这笔帮扶的人员不能办结它的回访问题，请由其他主席办结。")
        )
    if case.status == CaseStatus.CLOSED:
        raise ValidationError(_("该回访问题已办结。"))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("请填写处理结果。")})
    if len(resolution) > RESOLUTION_MAX:
        raise ValidationError(
            {"resolution": _("处理结果最多 %(n)s 个字。") % {"n": RESOLUTION_MAX}}
        )
    case.status = CaseStatus.CLOSED
    case.resolution = resolution
    case.resolved_by = actor
    case.closed_at = clock.now()
    case.save(update_fields=["status", "resolution", "resolved_by", "closed_at"])
    household = case.line.household
    audit_record(
        actor=actor,
        action="verification.case_close",
        obj=household,
        unit=household.unit,
        changes={"case": [None, case.pk], "status": [CaseStatus.OPEN, CaseStatus.CLOSED]},
    )
    return case
