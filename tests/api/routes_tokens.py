"""Permission-walk entries for the API token page (tests/test_permissions.py).

Anyone signed in keeps their own tokens; revoking another person's token is
404 (as if it did not exist), except for an administrator."""

from typing import Any

from accounts.api.tokens import api_token_create
from accounts.models import ApiToken, Membership, Role
from cases.models import Household
from tests.permission_routes import Page, Route


def token_of_caseworker(household: Household) -> ApiToken:
    """A token of the caseworker of the household's county (alice for the
    walk's household, bob for the one in county B)."""
    owner = next(
        m.user
        for m in Membership.objects.filter(role=Role.CASEWORKER).select_related("user", "unit")
        if m.unit.covers(household.unit)
    )
    token, _key = api_token_create(actor=owner, user=owner, name="上级工会数据对接")
    return token


def _revoked(response: Any, _household: Household, token: ApiToken) -> None:
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


ROUTES: dict[str, Route] = {
    "accounts:api_token_revoke": Route(
        token_of_caseworker, ("POST",), (), payload=lambda h: {}, allowed=_revoked
    ),
}

PAGES: dict[str, Page] = {
    "accounts:api_tokens": Page(("GET", "POST"), ("alice", "erin", "frank"), ()),
}
