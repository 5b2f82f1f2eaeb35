"""Signing in and out, lockout after repeated failures, changing a password."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent

LOGIN = "accounts:login"
LOCKED = "账户已暂时锁定"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(reverse(LOGIN), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    body = client.get(reverse(LOGIN)).content.decode()
    assert "登录工会帮扶管理系统" in body


@pytest.mark.django_db
def test_successful_login_goes_home_and_then_to_the_list(client, alice):
    response = _login(client, "alice", "pw-alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    follow = client.get(response["Location"], follow=True)
    assert follow.redirect_chain[-1][0] == reverse("cases:household_list")
    assert "张丽" in follow.content.decode()  # her name in the top bar


@pytest.mark.django_db
def test_login_honours_a_safe_next_and_ignores_an_offsite_one(client, alice):
    url = reverse(LOGIN)
    data = {"username": "alice", "password": "pw-alice", "next": "/households/new/"}
    assert client.post(url, data)["Location"] == "/households/new/"
    client.logout()
    data["next"] = "https://evil.example.com/"
    assert client.post(url, data)["Location"] == reverse("home")


@pytest.mark.django_db
def test_wrong_password_says_so_without_telling_which_part(client, alice):
    response = _login(client, "alice", "wrong")
    body = response.content.decode()
    assert response.status_code == 200
    assert "请输入一个正确的" in body
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_five_failures_lock_the_username_from_that_address(client, alice):
    for attempt in range(4):
        response = _login(client, "alice", f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert LOCKED not in response.content.decode()
    response = _login(client, "alice", "wrong-5")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()

    # The right password no longer helps from there.
    response = _login(client, "alice", "pw-alice")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.login", actor=alice).exists()


@pytest.mark.django_db
def test_lockout_does_not_touch_other_usernames_or_other_addresses(client, alice, bob):
    for attempt in range(5):
        _login(client, "alice", f"wrong-{attempt}")
    assert _login(client, "alice", "pw-alice").status_code == 429

    response = _login(client, "bob", "pw-bob")
    assert response.status_code == 302
    client.logout()
    # alice herself, from her own desk, is not locked out by someone else.
    response = _login(client, "alice", "pw-alice", ip="10.0.0.99")
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_success_resets_the_failure_count(client, alice):
    for attempt in range(4):
        _login(client, "alice", f"wrong-{attempt}")
    assert _login(client, "alice", "pw-alice").status_code == 302
    client.logout()
    for attempt in range(4):
        assert _login(client, "alice", f"wrong-again-{attempt}").status_code == 200
    assert _login(client, "alice", "pw-alice").status_code == 302


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(as_user, alice):
    client = as_user(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse(LOGIN)
    response = client.get(reverse("cases:household_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(LOGIN))
    assert AuditEvent.objects.filter(action="auth.logout", actor=alice).exists()


@pytest.mark.django_db
def test_password_change(client, alice):
    client.force_login(alice)
    url = reverse("accounts:password_change")
    response = client.post(
        url,
        {
            "old_password": "pw-alice",
            "new_password1": "Bangfu-2025-安全",
            "new_password2": "Bangfu-2025-安全",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    assert "密码已修改" in client.get(response["Location"]).content.decode()
    client.logout()
    assert _login(client, "alice", "pw-alice").status_code == 200
    assert _login(client, "alice", "Bangfu-2025-安全").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("wrong", "Bangfu-2025-安全", "Bangfu-2025-安全", "旧密码"),
        ("pw-alice", "Bangfu-2025-安全", "Bangfu-2025-other", "新密码确认"),
        ("pw-alice", "12345678", "12345678", "新密码确认"),
    ],
)
def test_password_change_refused_keeps_the_old_password(client, alice, old, new1, new2, field):
    client.force_login(alice)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new1, "new_password2": new2},
    )
    assert response.status_code == 200
    assert f"{field}：" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("alice\x00", "pw-alice", "用户名："),
        ("a" * 500, "x", "用户名："),  # longer than axes' 255-character column
        ("", "", "用户名："),
        ("alice", "pw\x00alice", "密码："),
    ],
)
def test_odd_login_input_is_a_message_not_a_500(client, alice, username, password, message):
    response = _login(client, username, password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session
