"""The second factor for chairs, finance officers and administrators.

These tests sign in through the real pages (password, then code), not with
force_login, which tests/conftest.py makes complete the second factor.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.otp import otp_enrol_confirm, otp_enrol_start
from accounts.passwords import DEMO_PASSWORD
from funds.models import Fund
from tests.builders import make_user
from tests.otp_support import current_code

VERIFY = reverse("accounts:otp_verify")
ENROLL = reverse("accounts:otp_enroll")
WRONG = "验证码不正确"


def password_login(client, user, password=None):
    response = client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": password or f"pw-{user.username}"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def enrolled(user):
    """A user who has set up the app; returns the device and recovery codes."""
    device = otp_enrol_start(actor=user)
    codes = otp_enrol_confirm(actor=user, device=device, token=current_code(device))
    assert codes is not None
    device.refresh_from_db()
    return device, codes


def forget_failures(device):
    """Move the last failure into the past, as a person pausing would."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(minutes=5)
    )


@pytest.mark.django_db
def test_a_chair_without_a_device_is_sent_to_enrol_and_reaches_nothing_else(client, carol):
    password_login(client, carol)
    response = client.get(reverse("cases:household_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(ENROLL)
    page = client.get(response["Location"]).content.decode()
    assert "设置双因素验证" in page
    assert "<svg" in page  # the QR code, drawn here: no image from elsewhere
    device = TOTPDevice.objects.get(user=carol)
    assert not device.confirmed
    secret = re.search(r'id="otp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    assert len(secret.replace(" ", "")) == 32  # the 20-byte key in base32
    assert "otpauth://totp/" in page


@pytest.mark.django_db
def test_enrolment_refuses_a_wrong_code_and_confirms_with_the_right_one(client, carol):
    password_login(client, carol)
    client.get(ENROLL)
    device = TOTPDevice.objects.get(user=carol)

    response = client.post(ENROLL, {"code": "000000" if current_code(device) != "000000" else "1"})
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("cases:household_list")).status_code == 302

    response = client.post(ENROLL, {"code": "12ab"})
    assert "6 位数字" in response.content.decode()

    forget_failures(device)
    response = client.post(ENROLL, {"code": current_code(device), "next": "/households/"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "双因素验证已设置" in body
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", body)
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="otp.enrol", actor=carol).count() == 1
    # Now in, in this session.
    assert client.get(reverse("cases:household_list")).status_code == 200


@pytest.mark.django_db
def test_a_chair_with_a_device_types_the_code_after_the_password(client, carol):
    device, _codes = enrolled(carol)
    password_login(client, carol)
    response = client.get(reverse("cases:household_list"))
    assert response["Location"] == f"{VERIFY}?next=%2Fhouseholds%2F"
    # The enrolment page cannot be used to swap in another phone.
    assert client.get(ENROLL)["Location"].startswith(VERIFY)

    response = client.post(VERIFY, {"code": "999999", "next": "/households/"})
    assert WRONG in response.content.decode()
    assert client.get(reverse("cases:household_list")).status_code == 302

    forget_failures(device)
    response = client.post(VERIFY, {"code": current_code(device, 1), "next": "/households/"})
    assert response.status_code == 302
    assert response["Location"] == "/households/"
    assert client.get(reverse("cases:household_list")).status_code == 200


@pytest.mark.django_db
def test_repeated_wrong_codes_are_slowed_down(client, carol):
    device, _codes = enrolled(carol)
    password_login(client, carol)
    client.post(VERIFY, {"code": "111111"})
    # Straight after a wrong one even the right code waits its turn.
    response = client.post(VERIFY, {"code": current_code(device, 1)})
    assert "错误次数过多" in response.content.decode()
    assert client.get(reverse("cases:household_list")).status_code == 302


@pytest.mark.django_db
def test_a_recovery_code_works_once(client, carol):
    _device, codes = enrolled(carol)
    password_login(client, carol)
    response = client.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 200
    assert "还有 9 个未使用的恢复码" in response.content.decode()
    assert client.get(reverse("cases:household_list")).status_code == 200
    assert AuditEvent.objects.filter(action="otp.recovery_used", actor=carol).exists()

    client.post(reverse("accounts:logout"))
    password_login(client, carol)
    StaticDevice.objects.filter(user=carol).update(throttling_failure_timestamp=None)
    response = client.post(VERIFY, {"code": codes[0]})
    assert WRONG in response.content.decode()
    assert client.get(reverse("cases:household_list")).status_code == 302


@pytest.mark.django_db
def test_finance_with_an_unverified_session_is_sent_from_a_money_page(client, dave):
    enrolled(dave)
    password_login(client, dave)
    response = client.get(reverse("funds:fund_list"))
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Ffunds%2F"


@pytest.mark.django_db
def test_a_crafted_post_to_a_money_url_without_the_second_factor_changes_nothing(
    client, dave, units
):
    payload = {"unit": units["a"].pk, "name": "送温暖专项", "year": 2026, "restriction": "none"}
    enrolled(dave)
    password_login(client, dave)
    response = client.post(reverse("funds:fund_create"), payload)
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    htmx = client.post(reverse("funds:fund_create"), payload, HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == VERIFY
    assert not Fund.objects.exists()

    # The same request from a verified session does create the fund.
    client.force_login(dave)
    assert client.post(reverse("funds:fund_create"), payload).status_code == 302
    assert Fund.objects.filter(name="送温暖专项").count() == 1


@pytest.mark.django_db
def test_a_caseworker_and_an_auditor_are_not_asked(client, alice, erin):
    password_login(client, alice)
    assert client.get(reverse("cases:household_list")).status_code == 200
    assert client.get(VERIFY)["Location"] == reverse("home")
    client.post(reverse("accounts:logout"))
    password_login(client, erin)
    assert client.get(reverse("accounts:audit_list")).status_code == 200
    assert not TOTPDevice.objects.exists()


@pytest.mark.django_db
def test_the_roles_that_need_it_are_a_setting(client, alice, carol, settings):
    settings.OTP_REQUIRED_ROLES = ["caseworker"]
    password_login(client, alice)
    assert client.get(reverse("cases:household_list"))["Location"].startswith(ENROLL)
    client.post(reverse("accounts:logout"))
    password_login(client, carol)
    assert client.get(reverse("cases:household_list")).status_code == 200


@pytest.mark.django_db
def test_superusers_count_as_administrators(client):
    root = make_user("root", is_staff=True, is_superuser=True)
    password_login(client, root)
    assert client.get("/admin/")["Location"].startswith(ENROLL)


@pytest.mark.django_db
def test_pages_open_before_the_second_factor(client, carol):
    password_login(client, carol)
    assert client.get(ENROLL).status_code == 200
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 302
    assert client.get("/no-such-page/").status_code == 404
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["", "abc", "1" * 40, "12\x0034", "<b>1</b>", "999999"])
def test_odd_codes_are_a_message_not_a_500(client, carol, code):
    enrolled(carol)
    password_login(client, carol)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "验证码：" in response.content.decode()


@pytest.mark.django_db
def test_recovery_codes_can_be_regenerated_and_the_old_ones_stop_working(client, carol, alice):
    _device, old = enrolled(carol)
    client.force_login(carol)
    # force_login's own device stands in for the phone here.
    page = client.get(reverse("accounts:otp_recovery")).content.decode()
    assert "还有 10 个未使用的恢复码" in page
    response = client.post(reverse("accounts:otp_recovery"))
    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=carol).values_list("token", flat=True)
    ) == set(new)
    assert AuditEvent.objects.filter(action="otp.recovery_regenerate", actor=carol).exists()
    # Someone who has no second factor has no codes to manage.
    client.force_login(alice)
    assert client.get(reverse("accounts:otp_recovery")).status_code == 403


@pytest.mark.django_db
def test_an_administrator_resets_a_lost_phone(client, carol):
    enrolled(carol)
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [carol.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=carol).exists()
    assert not StaticDevice.objects.filter(user=carol).exists()
    event = AuditEvent.objects.get(action="otp.reset")
    assert event.actor == root and event.object_id == str(carol.pk)
    client.post(reverse("accounts:logout"))
    password_login(client, carol)
    assert client.get(reverse("cases:household_list"))["Location"].startswith(ENROLL)


@pytest.mark.django_db
def test_an_administrator_without_the_change_permission_cannot_reset(client, carol):
    device, _codes = enrolled(carol)
    viewer = make_user("viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [carol.pk]},
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="otp.reset").exists()


@pytest.mark.django_db
def test_demo_users_skip_it_only_where_make_run_allows(client, units, settings):
    chair = make_user("demo_chair", units["a"], "chair")
    chair.set_password(DEMO_PASSWORD)
    chair.save()
    settings.OTP_EXEMPT_DEMO = True
    password_login(client, chair, DEMO_PASSWORD)
    assert client.get(reverse("cases:household_list")).status_code == 200
    # The same session loses the exemption once the setting is off.
    settings.OTP_EXEMPT_DEMO = False
    assert client.get(reverse("cases:household_list")).status_code == 302

    # A real chair on the same demo instance, with her own password, is asked.
    settings.OTP_EXEMPT_DEMO = True
    client.post(reverse("accounts:logout"))
    real = make_user("wang", units["a"], "chair")
    password_login(client, real)
    assert client.get(reverse("cases:household_list"))["Location"].startswith(ENROLL)
