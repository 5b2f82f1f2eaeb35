"""What every API endpoint shares: one audit row per call, idempotency keys
for writes, and errors as JSON in Chinese naming the field. (Cursor pages
and the rate limit per token are in policies.py.)"""

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from ..audit import audit_record
from ..models import ApiToken
from ..scoping import memberships

# -- the audit row of every call --------------------------------------------------------


def record_call(request: Request, response: Any) -> None:
    """One audit row per call made with a token: who (the token's owner),
    which token, method, path, the query's parameter names (their values
    may be an ID number typed into a search) and the answer's status.
    Calls refused by the rate limit are not written: that would hand the
    flood the limit stops straight to the audit table.

    The row belongs to the owner's highest union, so the auditors of that
    union see the calls of its people (memberships are loaded already)."""
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken) or response.status_code == 429:
        return
    held = [m.unit for m in memberships(token.user)]
    audit_record(
        actor=token.user,
        action="api.call",
        unit=min(held, key=lambda u: (u.depth, u.path)) if held else None,
        changes={
            "method": [None, request.method],
            "path": [None, request.path[:200]],
            "query": [None, sorted(request.query_params.keys())[:20]],
            "status": [None, response.status_code],
            "token": [None, token.prefix],
        },
    )


class Audited(APIView):
    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(request, Request):
            record_call(request, response)
        return response


class ApiViewSet(Audited, viewsets.GenericViewSet):
    """Base of every endpoint's view set. Ids are digits; any other path
    falls through to the API's JSON 404."""

    lookup_value_regex = "[0-9]+"


# -- writes -----------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request: Request) -> uuid.UUID | None:
    """The client's key for this write (a UUID): sent again with the same
    key, the write answers with what the first one made."""
    raw = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: [_("应为 UUID，例如 1b4e28ba-2fa1-11d2-883f-0016d3cca427。")]}
        ) from None


def created(data: Any, *, replayed: bool) -> Response:
    """201 for a new record; 200 and Idempotent-Replayed for one made before."""
    response = Response(data, status=200 if replayed else 201)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


# -- errors -----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every refusal."""

    detail = serializers.CharField(help_text="说明（中文）")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="出错的字段及原因：{字段名: [原因, …]}",
    )


def _messages(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(k): _flat(v) for k, v in detail.items()}
    return {"non_field_errors": _flat(detail)}


def _flat(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _flat(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flat(v)]
    return [str(value)]


# A service's field names that the API calls otherwise: its key is a header.
_FIELD_NAMES = {"__all__": "non_field_errors", "client_key": IDEMPOTENCY_HEADER}


def _django_validation(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(
            {
                _FIELD_NAMES.get(k, k): [str(m) for e in v for m in e]
                for k, v in exc.error_dict.items()
            }
        )
    return exceptions.ValidationError({"non_field_errors": [str(m) for m in exc.messages]})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every refusal as {"detail": "…", "errors": {field: […]}} in Chinese."""
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    data: dict[str, Any]
    if isinstance(exc, exceptions.ValidationError):
        data = {
            "detail": _("提交的内容有误，请按 errors 中的说明修改。"),
            "errors": _messages(exc.detail),
        }
    elif isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        data = {
            "detail": _("调用过于频繁：每个令牌的限额为 %(rate)s，请 %(s)d 秒后再试。")
            % {"rate": settings.API_RATE_LIMIT, "s": wait}
        }
    else:
        data = {"detail": _message(exc)}
    set_rollback()
    return Response(data, status=exc.status_code, headers=headers)


def _message(exc: exceptions.APIException) -> str:
    default = str(exc.detail) == str(exc.default_detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        return _("请在请求头中提供 API 令牌：Authorization: Bearer <令牌>。")
    if isinstance(exc, exceptions.PermissionDenied) and default:
        return _("您的角色无权执行此操作。")
    if isinstance(exc, exceptions.NotFound):
        return _("未找到该记录。")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _("该地址不支持此请求方法。")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _("请求内容类型不受支持，请使用 application/json。")
    if isinstance(exc, exceptions.NotAcceptable):
        return _("无法按请求的格式返回，本接口只返回 JSON。")
    if isinstance(exc, exceptions.ParseError):
        return _("请求内容不是有效的 JSON。")
    return str(exc.detail)


# The refusals each kind of endpoint may answer with, for the schema.
ONE_REFUSALS = {c: ErrorSerializer for c in (401, 403, 404, 429)}
LIST_REFUSALS = {c: ErrorSerializer for c in (400, 401, 403, 429)}
WRITE_REFUSALS = {c: ErrorSerializer for c in (400, 401, 403, 404, 429)}
