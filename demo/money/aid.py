"""Single applications: living and medical aid through the year, and the
work waiting today for the chair, the city chair and finance."""

import datetime

from cases import clock
from cases.services.lifecycle import noncash_help_record
from programs.models import PaymentMethod
from programs.services import applications, payments

from ..clock import on_day
from .state import MoneyDemo


def living_and_medical(demo: MoneyDemo) -> None:
    _living(demo)
    _medical(demo)


def _living(demo: MoneyDemo) -> None:
    """Three applications in March, one of them paid in cash."""
    y = demo.year
    with on_day(datetime.date(y, 3, 10)):
        living = [
            demo.draft(demo.take(), "living", "3000", "妻子长期患病无业，家庭收入低于低保标准"),
            demo.draft(demo.take(), "living", "2400", "下岗后灵活就业收入不稳定，子女在读"),
            demo.draft(demo.take(), "living", "3600", "本人残疾，老人常年卧床需照护"),
        ]
        living = [demo.approve(a) for a in living]
    with on_day(datetime.date(y, 3, 15)):
        demo.pay(living[0], "grant")
        demo.pay(living[1], "grant")
        demo.pay(living[2], "grant", method=PaymentMethod.CASH)


def _medical(demo: MoneyDemo) -> None:
    """The sick child's, paid from the donation drive, and another's."""
    y = demo.year
    assert demo.sick is not None
    with on_day(datetime.date(y, 4, 20)):
        sick = demo.draft(
            demo.sick,
            "medical",
            "20000",
            "女儿住院治疗，医保报销后个人自付费用较高，社会爱心捐款定向救助",
            out_of_pocket="86000",
        )
        sick = demo.approve(sick, note="情况属实，同意救助")
    with on_day(datetime.date(y, 4, 25)):
        demo.pay(sick, "drive")
    with on_day(datetime.date(y, 5, 12)):
        other = demo.draft(
            demo.take(),
            "medical",
            "6000",
            "本人手术住院，医保报销后自付部分",
            out_of_pocket="15000",
        )
        other = demo.approve(other)
    with on_day(datetime.date(y, 5, 18)):
        demo.pay(other, "grant")


def waiting_today(demo: MoneyDemo) -> None:
    """Work waiting today: for the chair, the city chair and finance."""
    # Waiting for demo_chair.
    demo.draft(demo.take(), "living", "2000", "冬季取暖及生活开支困难")
    demo.draft(demo.take(), "medical", "4000", "慢性病长期服药，自付部分", out_of_pocket="9000")
    _approved_and_returned(demo)
    _escalated_and_refused(demo)
    _noncash_help(demo)


def _approved_and_returned(demo: MoneyDemo) -> None:
    """Approved, waiting for demo_finance to pay: one never paid, one whose
    bank payment came back and was reversed."""
    demo.approve(demo.draft(demo.take(), "living", "2500", "家庭主要劳动力因工伤停工"))
    returned = demo.approve(
        demo.draft(demo.take(), "living", "1800", "子女就学开支大，收入低于低保标准")
    )
    payment = demo.pay(returned, "grant")
    payments.aid_payment_reverse(
        actor=demo.finance,
        payment=payment,
        reason="银行退票：收款账户已销户，待核实新账户后重新发放",
    )


def _escalated_and_refused(demo: MoneyDemo) -> None:
    # Above the county's limit: approved by demo_chair, waiting for the city chair.
    escalated = demo.draft(
        demo.take(), "medical", "15000", "本人肿瘤手术及后续治疗", out_of_pocket="42000"
    )
    applications.application_decide(
        actor=demo.chair, application=escalated, approve=True, note="情况属实，报市总审批"
    )
    refused = demo.draft(demo.take(), "living", "3000", "申请生活救助")
    applications.application_decide(
        actor=demo.chair,
        application=refused,
        approve=False,
        note="核查发现家庭人均收入已超过当地低保标准两倍，不符合生活救助条件",
    )


def _noncash_help(demo: MoneyDemo) -> None:
    assert demo.sick is not None
    for household, kind, text in [
        (demo.sick, "policy", "协助申请城乡居民大病保险二次报销"),
        (demo.pool[0], "job", "推荐到金水区环卫处公益性岗位"),
        (demo.pool[0], "training", "参加市总工会职工技能培训（育婴师）"),
    ]:
        noncash_help_record(
            actor=demo.worker,
            household=household,
            kind=kind,
            given_on=clock.today(),
            description=text,
        )
