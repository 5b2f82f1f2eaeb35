from django.contrib import admin

from accounts.admin import AuditedAdmin

from .models import ApprovalThreshold, Program, StandardAmount


class StandardAmountInline(admin.TabularInline):
    model = StandardAmount
    extra = 0


class ApprovalThresholdInline(admin.TabularInline):
    model = ApprovalThreshold
    extra = 0


@admin.register(Program)
class ProgramAdmin(AuditedAdmin):
    list_display = ["name", "unit", "category", "kind", "window_start", "window_end", "is_active"]
    list_filter = ["category", "kind", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["eligible_tiers", "eligible_causes", "funds"]
    autocomplete_fields = ["unit"]
    inlines = [StandardAmountInline, ApprovalThresholdInline]
