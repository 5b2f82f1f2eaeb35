"""The account page for API tokens: make one (its key shown once), see when
each was last used, revoke one."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import otp
from .api import tokens
from .models import ApiToken
from .web import attach_errors


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("用途"),
        max_length=tokens.NAME_MAX,
        help_text=gettext_lazy("写明给哪个系统或工具使用，便于日后辨认和撤销。"),
        error_messages={"required": gettext_lazy("请填写令牌用途，例如“上级工会数据对接”。")},
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The middleware already keeps an unverified session off this page;
        # a key outlives the session, so ask again right where it is made.
        if otp.otp_required(user) and not otp.is_verified(request):
            raise PermissionDenied
        try:
            token, key = tokens.api_token_create(
                actor=user, user=user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return _no_store(
                render(request, "accounts/api_token_created.html", {"token": token, "key": key})
            )
    context = {"form": form, "tokens": list(tokens.tokens_of(user)), "limit": tokens.MAX_ACTIVE}
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None or not tokens.may_manage(user, token.user):
        raise Http404  # another person's key: as if there were none
    tokens.api_token_revoke(actor=user, token=token)
    messages.success(
        request, _("令牌“%(name)s”已撤销，使用它的调用将被拒绝。") % {"name": token.name}
    )
    return redirect("accounts:api_tokens")
