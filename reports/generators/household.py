"""困难职工家庭档案表 (household file card).

Full personal data only for a person who sees it unmasked in the household's
union (`can_unmask`); anyone else gets the card with ID, phone, address and
account masked by the one rule, and without health, disability, notes or
other free text that may carry a medical detail.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from accounts.masking import mask_address, mask_bank_account, mask_id_number, mask_phone
from accounts.models import User
from accounts.scoping import can_unmask
from cases.models import Household, Tier
from cases.selectors.households import get_household_for
from programs.selectors.money import household_money

from ..amounts import rmb_upper
from .base import Document, Generator, register

ASSESSMENTS_SHOWN = 3


@dataclass
class AidYear:
    year: int
    applied: Decimal
    received: Decimal


def _band(band: str) -> str:
    return str(Tier.National(band).label) if band in Tier.National.values else band


def household_card(user: User, household: Household) -> dict[str, Any]:
    """The one selector of the card: the file, its members, assessments,
    helpers and the aid received by year (payments minus reversals, from the
    ledger rows, through the same selector as the household's money view)."""
    full = can_unmask(user, household.unit)
    members = []
    for m in household.members.all():
        members.append(
            {
                "name": m.name,
                "relation": m.get_relation_display(),
                "id_number": m.id_number if full else mask_id_number(m.id_number),
                "birth_date": m.birth_date,
                "health": m.get_health_status_display() if full else "",
                "income": m.annual_income,
                "occupation": (
                    f"{m.school} {m.get_school_stage_display()} {m.grade}".strip()
                    if m.school_stage
                    else m.occupation
                ),
            }
        )
    money = household_money(user, household)
    years = [AidYear(y.year, y.applied, y.received) for y in money.years]
    return {
        "household": household,
        "full": full,
        "id_number": household.id_number if full else mask_id_number(household.id_number),
        "phone": household.phone if full else mask_phone(household.phone),
        "address": household.address if full else mask_address(household.address),
        "bank_account": (
            household.bank_account if full else mask_bank_account(household.bank_account)
        ),
        "members": members,
        "secondary_causes": [c.display_name for c in household.secondary_causes.all()],
        "assessments": [
            {
                "on": a.assessed_on,
                "income": a.income_wages
                + a.income_business
                + a.income_property
                + a.income_transfer
                + a.income_other,
                "expenses": a.expense_medical
                + a.expense_disability
                + a.expense_education
                + a.expense_housing,
                "size": a.household_size,
                "per_capita": a.per_capita,
                "standard": a.standard,
                "ratio": a.ratio,
                "suggested": a.suggested_tier.display_name
                if a.suggested_tier
                else _band(a.suggested_band),
                "by": str(a.created_by),
            }
            for a in household.assessments.select_related("suggested_tier", "created_by")[
                :ASSESSMENTS_SHOWN
            ]
        ],
        "helpers": list(
            household.helpers.filter(end_on__isnull=True)
            .select_related("person")
            .order_by("-is_first", "start_on", "pk")
        ),
        "aid_years": years,
        "received_total": money.received_total,
        "received_capitals": rmb_upper(money.received_total),
    }


@register
class HouseholdCard(Generator):
    name = "household_card"
    prefix = "DA"
    action = "household.view"

    def target(self, user: User, pk: Any) -> Household:
        return get_household_for(user, pk)

    def build(self, user: User, target: Household, options: dict[str, Any]) -> Document:
        context = household_card(user, target)
        return Document(
            report=self.name,
            title=_("困难职工家庭档案表"),
            number=self.number(target.file_number or f"H{target.pk}"),
            template="reports/pdf/household_card.html",
            filename=f"household-{target.pk}",
            context=context,
            obj=target,
            unit=target.unit,
        )
