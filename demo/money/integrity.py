"""Checks on the year's aid: households called back after their payment
(回访核实), complaints with their deadlines (投诉处理), and a chair who
registers a relative and recuses from that household's application (回避)."""

import datetime
from decimal import Decimal as D
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from cases import clock, idnumber
from cases.choices import Relation
from cases.models import Household, IntakeNotice, Member
from cases.services.kin import kin_register, kin_relative_add
from programs.models import (
    AidPayment,
    Application,
    Channel,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintDecision,
    Outcome,
    SampleKind,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.services import complaints
from programs.services.conflicts import application_recuse
from programs.services.verification import verification_case_close, verification_record

from ..clock import on_day
from .state import MoneyDemo, S

day = datetime.date
# What the drawn households said, by their place among all the drawn lines:
# the second received only part, the third could not be reached, the rest
# received it in full.
PARTIAL, UNREACHABLE = 1, 2
Target = Household | IntakeNotice | Application | AidPayment


def verification_calls(demo: MoneyDemo) -> None:
    """The county caseworker who drafted nothing calls back (or visits) the
    households drawn from each payment batch, ten days after it was paid;
    the city chair settles the part payment a week later."""
    samples = VerificationSample.objects.filter(
        kind=SampleKind.BATCH, payment_batch__fund__in=demo.funds.values()
    ).order_by("drawn_on", "pk")
    index = 0
    for sample in samples:
        lines = list(sample.lines.select_related("payment").order_by("position"))
        with on_day(min(sample.drawn_on + datetime.timedelta(days=10), clock.today())):
            for line in lines:
                _record(demo, line, index)
                index += 1
    partial = VerificationCase.objects.filter(line__outcome=Outcome.PARTIAL).first()
    if partial is not None:
        _settle(demo, partial)


def _record(demo: MoneyDemo, line: VerificationLine, index: int) -> None:
    paid = line.payment.amount
    received = paid - min(D("200"), paid / 2)
    outcome, channel, note = {
        PARTIAL: (
            Outcome.PARTIAL,
            Channel.VISIT,
            f"户主称只收到 {received:,.0f} 元，其余被单位工会以“会费”名义扣留",
        ),
        UNREACHABLE: (
            Outcome.UNREACHABLE,
            Channel.VISIT,
            "电话三次无人接听；入户时家中无人，邻居称户主已外出务工",
        ),
    }.get(index, (Outcome.FULL, Channel.PHONE, "户主确认已全额收到"))
    verification_record(
        actor=demo.verifier,
        line=line,
        outcome=outcome,
        channel=channel,
        note=note,
        amount_received=received if outcome == Outcome.PARTIAL else None,
    )


def _settle(demo: MoneyDemo, case: VerificationCase) -> None:
    line = case.line
    kept = line.payment.amount - (line.amount_received or D(0))
    when = (line.verified_at or clock.now()).date() + datetime.timedelta(days=7)
    with on_day(min(when, clock.today())):
        verification_case_close(
            actor=demo.city_chair,
            case=case,
            resolution=(
                f"经市总工会核查，基层工会扣留 {kept:,.0f} 元属实，已责令全额退还并通报批评；"
                "户主已确认补足到账。"
            ),
        )


def complaints_received(demo: MoneyDemo) -> None:
    """Four complaints: one answered and closed on time, one left past its
    deadline, one a caseworker is answering, and one about the county chair
    that only the city chair and the auditors read."""
    _closed_on_time(demo)
    _overdue(demo)
    _being_answered(demo)
    _about_the_chair(demo)


def _receive(
    demo: MoneyDemo, target: Target, category: str, channel: str, **fields: Any
) -> Complaint:
    """A complaint the county caseworker takes down for the worker who phoned,
    wrote or came in."""
    return complaints.complaint_record(
        actor=demo.worker, target=target, category=category, channel=channel, **fields
    )


def _closed_on_time(demo: MoneyDemo) -> None:
    y = demo.year
    payment = (
        AidPayment.objects.filter(batch__fund__in=demo.funds.values(), reversal__isnull=True)
        .select_related("application__household__unit")
        .order_by("paid_on", "pk")
        .first()
    )
    if payment is None:  # pragma: no cover - the 送温暖 batch is always paid
        return
    with on_day(day(y, 1, 27)):
        complaint = _receive(
            demo,
            payment,
            ComplaintCategory.PAYMENT,
            ComplaintChannel.PHONE,
            complainant_name=payment.application.household.name,
            content="春节送温暖慰问金至今未收到银行到账短信，询问是否漏发。",
        )
    with on_day(day(y, 2, 4)):
        complaints.complaint_close(
            actor=complaint.owner or demo.chair,
            complaint=complaint,
            decision=ComplaintDecision.DISMISSED,
            reply="经核实，慰问金已于 1 月 20 日由银行代发到账；户主未开通短信提醒，"
            "已电话告知并指导其查询存折明细。",
        )


def _overdue(demo: MoneyDemo) -> None:
    household = demo.take()
    with on_day(day(demo.year, 7, 20)):
        _receive(
            demo,
            household,
            ComplaintCategory.ELIGIBILITY,
            ComplaintChannel.LETTER,
            complainant_name="匿名来信",
            content="反映该户家庭成员名下有营运车辆一辆，收入未如实申报，不应认定为困难职工。",
        )


def _being_answered(demo: MoneyDemo) -> None:
    notice = (
        IntakeNotice.objects.filter(unit__path__startswith=demo.county.path).order_by("pk").first()
    )
    target: IntakeNotice | Household = notice if notice is not None else demo.take()
    today = clock.today()
    with on_day(today - datetime.timedelta(days=3)):
        complaint = _receive(
            demo,
            target,
            ComplaintCategory.NOTICE,
            ComplaintChannel.VISIT,
            complainant_name="李秀兰",
            complainant_phone="13803711234",
            content="来访反映公示栏设在厂区内，退休职工和家属看不到，对公示名单有意见无处反映。",
        )
    with on_day(today - datetime.timedelta(days=2)):
        complaint = complaints.complaint_assign(
            actor=demo.chair, complaint=complaint, owner=demo.worker, note="请核实后当面答复"
        )
        complaints.complaint_reply(
            actor=demo.worker,
            complaint=complaint,
            reply="已约来访人本周五到区总工会当面说明；公示同时张贴到社区公告栏，并延长公示期。",
        )


def _about_the_chair(demo: MoneyDemo) -> None:
    refused = (
        Application.objects.filter(program__in=demo.programs.values(), status=S.REJECTED)
        .select_related("household__unit")
        .order_by("pk")
        .first()
    )
    if refused is None:  # pragma: no cover - waiting_today refuses one
        return
    _receive(
        demo,
        refused,
        ComplaintCategory.ELIGIBILITY,
        ComplaintChannel.PHONE,
        complainant_name=refused.household.name,
        subject=demo.chair,
        content="认为区总工会主席审批时没有考虑家中老人长期住院的开支，"
        "不予救助的决定不公，要求重新审核。",
    )


# The county chair's own ID number: in a sequence block (800s) the demo
# households' numbers never use (demo.people), so it matches none of them.
CHAIR_ID = idnumber.make("410181", day(1974, 6, 18), 852)


def chair_recuses(demo: MoneyDemo) -> None:
    """The county chair registers her ID number and her sibling's, who lives
    in a filed household; when that household applies, she recuses and the
    application waits for the city chair (回避转办)."""
    household, sibling = _relative_in_pool(demo)
    application = demo.draft(household, "living", "2600", "配偶长期患病，子女在读，家庭收入低")
    kin_register(
        actor=demo.chair,
        id_number=CHAIR_ID,
        address="郑州市金水区经三路 68 号院 2 号楼 1 单元 502 室",
        phone="037163851234",
    )
    kin_relative_add(
        actor=demo.chair, relation=Relation.SIBLING, name=sibling.name, id_number=sibling.id_number
    )
    application_recuse(actor=demo.chair, application=application)


def _relative_in_pool(demo: MoneyDemo) -> tuple[Household, Member]:
    """The first household left in the pool with a member whose ID number is
    valid, taken out of the pool, and that member."""
    for household in demo.pool:
        for member in household.members.order_by("pk"):
            try:
                idnumber.parse(member.id_number)
            except ValidationError:
                continue
            demo.pool.remove(household)
            return household, member
    raise CommandError("金水区没有登记了成员身份证号的家庭，无法演示回避。")
