from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import Fund, LedgerEntry


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    """Funds are created and moved through the services (audited); the admin
    only lists them."""

    list_display = ["name", "unit", "year", "source", "restriction", "is_active"]
    list_filter = ["year", "source", "restriction"]
    search_fields = ["name"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "fund", "kind", "direction", "amount", "memo", "actor"]
    list_filter = ["kind"]
    list_select_related = ["fund", "actor"]
