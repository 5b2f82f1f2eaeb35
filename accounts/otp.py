"""The second factor: TOTP (an authenticator app) plus single-use recovery codes.

Who must give it is a setting (OTP_REQUIRED_ROLES: chair, finance and admin by
default; superusers count as admin). After the password such a person is sent
to enrol a phone (first time) or to type the current code, and reaches no
other page until then. The devices are django-otp's own models: one
TOTPDevice for the app, one StaticDevice holding the recovery codes.
"""

import re
from base64 import b32encode
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record
from .models import User
from .scoping import memberships

# Set at sign-in when `make run` lets demo users skip the second factor.
DEMO_EXEMPT_SESSION_KEY = "otp_demo_exempt"
APP_DEVICE_NAME = "手机验证器"
RECOVERY_DEVICE_NAME = "恢复码"

# Pages a signed-in person may open before giving the second factor.
OPEN_URL_NAMES = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:otp_verify",
        "accounts:otp_enroll",
        "set_language",
    }
)


# -- who, and in what state ---------------------------------------------------


def otp_required(user: Any) -> bool:
    """Does this person need a second factor to get past the sign-in?"""
    if not getattr(user, "is_authenticated", False):
        return False
    required = set(settings.OTP_REQUIRED_ROLES)
    if not required:
        return False
    if user.is_superuser and "admin" in required:
        return True
    return any(m.role in required for m in memberships(user))


def is_verified(request: HttpRequest) -> bool:
    """Has this session given the second factor (or been let off it)?"""
    user: Any = request.user
    if getattr(user, "otp_device", None) is not None:
        return True
    return bool(settings.OTP_EXEMPT_DEMO and request.session.get(DEMO_EXEMPT_SESSION_KEY))


def app_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def recovery_codes_left(user: User) -> int:
    device = recovery_device(user)
    return device.token_set.count() if device else 0


def secret_base32(device: TOTPDevice) -> str:
    """The key as people type it into an app by hand, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(text: str) -> str:
    """The QR code of `text` as inline SVG, sized by its container."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg class="qr"', svg, count=1)
    return svg.replace("<svg ", '<svg role="img" aria-label="QR" ', 1)


# -- writes ---------------------------------------------------------------------


@transaction.atomic
def otp_enrol_start(*, actor: User) -> TOTPDevice:
    """The unconfirmed device an enrolment shows; the same one on every visit
    until it is confirmed, so a code scanned earlier keeps working."""
    device = app_device(actor, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name=APP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def otp_enrol_confirm(*, actor: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the phone with a code it shows; returns the new recovery codes,
    or None when the code is wrong (nothing is confirmed then)."""
    device = TOTPDevice.objects.select_for_update(no_key=True).get(pk=device.pk, user=actor)
    if device.confirmed or not device.verify_token(_digits(token)):
        return None
    # One app per person: an older confirmed one (there is none unless an
    # administrator's reset raced this) gives way to the new phone.
    TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(actor)
    audit_record(actor=actor, action="otp.enrol", obj=actor, changes={"device": [None, "totp"]})
    return codes


@transaction.atomic
def otp_recovery_regenerate(*, actor: User) -> list[str]:
    """A fresh set of recovery codes; the old ones stop working."""
    codes = _new_recovery_codes(actor)
    audit_record(actor=actor, action="otp.recovery_regenerate", obj=actor)
    return codes


@transaction.atomic
def otp_reset(*, actor: User, user: User) -> None:
    """An administrator removes someone's phone and recovery codes (a lost or
    replaced phone); the person enrols again at the next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="otp.reset", obj=user)


def otp_verify(*, request: HttpRequest, token: str) -> tuple[bool, str]:
    """Check a code from the app or a recovery code and mark the session as
    verified. Returns (accepted, which): which is "totp" or "recovery"."""
    user: Any = request.user
    token = token.strip()
    with transaction.atomic():
        digits = _digits(token)
        if digits.isdigit() and len(digits) <= 8:
            # The app's code: six digits. Recovery codes are never all digits.
            for device in devices_for_user(user, for_verify=True):
                if isinstance(device, TOTPDevice) and device.verify_token(digits):
                    otp_login(request, device)
                    return True, "totp"
            return False, ""
        code = token.replace(" ", "").replace("-", "").lower()
        for device in devices_for_user(user, for_verify=True):
            if isinstance(device, StaticDevice) and device.verify_token(code):
                otp_login(request, device)
                audit_record(
                    actor=user,
                    action="otp.recovery_used",
                    obj=user,
                    changes={"left": [None, device.token_set.count()]},
                )
                return True, "recovery"
    return False, ""


def throttled_seconds(user: User) -> int:
    """Seconds until a code may be tried again after wrong ones (django-otp
    doubles the wait with each failure: 1, 2, 4, 8 ... seconds)."""
    waits = [0]
    for device in (app_device(user), recovery_device(user)):
        if device is None:
            continue
        allowed, data = device.verify_is_allowed()
        if not allowed and data and "locked_until" in data:
            seconds = (data["locked_until"] - timezone.now()).total_seconds()
            waits.append(max(1, int(seconds) + 1))
    return max(waits)


def _digits(token: str) -> str:
    return token.replace(" ", "").strip()


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


# -- the gate -------------------------------------------------------------------


class SecondFactorMiddleware:
    """Signed in with the password only, a person in a required role reaches
    nothing but the sign-in, sign-out, enrolment and code pages. Other requests,
    POSTs included, are redirected there before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_verify(request):
            return self._redirect(request)
        return self.get_response(request)

    def _must_verify(self, request: HttpRequest) -> bool:
        user: Any = request.user
        if not user.is_authenticated or is_verified(request):
            return False
        # The roles first: they are read once a request anyway (scoping), and
        # most people need no second factor, so their path is never resolved
        # twice.
        if not otp_required(user):
            return False
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return False
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False  # a 404 shows nothing
        return match.view_name not in OPEN_URL_NAMES

    def _redirect(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        name = "accounts:otp_verify" if app_device(user) else "accounts:otp_enroll"
        url = reverse(name)
        if request.method == "GET" and not request.headers.get("HX-Request"):
            url += "?" + urlencode({"next": request.get_full_path()})
        response = HttpResponseRedirect(url)
        if request.headers.get("HX-Request"):
            response["HX-Redirect"] = url
        return response
