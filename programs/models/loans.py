"""Loans (无息贷款, 创业担保借款): an approved loan application, paid out like
aid, then repaid on a schedule back into the fund it came from."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.money import money_field
from cases.models import Household
from funds.models import Fund, LedgerEntry

from .aid import AidPayment, Application


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("还款中")
    SETTLED = "settled", _("已结清")


class Loan(models.Model):
    application = models.OneToOneField(
        Application, verbose_name=_("申请"), on_delete=models.PROTECT, related_name="loan"
    )
    payment = models.OneToOneField(
        AidPayment, verbose_name=_("放款"), on_delete=models.PROTECT, related_name="loan"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.PROTECT, related_name="loans"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="loans"
    )
    principal = money_field(_("本金（元）"))
    issued_on = models.DateField(_("放款日期"))
    term_months = models.PositiveSmallIntegerField(_("期限（月）"))
    status = models.CharField(
        _("状态"), max_length=8, choices=LoanStatus.choices, default=LoanStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("借款")
        verbose_name_plural = _("借款")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(principal__gt=Decimal("0")), name="loan_principal_positive"
            ),
            models.CheckConstraint(condition=Q(term_months__gte=1), name="loan_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.household.name} · {self.principal}"


class Installment(models.Model):
    """One scheduled repayment: what is due, and by when."""

    loan = models.ForeignKey(
        Loan, verbose_name=_("借款"), on_delete=models.CASCADE, related_name="installments"
    )
    seq = models.PositiveSmallIntegerField(_("期数"))
    due_on = models.DateField(_("应还日期"))
    amount = money_field(_("应还金额（元）"))

    class Meta:
        verbose_name = _("还款计划")
        verbose_name_plural = _("还款计划")
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="installment_unique_seq"),
        ]
        indexes = [models.Index(fields=["due_on"], name="installment_due_idx")]

    def __str__(self) -> str:
        return f"{self.loan} #{self.seq} {self.due_on}"


class Repayment(models.Model):
    loan = models.ForeignKey(
        Loan, verbose_name=_("借款"), on_delete=models.PROTECT, related_name="repayments"
    )
    amount = money_field(_("还款金额（元）"))
    paid_on = models.DateField(_("还款日期"))
    entry = models.OneToOneField(
        LedgerEntry, verbose_name=_("收入分录"), on_delete=models.PROTECT, related_name="repayment"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("还款记录")
        verbose_name_plural = _("还款记录")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=Decimal("0")), name="repayment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.loan} +{self.amount}"
