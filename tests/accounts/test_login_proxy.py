"""Sign-in lockout behind the union's HTTPS proxy.

Behind the proxy every request arrives from the proxy's address; the client's
own address is in X-Forwarded-For, which only the configured number of
trusted proxies may write (TRUSTED_PROXY_COUNT).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from accounts.middleware import client_ip
from accounts.models import AuditEvent
from tests.builders import make_user

PROXY = "10.0.0.2"  # the HTTPS proxy: every request comes from here
ATTACKER = "198.51.100.66"
CHAIRS_DESK = "203.0.113.20"
LOCKED = "账户已暂时锁定"
ADDRESS_LOCKED = "从此网络地址登录失败的次数过多"


def _login(client, username, password, *, forwarded=None, remote=PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


@pytest.fixture
def one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.mark.django_db
def test_an_attacker_hammering_the_chairs_name_does_not_lock_the_chair_out(
    client, carol, one_proxy
):
    for attempt in range(8):
        response = _login(client, "carol", f"guess-{attempt}", forwarded=ATTACKER)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    # The attacker is locked out even with the right password ...
    assert _login(client, "carol", "pw-carol", forwarded=ATTACKER).status_code == 429
    assert "_auth_user_id" not in client.session

    # ... while the chair, through the same proxy from her own desk, gets in.
    response = _login(client, "carol", "pw-carol", forwarded=CHAIRS_DESK)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(carol.pk)
    assert AuditEvent.objects.get(action="auth.login", actor=carol).ip == CHAIRS_DESK


@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_locked_after_the_address_limit(
    client, alice, settings, one_proxy
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    for n in range(19):
        response = _login(client, f"guess{n}", "bangfu-2025", forwarded=ATTACKER)
        assert response.status_code == 200, n
    response = _login(client, "guess19", "bangfu-2025", forwarded=ATTACKER)
    assert response.status_code == 429
    assert ADDRESS_LOCKED in response.content.decode()
    # No single name reached its own limit of 5: the address is what is locked,
    # for every name, the right password included.
    response = _login(client, "alice", "pw-alice", forwarded=ATTACKER)
    assert response.status_code == 429
    assert ADDRESS_LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Colleagues behind the same proxy at other desks are not affected.
    assert _login(client, "alice", "pw-alice", forwarded=CHAIRS_DESK).status_code == 302


@pytest.mark.django_db
def test_under_the_address_limit_a_success_still_gets_in(client, alice, settings, one_proxy):
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    for n in range(10):
        _login(client, f"typo{n}", "whatever-1", forwarded=ATTACKER)
    assert _login(client, "alice", "pw-alice", forwarded=ATTACKER).status_code == 302


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_header_is_ignored(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        # A new made-up address every time: it must not reset the count.
        _login(client, "alice", f"wrong-{attempt}", forwarded=f"192.0.2.{attempt}", remote=ATTACKER)
    response = _login(client, "alice", "pw-alice", forwarded="192.0.2.200", remote=ATTACKER)
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


@pytest.mark.django_db
def test_behind_a_proxy_entries_the_client_prepends_are_ignored(client, alice, one_proxy):
    for attempt in range(5):
        forged = f"192.0.2.{attempt}, {ATTACKER}"  # the proxy appended the real one
        _login(client, "alice", f"wrong-{attempt}", forwarded=forged)
    response = _login(client, "alice", "pw-alice", forwarded=f"192.0.2.99, {ATTACKER}")
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.2", "203.0.113.9", "10.0.0.2"),
        (1, "10.0.0.2", "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "10.0.0.3", "203.0.113.9", "203.0.113.9"),  # came in past the outer proxy
        (1, "10.0.0.2", "203.0.113.9:51234", "203.0.113.9"),
        (1, "10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"),
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "<script>, ,", "10.0.0.2"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_lockout_page_never_crashes_on_a_garbled_header(client, alice, one_proxy):
    user = make_user("zhou")
    for attempt in range(6):
        response = _login(client, user.username, f"x{attempt}", forwarded="\x00garbage")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


ROOT = Path(__file__).resolve().parents[2]


def _production_settings(**env):
    """The production settings as a server would load them."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTP_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "bangfu.example.org",
        "DATABASE_URL": "postgres://check@127.0.0.1:1/check",
        **env,
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.TRUSTED_PROXY_COUNT, "
        "s.OTP_EXEMPT_DEMO, s.OTP_REQUIRED_ROLES, s.PASSWORD_REFUSE_DEMO)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_trusts_the_proxy_scheme_header_only_behind_a_proxy():
    direct = _production_settings(DJANGO_DEBUG="True", OTP_EXEMPT_DEMO="1")
    assert direct.startswith("None 0 False ['chair', 'finance', 'admin'] True")
    proxied = _production_settings(TRUSTED_PROXY_COUNT="1")
    assert proxied.startswith("('HTTP_X_FORWARDED_PROTO', 'https') 1 False")
