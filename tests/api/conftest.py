"""The API's test client: a person's token in the Authorization header, and
every response it gets checked against the OpenAPI schema the product
serves (openapi-core: status, content type, body, nullable fields)."""

import json
import threading
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from accounts.api.tokens import api_token_create


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """Rate-limit counts live in the cache; a token id reused by a later
    test must not inherit them."""
    cache.clear()
    yield
    cache.clear()


_SPEC: dict[str, Any] = {}
# Built once, by the first test that needs it: several threads of a race test
# may ask at the same moment, and drf-spectacular's generator is not safe to
# run twice at once (it loads its extensions lazily).
_SPEC_LOCK = threading.Lock()


def openapi() -> OpenAPI:
    with _SPEC_LOCK:
        if "spec" not in _SPEC:
            schema = SchemaGenerator().get_schema(request=None, public=True)
            _SPEC["raw"] = json.loads(json.dumps(schema, default=str))
            _SPEC["spec"] = OpenAPI.from_dict(_SPEC["raw"])
    return _SPEC["spec"]


def documented(path: str) -> bool:
    openapi()
    prefix = "/api/v1/"
    if not path.startswith(prefix):
        return False
    parts = path.strip("/").split("/")
    for template in _SPEC["raw"]["paths"]:
        tparts = template.strip("/").split("/")
        if len(tparts) == len(parts) and all(
            t == p or (t.startswith("{") and p.isdigit())
            for t, p in zip(tparts, parts, strict=True)
        ):
            return True
    return False


class _Request:
    """What openapi-core needs to find the operation a response answers."""

    def __init__(self, request: Any) -> None:
        self.host_url = "http://testserver"
        self.path = request.path
        self.full_url_pattern = self.host_url + request.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(request.GET),
            header=Headers(request.headers.items()),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.content_type = "application/json"
        self.body = b""


CHECKED: list[str] = []  # "METHOD path status" of every response checked


def check_schema(response: Any) -> None:
    """Fail unless the response is what the schema says this operation
    answers; paths outside the schema (the docs page) are not checked."""
    request = response.wsgi_request
    if not documented(request.path):
        return
    openapi().validate_response(_Request(request), DjangoOpenAPIResponse(response))
    CHECKED.append(f"{request.method} {request.path} {response.status_code}")


class Api:
    """A client of the API with one person's token (or none)."""

    def __init__(self, key: str | None = None) -> None:
        self.client = Client()
        self.key = key

    def _headers(self, headers: dict[str, str]) -> dict[str, str]:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if self.key is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.key}")
        return extra

    def get(self, url: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        response = self.client.get(url, params or {}, **self._headers(headers))
        check_schema(response)
        return response

    def post(self, url: str, data: Any = None, **headers: str) -> Any:
        body = data if isinstance(data, str | bytes) else json.dumps(data or {})
        response = self.client.post(
            url, body, content_type="application/json", **self._headers(headers)
        )
        check_schema(response)
        return response

    def call(self, method: str, url: str, data: Any = None) -> Any:
        return self.get(url) if method == "GET" else self.post(url, data)


def key_for(user: Any) -> str:
    _token, key = api_token_create(actor=user, user=user, name="测试对接")
    return key


@pytest.fixture
def api():
    """api(user) → a client calling with a fresh token of that user."""

    def _api(user: Any = None) -> Api:
        return Api(key_for(user) if user is not None else None)

    return _api
