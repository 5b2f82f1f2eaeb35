"""The second factor in tests.

`client.force_login` stands for a person who has fully signed in, so the
suite's conftest makes it complete the second factor too, through
django-otp's own session key and a confirmed TOTP device, for the roles
that need one. The OTP tests sign in through the real pages instead.
"""

import re
import time
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.otp import otp_required

plain_force_login = Client.force_login


def force_login_with_second_factor(self: Client, user: Any, backend: str | None = None) -> None:
    plain_force_login(self, user, backend)
    # Memberships may change after this; a fresh look decides.
    fresh = type(user).objects.get(pk=user.pk)
    if not otp_required(fresh):
        return
    device = TOTPDevice.objects.filter(user=fresh, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=fresh, name="test", confirmed=True)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def current_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the person's app shows now (or `steps_ahead` 30-second steps on)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def next_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: the same one never works twice."""
    device.refresh_from_db()
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    ahead = max(0, device.last_t + 1 - now)
    if ahead > 1:  # already used this step and the next: wait for a fresh one
        time.sleep(device.step * (ahead - 1))
        ahead = 1
    return current_code(device, ahead)


def pass_second_factor(page: Any, user: Any) -> None:
    """In a browser test, type the code a chair's or finance officer's phone
    shows, as the person would after the password."""
    if not otp_required(type(user).objects.get(pk=user.pk)):
        return
    from playwright.sync_api import expect

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    page.goto("/accounts/otp/verify/")
    page.get_by_label("验证码").fill(next_code(device))
    page.get_by_role("button", name="验证", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/otp/"))
