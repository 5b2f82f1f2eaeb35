"""Mutual aid: members enrolled and their first premiums in January, one
claim voted and paid in June, one waiting for the committee in September."""

import datetime

from cases import idnumber
from programs.models import Cooperative, CoopMember, PremiumKind
from programs.services import mutual

from ..clock import on_day
from .state import MoneyDemo

day = datetime.date
# Most members are ordinary union members without a household file: they
# are on the roster only.
ROSTER_ONLY = ("周建华", "吴丽娟", "郑国强")


def mutual_aid(demo: MoneyDemo) -> None:
    assert demo.coop is not None
    y = demo.year
    with on_day(day(y, 1, 5)):
        members = _enroll(demo, demo.coop)
    with on_day(day(y, 1, 8)):
        for member in members:
            mutual.premium_record(
                actor=demo.city_finance, member=member, kind=PremiumKind.FIRST, year=y
            )
    _claims(demo, members)


def _enroll(demo: MoneyDemo, coop: Cooperative) -> list[CoopMember]:
    members = [
        mutual.member_enroll(actor=demo.worker, cooperative=coop, household=household)
        for household in demo.pool[:8]
    ]
    for i, name in enumerate(ROSTER_ONLY):
        members.append(
            mutual.member_add(
                actor=demo.worker,
                cooperative=coop,
                name=name,
                id_number=idnumber.make(demo.county.code, day(1978 + i, 3, 1 + i), 200 + i),
                unit=demo.county,
                phone=f"139{i:04d}5678",
            )
        )
    return members


def _claims(demo: MoneyDemo, members: list[CoopMember]) -> None:
    y = demo.year
    with on_day(day(y, 6, 10)):
        claim = mutual.claim_submit(
            actor=demo.worker,
            member=members[0],
            category="medical",
            amount="2000",
            reason="住院手术，医保报销后自付 6800 元",
        )
        mutual.claim_vote(actor=demo.chair, claim=claim, approve=True, note="符合互助条件")
        mutual.claim_vote(actor=demo.city_chair, claim=claim, approve=True)
    with on_day(day(y, 6, 15)):
        # Paid straight from the cooperative's fund by finance who did not
        # vote on it.
        mutual.claim_pay(actor=demo.city_finance, claim=claim)
    with on_day(day(y, 9, 5)):
        waiting = mutual.claim_submit(
            actor=demo.worker,
            member=members[1],
            category="school",
            amount="800",
            reason="女儿考入郑州大学，入学费用困难",
        )
        mutual.claim_vote(actor=demo.chair, claim=waiting, approve=True, note="同意")
