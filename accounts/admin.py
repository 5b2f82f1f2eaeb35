"""Django admin for system administrators: users, units, memberships.

Writes go through the same services as the app, so they leave audit events.
The audit trail itself is read-only here, as everywhere.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from . import services
from .api.tokens import api_token_create, api_token_revoke
from .audit import audit_record
from .models import ApiToken, AuditEvent, Membership, Unit, User
from .otp import otp_reset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listing only: these records change through the services, or never."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Records every admin save and delete in the audit trail."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            changes={f: [None, str(form.cleaned_data.get(f))] for f in form.changed_data},
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, action=f"{obj._meta.model_name}.delete", obj=obj)  # type: ignore[arg-type]
        super().delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "phone", "is_active", "last_login"]
    search_fields = ["username", "full_name", "phone"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (gettext_lazy("联系信息"), {"fields": ("full_name", "phone")}),
    )
    inlines = [MembershipInline]
    actions = ["reset_second_factor"]

    @admin.action(
        description=gettext_lazy("重置双因素验证（手机丢失或更换时）"), permissions=["change"]
    )
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> None:
        actor: Any = request.user
        for user in queryset:
            otp_reset(actor=actor, user=user)
        self.message_user(
            request,
            gettext("已重置 %(count)d 个用户的双因素验证，他们下次登录时需重新设置。")
            % {"count": len(queryset)},
        )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Moving a unit would have to rewrite its whole subtree's paths.
        return ["path", "depth", "parent", "code"] if obj else ["path", "depth"]

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        actor: Any = request.user
        if change:
            services.unit_update(
                actor=actor, unit=obj, name=obj.name, kind=obj.kind, is_active=obj.is_active
            )
        else:
            created = services.unit_create(
                actor=actor, code=obj.code, name=obj.name, kind=obj.kind, parent=obj.parent
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "unit", "role", "sees_unmasked", "created_at"]
    list_filter = ["role", "sees_unmasked"]
    search_fields = ["user__username", "user__full_name", "unit__name"]
    autocomplete_fields = ["user", "unit"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_repr", "unit", "ip"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor__username"]
    date_hierarchy = "created_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """An administrator sees every API token, revokes any, and may make one
    for a person (its key is shown once, on the page after saving). Keys are
    never stored, so none can be shown later."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "user__full_name", "name", "prefix"]
    fields = ["user", "name"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "name"] if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the audit trail names them

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor: Any = request.user
        token, key = api_token_create(actor=actor, user=obj.user, name=obj.name)
        obj.pk = token.pk
        request._api_token_key = (token, key)  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        token, key = request._api_token_key  # type: ignore[attr-defined]
        response = render(request, "accounts/api_token_created.html", {"token": token, "key": key})
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description=gettext_lazy("撤销所选令牌"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        actor: Any = request.user
        # All of them or none: a refusal half-way leaves nothing half-revoked.
        with transaction.atomic():
            for token in queryset.filter(revoked_at__isnull=True):
                api_token_revoke(actor=actor, token=token)
        self.message_user(request, gettext("所选令牌已撤销。"))
