from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from . import otp
from .forms import AuditFilterForm, LoginForm, OtpCodeForm
from .passwords import is_demo_password
from .scoping import has_action, require_action, units_for
from .selectors import audit_events


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # `make run` only: the published demo password skips the second factor.
        if settings.OTP_EXEMPT_DEMO and is_demo_password(form.cleaned_data.get("password", "")):
            self.request.session[otp.DEMO_EXEMPT_SESSION_KEY] = True
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if has_action(user, "household.view"):
        return redirect("cases:household_list")
    if has_action(user, "audit.view"):
        return redirect("accounts:audit_list")
    return render(request, "accounts/no_role.html")


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require_action(user, "audit.view")
    form = AuditFilterForm(request.GET or None, units=units_for(user, "audit.view"))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_events(user, filters)
    if form.is_bound and form.errors:
        events = events.none()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


# -- second factor ---------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the app, or a recovery code."""
    user: Any = request.user
    if not otp.otp_required(user) or otp.is_verified(request):
        return redirect(_next_url(request))
    if otp.app_device(user) is None:
        return redirect(f"{resolve_url('accounts:otp_enroll')}?{request.GET.urlencode()}")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = otp.throttled_seconds(user)
        if wait:
            form.add_error("code", _("错误次数过多，请 %(seconds)s 秒后再试。") % {"seconds": wait})
        else:
            accepted, which = otp.otp_verify(request=request, token=form.cleaned_data["code"])
            if accepted and which == "recovery":
                left = otp.recovery_codes_left(user)
                return render(
                    request,
                    "accounts/otp_recovery_used.html",
                    {"left": left, "next": _next_url(request)},
                )
            if accepted:
                return redirect(_next_url(request))
            form.add_error("code", _("验证码不正确或已过期，请重新输入。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def otp_enroll(request: HttpRequest) -> HttpResponse:
    """First sign-in of a chair, finance officer or administrator: scan the
    code with an authenticator app and type the six digits it shows."""
    user: Any = request.user
    if not otp.otp_required(user):
        return redirect(_next_url(request))
    if otp.app_device(user) is not None:
        # Replacing a phone is an administrator's reset, never this page.
        if otp.is_verified(request):
            return redirect(_next_url(request))
        return redirect(f"{resolve_url('accounts:otp_verify')}?{request.GET.urlencode()}")
    device = otp.otp_enrol_start(actor=user)
    form = OtpCodeForm(request.POST or None, digits_only=True)
    if request.method == "POST" and form.is_valid():
        codes = otp.otp_enrol_confirm(actor=user, device=device, token=form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(
                request,
                "accounts/otp_recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "enrolled": True},
            )
        form.add_error("code", _("验证码不正确，请核对手机时间后输入应用当前显示的 6 位数字。"))
    return render(
        request,
        "accounts/otp_enroll.html",
        {
            "form": form,
            "next": _next_url(request),
            "qr": otp.qr_svg(device.config_url),
            "secret": otp.secret_base32(device),
            "uri": device.config_url,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_recovery(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and a fresh set on request."""
    user: Any = request.user
    if getattr(user, "otp_device", None) is None:
        raise PermissionDenied  # only a session verified with a device
    if request.method == "POST":
        codes = otp.otp_recovery_regenerate(actor=user)
        return render(
            request,
            "accounts/otp_recovery_codes.html",
            {"codes": codes, "next": resolve_url(settings.LOGIN_REDIRECT_URL)},
        )
    return render(request, "accounts/otp_recovery.html", {"left": otp.recovery_codes_left(user)})
