"""The password policy: ten characters at least, and never the demo password
on a real server; the messages are Chinese."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.passwords import DEMO_PASSWORD


def _change(client, user, new):
    client.force_login(user)
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": f"pw-{user.username}", "new_password1": new, "new_password2": new},
    )


@pytest.mark.django_db
def test_nine_characters_are_too_short(client, alice):
    response = _change(client, alice, "Bf-2025安全")  # 9 characters
    body = response.content.decode()
    assert response.status_code == 200
    assert "密码太短，至少需要 10 个字符。" in body
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")
    assert _change(client, alice, "Bf-2025安全k").status_code == 302  # 10 characters


@pytest.mark.django_db
def test_the_demo_password_is_refused_on_a_real_server(client, alice, settings):
    settings.DEBUG = False
    response = _change(client, alice, DEMO_PASSWORD)
    assert response.status_code == 200
    assert "演示系统公开的密码" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")


def test_the_demo_password_is_allowed_where_the_demo_runs(settings):
    settings.DEBUG = True
    validate_password(DEMO_PASSWORD)
    settings.PASSWORD_REFUSE_DEMO = True
    with pytest.raises(ValidationError) as refused:
        validate_password(DEMO_PASSWORD)
    assert refused.value.error_list[0].code == "password_is_demo"


@pytest.mark.django_db
def test_the_admin_refuses_a_short_password_for_a_new_user(client):
    from accounts.models import User

    root = User.objects.create_superuser("root", password="pw-root")
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "newchair", "password1": "abc12345", "password2": "abc12345",
         "usable_password": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "密码太短，至少需要 10 个字符。" in response.content.decode()
    assert not User.objects.filter(username="newchair").exists()
