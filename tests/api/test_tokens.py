"""API tokens: made and revoked by their owner (and an administrator),
shown once, stored as a digest, refused once revoked."""

import hashlib

import pytest
from django.urls import reverse

from accounts.api.tokens import MAX_ACTIVE, api_token_create
from accounts.models import ApiToken, AuditEvent
from tests.accounts.test_otp import password_login
from tests.api.conftest import Api
from tests.builders import make_user


def _create(client, name="上级工会数据对接"):
    response = client.post(reverse("accounts:api_tokens"), {"name": name})
    assert response.status_code == 200
    page = response.content.decode()
    key = page.split('id="token-key"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    return response, key


@pytest.mark.django_db
def test_a_token_is_shown_once_and_kept_only_as_its_digest(as_user, alice):
    client = as_user(alice)
    response, key = _create(client)
    assert key.startswith("hbk_") and len(key) > 40
    assert response["Cache-Control"] == "private, no-store"
    token = ApiToken.objects.get(user=alice)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    # The key is in no column of the row, and the list shows its prefix only.
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    listing = client.get(reverse("accounts:api_tokens")).content.decode()
    assert token.prefix in listing and key not in listing and "上级工会数据对接" in listing
    assert AuditEvent.objects.filter(action="api_token.create", actor=alice).count() == 1
    # The key works for the API, and its first use is noted.
    assert Api(key).get("/api/v1/me/").json()["username"] == "alice"
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db
def test_a_revoked_token_is_refused_at_once(as_user, alice):
    client = as_user(alice)
    _response, key = _create(client)
    api = Api(key)
    assert api.get("/api/v1/me/").status_code == 200
    token = ApiToken.objects.get(user=alice)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    refused = api.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "API 令牌无效或已撤销。"}
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=alice).count() == 1
    assert "已于" in client.get(reverse("accounts:api_tokens")).content.decode()


@pytest.mark.django_db
def test_nobody_revokes_another_persons_token(as_user, alice, bob):
    token, key = api_token_create(actor=bob, user=bob, name="工具")
    response = as_user(alice).post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert Api(key).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_a_person_who_needs_a_second_factor_gets_a_token_only_after_giving_it(client, carol):
    password_login(client, carol)
    response = client.post(reverse("accounts:api_tokens"), {"name": "工具"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enroll"))
    assert not ApiToken.objects.exists()
    client.force_login(carol)  # with the second factor (tests/conftest.py)
    _response, key = _create(client)
    assert Api(key).get("/api/v1/me/").json()["username"] == "carol"


@pytest.mark.django_db
def test_an_inactive_user_or_a_malformed_header_gets_401(alice):
    _token, key = api_token_create(actor=alice, user=alice, name="工具")
    for header in ("Bearer", f"Bearer {key} x", "Bearer hbk_nothing", "Bearer 令牌"):
        response = Api().get("/api/v1/me/", Authorization=header)
        assert response.status_code == 401, header
        assert response.json()["detail"]
    alice.is_active = False
    alice.save()
    assert Api(key).get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_tokens_per_person_are_limited_and_need_a_name(as_user, alice):
    client = as_user(alice)
    response = client.post(reverse("accounts:api_tokens"), {"name": "  "})
    assert "请填写令牌用途" in response.content.decode()
    for i in range(MAX_ACTIVE):
        api_token_create(actor=alice, user=alice, name=f"工具{i}")
    response = client.post(reverse("accounts:api_tokens"), {"name": "再一个"})
    assert "请先撤销不用的令牌" in response.content.decode()
    assert ApiToken.objects.filter(user=alice).count() == MAX_ACTIVE


@pytest.mark.django_db
def test_an_administrator_makes_and_revokes_a_token_for_anyone(client, alice):
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_apitoken_add"), {"user": alice.pk, "name": "上级工会平台"}
    )
    assert response.status_code == 200
    key = response.content.decode().split('id="token-key"', 1)[1].split(">", 1)[1].split("<")[0]
    token = ApiToken.objects.get(user=alice)
    assert token.created_by == root
    assert Api(key).get("/api/v1/me/").json()["username"] == "alice"
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert Api(key).get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == root
