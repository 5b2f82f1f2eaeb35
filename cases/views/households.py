from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import tables
from accounts.i18n import pick_name
from accounts.masking import mask_address, mask_bank_account, mask_id_number, mask_phone
from accounts.paging import paginate
from accounts.scoping import can_unmask, has_action, require_action, units_for
from accounts.web import attach_errors as _attach_errors

from .. import services
from ..forms.households import (
    AttachmentForm,
    HouseholdFilterForm,
    HouseholdForm,
    MemberFormSet,
    member_changes,
)
from ..models import Household, HouseholdStatus
from ..selectors import households as selectors
from ..uploads import private_file_response
from . import followup, intake, lifecycle


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.view")
    units = units_for(user, "household.view")
    form = HouseholdFilterForm(request.GET or None, units=units)
    if form.is_bound and not form.is_valid():
        households = Household.objects.none()
    else:
        flt = form.to_filter() if form.is_bound else selectors.HouseholdFilter()
        households = selectors.household_list(user, flt)
    # Only what a row shows, as plain values: a household has fifty columns,
    # and building 26 households with their union, tier and cause as model
    # instances was a third of the page.
    page = paginate(
        request, households, settings.HOUSEHOLD_PAGE_SIZE, noun="户", values=_LIST_VALUES
    )
    detail = reverse("cases:household_detail", args=[_PK]).replace(str(_PK), "{}")
    labels = {value: str(label) for value, label in HouseholdStatus.choices}
    rows = [_row(h, detail, labels) for h in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "head_html": tables.header(_COLUMNS),
        "rows_html": tables.rows(rows, _COLUMNS),
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not (htmx and htmx.history_restore_request)
    template = "cases/_household_rows.html" if partial else "cases/household_list.html"
    return render(request, template, context)


_PK = 987654321  # stands for a row's pk in the one reversed detail URL

# The household values a row reads.
_LIST_VALUES = (
    "id",
    "name",
    "id_number",
    "status",
    "file_number",
    "unit__name",
    "tier_id",
    "tier__name",
    "tier__name_en",
    "main_cause_id",
    "main_cause__name",
    "main_cause__name_en",
)

# The list's columns; each label is also the cell's data-label, which the
# phone layout shows beside the value.
_COLUMNS = (
    tables.Column(_lazy("户主姓名"), lambda r: tables.link(r["url"], r["name"])),
    tables.Column(_lazy("身份证号"), lambda r: r["id_number"]),
    tables.Column(_lazy("所属工会"), lambda r: r["unit"]),
    tables.Column(_lazy("困难类别"), lambda r: r["tier"]),
    tables.Column(_lazy("主要致困原因"), lambda r: r["cause"]),
    tables.Column(_lazy("状态"), lambda r: tables.badge(r["status"], r["status_label"])),
    tables.Column(_lazy("档案编号"), lambda r: r["file_number"]),
)


def _row(h: dict[str, Any], detail: str, labels: dict[str, str]) -> dict[str, Any]:
    """What a list row shows, from the row's values; one reverse() a page
    instead of a {% url %} per row."""
    return {
        "id": h["id"],
        "url": detail.format(h["id"]),
        "name": h["name"],
        # List pages always mask: a full number is one click away and audited.
        "id_number": mask_id_number(h["id_number"]),
        "unit": h["unit__name"],
        "tier": pick_name(h["tier__name"], h["tier__name_en"]) if h["tier_id"] else "—",
        "cause": (
            pick_name(h["main_cause__name"], h["main_cause__name_en"])
            if h["main_cause_id"]
            else "—"
        ),
        "status": h["status"],
        # get_status_display() hashes the lazy choices on every call (0.7 ms).
        "status_label": labels.get(h["status"], h["status"]),
        "file_number": h["file_number"] or "—",
    }


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = selectors.get_household_for(user, pk)
    context = {
        "household": household,
        "masked": {
            "id_number": mask_id_number(household.id_number),
            "phone": mask_phone(household.phone),
            "address": mask_address(household.address),
            "bank_account": mask_bank_account(household.bank_account),
        },
        "can_unmask": can_unmask(user, household.unit),
        "can_edit": has_action(user, "household.edit")
        and selectors.household_in_scope(user, household, "household.edit"),
        "attachment_form": AttachmentForm(),
        "attachment_limit": settings.ATTACHMENT_MAX_BYTES,
        **selectors.household_detail(household),
    }
    for area in (intake, followup, lifecycle):
        context.update(area.panel_context(user, household))
    return render(request, "cases/household_detail.html", context)


@login_required
@require_POST
def household_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one full personal value to a user allowed to see it, and log it."""
    user = _user(request)
    household = selectors.get_household_for(user, pk)
    field = request.POST.get("field", "id_number")
    if field not in {"id_number", "phone", "address", "bank_account"}:
        field = "id_number"
    if not can_unmask(user, household.unit):
        return HttpResponse(_("您无权查看完整信息。"), status=403)
    value = services.household_reveal_id(actor=user, household=household, field=field)
    return render(request, "cases/_revealed.html", {"value": value})


def _edit_units(user: Any) -> Any:
    return units_for(user, "household.edit").filter(is_active=True)


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    require_action(user, "household.edit")
    units = _edit_units(user)
    form = HouseholdForm(request.POST or None, units=units)
    formset = MemberFormSet(request.POST or None, prefix="members")
    # Validate both so every error shows at once, not the members' only later.
    if request.method == "POST" and all([form.is_valid(), formset.is_valid()]):
        upserts, _deleted = member_changes(formset)
        try:
            household = services.household_create(
                actor=user,
                unit=form.cleaned_data["unit"],
                data=form.service_data(),
                secondary_causes=list(form.cleaned_data["secondary_causes"]),
                categories=list(form.cleaned_data["categories"]),
                members=upserts,
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("已建立“%(name)s”的家庭档案。") % {"name": household.name})
            return redirect("cases:household_detail", pk=household.pk)
    if request.method == "GET" and units.count() == 1:
        form.initial["unit"] = units.first()
    return render(
        request, "cases/household_form.html", {"form": form, "formset": formset, "creating": True}
    )


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = selectors.get_household_for(user, pk, action="household.edit")
    units = _edit_units(user)
    form = HouseholdForm(request.POST or None, instance=household, units=units)
    formset = MemberFormSet(request.POST or None, instance=household, prefix="members")
    # Validate both so every error shows at once, not the members' only later.
    if request.method == "POST" and all([form.is_valid(), formset.is_valid()]):
        upserts, deletions = member_changes(formset)
        try:
            services.household_update(
                actor=user,
                household=household,
                unit=form.cleaned_data["unit"],
                data=form.service_data(),
                secondary_causes=list(form.cleaned_data["secondary_causes"]),
                categories=list(form.cleaned_data["categories"]),
                members=upserts,
                delete_member_ids=deletions,
            )
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, _("档案已保存。"))
            return redirect("cases:household_detail", pk=household.pk)
    elif request.method == "GET":
        # The edit form carries the full ID number: opening it is a disclosure.
        services.household_reveal_id(actor=user, household=household, field="edit_form")
    return render(
        request,
        "cases/household_form.html",
        {"form": form, "formset": formset, "household": household, "creating": False},
    )


@login_required
@require_GET
def member_form_row(request: HttpRequest) -> HttpResponse:
    """An empty member row for the inline formset (htmx 'add member')."""
    require_action(_user(request), "household.edit")
    try:
        index = max(0, min(int(request.GET.get("index", "0")), 19))
    except ValueError:
        index = 0
    formset = MemberFormSet(prefix="members")
    form = formset._construct_form(index, empty_permitted=True, use_required_attribute=False)  # type: ignore[attr-defined]
    return render(request, "cases/_member_row.html", {"mform": form, "next_index": index + 1})


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    household = selectors.get_household_for(user, pk, action="household.edit")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        services.attachment_add(
            actor=user,
            household=household,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            content_type=form.content_type,
            signed_on=form.cleaned_data.get("signed_on"),
        )
        messages.success(request, _("材料已上传。"))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}：{error}" if label else str(error))
    return redirect(reverse("cases:household_detail", args=[household.pk]) + "#attachments")


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = _user(request)
    attachment = selectors.get_attachment_for(user, pk)
    if not can_unmask(user, attachment.household.unit):
        # Scans of ID cards and diagnoses are as personal as it gets.
        return HttpResponse(_("您无权查看证明材料原件。"), status=403)
    with transaction.atomic():
        services.household_reveal_id(
            actor=user, household=attachment.household, field=f"attachment:{attachment.pk}"
        )
    return private_file_response(
        attachment.file,
        attachment.content_type,
        filename=attachment.original_name,
        download=request.GET.get("download") == "1",
    )


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    attachment = selectors.get_attachment_for(user, pk, action="household.edit")
    household_pk = attachment.household_id
    services.attachment_delete(actor=user, attachment=attachment)
    messages.success(request, _("材料已删除。"))
    return redirect(reverse("cases:household_detail", args=[household_pk]) + "#attachments")
