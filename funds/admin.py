from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import AuditedAdmin, ReadOnlyAdmin

from .models import FinanceRules, Fund, IncomeSource, LedgerEntry


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    """Funds are created and moved through the services (audited); the admin
    only lists them."""

    list_display = ["name", "unit", "year", "restriction", "is_active"]
    list_filter = ["year", "restriction"]
    search_fields = ["name"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "occurred_on", "fund", "kind", "source", "payer", "direction", "amount",
        "memo", "actor",
    ]  # fmt: skip
    list_filter = ["kind", "source"]
    list_select_related = ["fund", "actor", "source"]


@admin.register(IncomeSource)
class IncomeSourceAdmin(AuditedAdmin):
    """The list of sources every receipt names (资金来源), edited by the
    system administrator. A source already named by receipts cannot be
    deleted (the ledger keeps it): switch it off instead, and new receipts
    no longer offer it. The codes mark the built-in sources the product
    posts to itself (互助会费 = "premium"), so they are not editable here."""

    list_display = ["name", "name_en", "code", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en"]
    readonly_fields = ["code"]

    def has_delete_permission(self, request: HttpRequest, obj: IncomeSource | None = None) -> bool:
        if obj is not None and (obj.code or obj.entries.exists()):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(FinanceRules)
class FinanceRulesAdmin(AuditedAdmin):
    """A union's money rules: how many days back finance may date a payment
    or a receipt (with a reason). A union without a row follows its nearest
    ancestor's."""

    list_display = ["unit", "backdate_days"]
    autocomplete_fields = ["unit"]
