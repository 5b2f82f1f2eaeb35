"""Keeps the client address of the current request for the audit trail."""

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the person's machine, as the audit trail and the login
    lockout (django-axes) both see it.

    Without a proxy (TRUSTED_PROXY_COUNT = 0) that is REMOTE_ADDR, and an
    X-Forwarded-For header is ignored: anyone can send one. Behind N trusted
    proxies each of them appends the address it received the request from, so
    the client is the N-th entry from the right; whatever stands further left
    came from the client itself and proves nothing.
    """
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request skipped the outer ones, and the
    # left-most entry is the earliest address a trusted proxy wrote down.
    candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return _address(candidate) or remote


def _address(value: str) -> str | None:
    """A valid IP address or None: a proxy may append a port, a client may
    send anything, and the audit column only holds addresses."""
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class LanguageMiddleware:
    """Chinese unless the user picked another language in the menu.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a
    union PC with an English system would greet a caseworker in English; here
    only the explicit choice (the language cookie set by set_language) counts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
