"""`Authorization: Bearer <key>`: the API's only way in. The session cookie
is not accepted on data endpoints, so a page on another site cannot make a
signed-in browser call the API (no CSRF to get wrong)."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .tokens import token_for_key, token_touch


class TokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Authorization 头应为“Bearer 令牌”，令牌中不能有空格。"))
        key = parts[1]
        if not key.isascii():
            raise AuthenticationFailed(_("API 令牌无效或已撤销。"))
        token = token_for_key(key)
        if token is None:
            raise AuthenticationFailed(_("API 令牌无效或已撤销。"))
        token_touch(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        # Makes a missing token a 401 (with this challenge), not a 403.
        return 'Bearer realm="api"'


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Tells the schema (and Swagger UI's Authorize button) how to send it."""

    target_class = "accounts.api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "在“账户 → API 令牌”页面创建的令牌：Authorization: Bearer hbk_…",
        }
