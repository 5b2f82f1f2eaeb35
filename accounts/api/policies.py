"""The API's pages and its rate limit, apart from the views so that DRF's
settings can name them before any view is defined."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken

# -- pages ------------------------------------------------------------------------------


class CursorPage(CursorPagination):
    """Newest first by primary key: "the rows below this id", read off the
    primary key index, so page 1,000 costs what page 1 costs and a row
    added meanwhile never shifts a page."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        return int(super().get_page_size(request) or settings.API_PAGE_SIZE)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "下一页的完整链接；没有下一页时为 null"},
                "previous": {**link, "description": "上一页的完整链接；没有上一页时为 null"},
                "results": schema,
            },
        }

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = False
        if cursor is None:
            return None
        # The position goes into `pk < …` as it is: anything but a key the
        # table can hold is someone's typing, not a cursor this API gave.
        position = cursor.position if cursor else None
        if cursor is False or (
            position is not None
            and not (position.lstrip("-").isdigit() and abs(int(position)) < 2**63)
        ):
            raise exceptions.ValidationError(
                {"cursor": [_("分页游标无效：请使用上一页响应中 next 或 previous 给出的链接。")]}
            )
        return cursor


# -- rate limit -----------------------------------------------------------------------


class TokenRateThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT calls per token (e.g. 600/hour), counted in the cache:
    per server process with the default local-memory cache; a shared cache
    (CACHES) makes it one count across servers."""

    scope = "api_token"

    def get_rate(self) -> str:
        return str(settings.API_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # the docs page in a signed-in browser
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
