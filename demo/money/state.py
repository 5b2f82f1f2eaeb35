"""Who does the demo's money work, in which year, with what, and the steps
every part of it repeats: draft, approve, pay."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

from accounts.models import Unit, User
from cases.models import Household
from funds.models import Fund
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Cooperative,
    PaymentMethod,
    Program,
)
from programs.services import applications, payments

from .sheet import signed_sheet

S = ApplicationStatus
MIN_HOUSEHOLDS = 20


def demo_year(today: datetime.date) -> int:
    """The latest year whose 金秋助学 round is over."""
    return today.year if today >= datetime.date(today.year, 9, 10) else today.year - 1


@dataclass
class MoneyDemo:
    year: int
    city: Unit
    county: Unit
    worker: User  # the county caseworker drafts
    chair: User  # the county chair decides
    finance: User  # the county finance officer pays
    city_chair: User  # decides above the county's limits
    city_finance: User  # keeps the city's funds
    verifier: User  # the county caseworker who calls paid households back
    # The county's filed households not yet used by a demo application.
    pool: list[Household] = field(default_factory=list)
    funds: dict[str, Fund] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    coop: Cooperative | None = None
    sick: Household | None = None  # the donation drive's household

    def take(self) -> Household:
        """A household no other demo application has used yet."""
        return self.pool.pop(0)

    def draft(
        self, household: Household, program: str, amount: str, reason: str, **fields: Any
    ) -> Application:
        program_obj = self.programs[program]
        standard = next(
            (a.amount for a in program_obj.amounts.all() if a.tier_id == household.tier_id), None
        )
        if standard is not None and D(amount) != standard:
            fields.setdefault("amount_reason", "按家庭实际困难程度调整")
        return applications.application_draft(
            actor=self.worker,
            household=household,
            program=program_obj,
            amount=amount,
            reason=reason,
            **fields,
        )

    def approve(self, application: Application, note: str = "") -> Application:
        """The county chair decides; above its limit the city chair as well."""
        application = applications.application_decide(
            actor=self.chair, application=application, approve=True, note=note
        )
        if application.status == S.PENDING_PARENT:
            application = applications.application_decide(
                actor=self.city_chair, application=application, approve=True, note="同意"
            )
        return application

    def pay(
        self,
        application: Application,
        fund: str,
        *,
        by: User | None = None,
        method: str = PaymentMethod.BANK,
    ) -> AidPayment:
        sheet = signed_sheet("现金发放签收表") if method != PaymentMethod.BANK else None
        return payments.aid_pay(
            actor=by or self.finance,
            application=application,
            fund=self.funds[fund],
            method=method,
            signed_sheet=sheet,
        )
