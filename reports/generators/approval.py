"""帮扶资金审批表 (aid approval form) for one application: the household, the
program, the amount in figures and in capitals, the reason, the approval
trail and the payment, with signature and seal areas."""

from typing import Any

from django.utils.translation import gettext as _

from accounts.masking import mask_bank_account, mask_id_number
from accounts.models import User
from accounts.scoping import can_unmask
from programs.models import Application
from programs.selectors.applications import get_application_for, payments_of
from programs.services.applications import threshold_for

from ..amounts import rmb_upper
from .base import Document, Generator, register


def approval_form(user: User, application: Application) -> dict[str, Any]:
    """The one selector of the form. Free text (the reason, opinions,
    reversal reasons) may name an illness: only a person who sees the
    household's data unmasked gets it."""
    household = application.household
    full = can_unmask(user, household.unit)
    payments = [
        {
            "fund": p.fund.name,
            "method": p.get_method_display(),
            "paid_on": p.paid_on,
            "amount": p.amount,
            "account": mask_bank_account(p.bank_account),
            "reversed": p.reversal_id is not None,
            "reversal_reason": p.reversal_reason if full else "",
        }
        for p in payments_of(application)
    ]
    return {
        "application": application,
        "household": household,
        "full": full,
        "id_number": household.id_number if full else mask_id_number(household.id_number),
        "bank_account": mask_bank_account(household.bank_account),
        "amount_capitals": rmb_upper(application.amount),
        "decisions": [
            {
                "level": d.get_level_display(),
                "approved": d.approved,
                "actor": str(d.actor),
                "at": d.decided_at,
                "note": d.note if full else "",
            }
            for d in application.decisions.all()
        ],
        "payments": payments,
        "threshold": threshold_for(application.program, household),
    }


@register
class ApprovalForm(Generator):
    name = "approval_form"
    prefix = "SP"
    action = "household.view"

    def target(self, user: User, pk: Any) -> Application:
        return get_application_for(user, pk, action=self.action)

    def build(self, user: User, target: Application, options: dict[str, Any]) -> Document:
        return Document(
            report=self.name,
            title=_("帮扶资金审批表"),
            number=self.number(f"A{target.pk}"),
            template="reports/pdf/approval_form.html",
            filename=f"approval-{target.pk}",
            context=approval_form(user, target),
            obj=target,
            unit=target.household.unit,
        )
