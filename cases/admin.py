from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import AuditedAdmin, ReadOnlyAdmin
from accounts.scoping import units_for

from .models import (
    CaseRules,
    Cause,
    ComplaintDesk,
    FileCategory,
    Holiday,
    Household,
    LocalStandard,
    Tier,
)


@admin.register(Tier)
class TierAdmin(AuditedAdmin):
    list_display = ["name", "name_en", "national_category", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]


@admin.register(Cause)
class CauseAdmin(AuditedAdmin):
    list_display = ["name", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]


@admin.register(FileCategory)
class FileCategoryAdmin(AuditedAdmin):
    """档案分类: retire a category with 启用 off rather than deleting it, so
    files and programs that name it keep their history."""

    list_display = ["name", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "name_en"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    """Read-only listing for operators; files are kept in the app itself,
    where every write goes through the services and is audited."""

    list_display = ["name", "unit", "tier", "main_cause", "status", "file_number"]
    list_filter = ["status", "tier", "main_cause"]
    search_fields = ["name", "=id_number", "=phone", "=file_number"]
    list_select_related = ["unit", "tier", "main_cause"]
    show_full_result_count = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Household]:
        qs = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser:
            return qs
        return qs.filter(unit__in=units_for(user, "household.view"))


@admin.register(LocalStandard)
class LocalStandardAdmin(AuditedAdmin):
    list_display = ["unit", "amount", "effective_from", "note"]
    list_filter = ["effective_from"]
    autocomplete_fields = ["unit"]


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    list_display = ["date", "name", "is_workday"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"


@admin.register(ComplaintDesk)
class ComplaintDeskAdmin(AuditedAdmin):
    list_display = ["unit", "phone", "address", "working_days"]
    autocomplete_fields = ["unit"]


@admin.register(CaseRules)
class CaseRulesAdmin(AuditedAdmin):
    list_display = [
        "__str__", "deep_multiple", "relative_multiple", "accident_share",
        "notice_working_days", "visit_interval_months", "review_sample_percent",
        "exit_consecutive_months", "helpers_per_household", "first_helper_extra",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One set of rules: it is created on first use and then edited.
        return not CaseRules.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
