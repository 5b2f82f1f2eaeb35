"""回避登记: each user keeps their own registration; an administrator sees,
masked, who has registered."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.masking import mask_address, mask_phone
from accounts.paging import paginate
from accounts.scoping import require_action
from accounts.web import attach_errors

from ..forms.kin import KinForm, RelativeForm
from ..models.kin import KinRegistration
from ..selectors import kin as selectors
from ..services import kin as services

PAGE_SIZE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


def _kin_form(user: Any, entry: KinRegistration | None, data: Any = None) -> KinForm:
    # The number itself is never shown again: the field starts empty.
    initial = {"phone": user.phone, "address": entry.address if entry else ""}
    return KinForm(data, initial=initial, prefix="kin")


@login_required
@require_http_methods(["GET", "POST"])
def kin_mine(request: HttpRequest) -> HttpResponse:
    """The user's own registration. One page, three forms: the own entry
    (kin-*), a relative to add (rel-*), a relative to remove (remove=<id>)."""
    user = _user(request)
    entry = KinRegistration.objects.filter(user=user).first()
    kin_form = _kin_form(user, entry)
    relative_form = RelativeForm(prefix="rel")
    remove_error = ""
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "register":
                kin_form = _kin_form(user, entry, request.POST)
                if kin_form.is_valid():
                    services.kin_register(actor=user, **kin_form.cleaned_data)
                    messages.success(request, _("已保存您的回避登记。"))
                    return redirect("cases:kin_mine")
            elif step == "relative":
                relative_form = RelativeForm(request.POST, prefix="rel")
                if relative_form.is_valid():
                    services.kin_relative_add(actor=user, **relative_form.cleaned_data)
                    messages.success(request, _("已登记该亲属。"))
                    return redirect("cases:kin_mine")
            elif step == "remove":
                services.kin_relative_remove(actor=user, relative_id=request.POST.get("relative"))
                messages.success(request, _("已删除该亲属登记。"))
                return redirect("cases:kin_mine")
            else:
                remove_error = _("请选择要保存的内容。")
        except ValidationError as exc:
            if step == "register":
                attach_errors(kin_form, exc)
            elif step == "relative":
                attach_errors(relative_form, exc)
            else:
                remove_error = " ".join(exc.messages)
    context = {
        "entry": entry,
        "kin_form": kin_form,
        "relative_form": relative_form,
        "relatives": selectors.relatives_of(user),
        "remove_error": remove_error,
        "phone_masked": mask_phone(user.phone),
    }
    return render(request, "cases/kin/mine.html", context)


@login_required
@require_GET
def kin_registered(request: HttpRequest) -> HttpResponse:
    """Who has registered, masked: for the administrator of their unions."""
    user = _user(request)
    require_action(user, selectors.ADMIN)
    page = paginate(request, selectors.registrations_seen_by(user), PAGE_SIZE)
    rows = [
        {
            "entry": e,
            "phone": mask_phone(e.user.phone),
            "address": mask_address(e.address),
        }
        for e in page.object_list
    ]
    return render(request, "cases/kin/registered.html", {"page": page, "rows": rows})


urlpatterns: list[URLPattern] = [
    path("kin/", kin_mine, name="kin_mine"),
    path("kin/registered/", kin_registered, name="kin_registered"),
]
