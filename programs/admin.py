from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from accounts.admin import AuditedAdmin, ReadOnlyAdmin

from .models import (
    ApprovalThreshold,
    Category,
    Claim,
    ClaimCategory,
    ClaimVote,
    Cooperative,
    CoopMember,
    Installment,
    Kind,
    Loan,
    Premium,
    Program,
    Repayment,
    StandardAmount,
)


class StandardAmountInline(admin.TabularInline):
    model = StandardAmount
    extra = 0


class ApprovalThresholdInline(admin.TabularInline):
    model = ApprovalThreshold
    extra = 0


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = [
        "name",
        "name_en",
        "unit",
        "category",
        "kind",
        "window_start",
        "window_end",
        "is_active",
    ]
    list_filter = ["category", "kind", "is_active"]
    search_fields = ["name", "name_en"]
    filter_horizontal = ["eligible_tiers", "eligible_causes", "funds"]
    autocomplete_fields = ["unit"]
    inlines = [StandardAmountInline, ApprovalThresholdInline]


# -- Loans and mutual aid --------------------------------------------------------
# Loans, repayments, premiums, claims and votes move money or decide it; they
# change only through the services (audited, locked), so the admin lists them.


class CooperativeForm(forms.ModelForm):
    class Meta:
        model = Cooperative
        fields = [
            "unit",
            "name",
            "fund",
            "program",
            "first_premium",
            "yearly_premium",
            "committee",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program, fund, unit = data.get("program"), data.get("fund"), data.get("unit")
        if program is not None:
            if program.category != Category.MUTUAL_MEDICAL or program.kind != Kind.CASH:
                self.add_error(
                    "program", gettext_lazy("请选择类别为“医疗互助”、方式为“现金”的项目。")
                )
            elif fund is not None and not program.funds.filter(pk=fund.pk).exists():
                # Approved claims are paid from the cooperative's fund through
                # its program: the program must be allowed to draw on it.
                self.add_error("fund", gettext_lazy("该资金不在互助项目的可列支资金中。"))
        if fund is not None and unit is not None and not fund.unit.covers(unit):
            self.add_error("fund", gettext_lazy("互助资金应属于本工会或其上级工会。"))
        for name in ("first_premium", "yearly_premium"):
            value = data.get(name)
            if value is not None and value <= 0:
                self.add_error(name, gettext_lazy("缴费金额必须大于 0。"))
        return data


@admin.register(Cooperative)
class CooperativeAdmin(AuditedAdmin):
    form = CooperativeForm
    list_display = [
        "name",
        "unit",
        "fund",
        "program",
        "first_premium",
        "yearly_premium",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["unit"]
    filter_horizontal = ["committee"]
    list_select_related = ["unit", "fund", "program"]


@admin.register(CoopMember)
class CoopMemberAdmin(ReadOnlyAdmin):
    list_display = ["name", "unit", "cooperative", "household", "joined_on", "created_by"]
    list_select_related = ["unit", "household", "cooperative", "created_by"]
    list_filter = ["cooperative"]
    search_fields = ["name"]


@admin.register(ClaimCategory)
class ClaimCategoryAdmin(AuditedAdmin):
    """互助类别: the list the claim form offers and the figures count by.
    A category in use is retired (启用 off), never deleted (the claims
    protect it)."""

    list_display = ["name", "name_en", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "name_en", "code"]


@admin.register(Premium)
class PremiumAdmin(ReadOnlyAdmin):
    list_display = ["member", "kind", "year", "amount", "paid_on", "actor"]
    list_filter = ["kind", "year"]
    list_select_related = ["member__cooperative", "actor"]


class ClaimVoteInline(admin.TabularInline):
    model = ClaimVote
    extra = 0
    can_delete = False
    readonly_fields = ["voter", "approve", "note", "voted_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = [
        "member", "category", "amount", "status", "submitted_at", "decided_at", "paid_on",
    ]  # fmt: skip
    list_filter = ["status", "category"]
    list_select_related = ["member__cooperative", "category"]
    inlines = [ClaimVoteInline]


@admin.register(ClaimVote)
class ClaimVoteAdmin(ReadOnlyAdmin):
    list_display = ["claim", "voter", "approve", "voted_at"]
    list_filter = ["approve"]
    list_select_related = ["claim__member__cooperative", "claim__category", "voter"]


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "due_on", "amount"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    list_display = ["household", "principal", "issued_on", "term_months", "status", "fund"]
    list_filter = ["status"]
    list_select_related = ["household", "fund"]
    inlines = [InstallmentInline]


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdmin):
    list_display = ["loan", "seq", "due_on", "amount"]
    list_select_related = ["loan__household"]


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = ["loan", "amount", "paid_on", "actor", "created_at"]
    list_select_related = ["loan__household", "actor"]
