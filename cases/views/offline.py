"""Visits that survive no signal: the service worker, the web app manifest,
the 待上传 page and the endpoint a phone sends its visit drafts to.

The phone keeps a visit written without a network as a draft (IndexedDB,
static/js/offline-store.js) and sends it here when the network returns. The
endpoint checks it with the same form and the same service as the online
visit page and answers in JSON, so the phone can keep a refused draft with
the reason beside it instead of dropping it.
"""

import hashlib
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.scoping import covers, require_action

from ..forms.followup import VisitForm
from ..selectors import followup as selectors
from ..services import followup

# What every page needs, kept for offline use when the service worker is
# installed. htmx comes from the django-htmx package through static files.
SHELL_STATIC = (
    "css/app.css",
    "css/offline.css",
    "js/app.js",
    "js/offline-store.js",
    "js/offline.js",
    "django_htmx/htmx-2.min.js",
    "icons/icon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)

# Pages kept on the phone once opened online: what a visit at the door needs.
OFFLINE_PAGES = (
    ("cases:my_households", False),
    ("cases:household_detail", True),
    ("cases:visit_log", True),
    ("cases:visit_drafts", False),
)


@cache
def _worker_source() -> str:
    found = finders.find("sw.js")
    if found:
        return Path(str(found)).read_text(encoding="utf-8")
    # An install that ships only the collected files.
    with staticfiles_storage.open("sw.js") as f:
        return f.read().decode("utf-8")


@cache
def _shell_digest() -> str:
    """The assets' contents, once per process: where their names carry no
    hash (development), a changed CSS or JS file still changes the worker,
    so phones drop their old copies."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        found = finders.find(name)
        if found:
            digest.update(Path(str(found)).read_bytes())
    return digest.hexdigest()


def _page_pattern(name: str, takes_pk: bool) -> str:
    """The page's path as a regular expression for the worker, from the URL
    configuration itself (so a prefix or a rename cannot leave it behind)."""
    if not takes_pk:
        return "^" + reverse(name) + "$"
    marker = 987654321
    url = reverse(name, args=[marker])
    return "^" + url.replace(str(marker), r"\d+") + "$"


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """static/sw.js with what it must know about this install in front of it.

    Served from the site root so that it may look after every page. Its bytes
    change with the asset names (hashed in production), so a deployment with
    new CSS or JS installs a new worker and drops the old copies."""
    config = {
        "shell": [static(name) for name in SHELL_STATIC],
        "store": static("js/offline-store.js"),
        "static": settings.STATIC_URL
        if settings.STATIC_URL.startswith("/")
        else "/" + settings.STATIC_URL,
        "offline": reverse("cases:offline_page"),
        "pages": [_page_pattern(name, pk) for name, pk in OFFLINE_PAGES],
    }
    source = _worker_source()
    head = json.dumps(config, ensure_ascii=False, sort_keys=True)
    version = hashlib.sha256((head + source + _shell_digest()).encode()).hexdigest()[:12]
    body = f"const CONFIG = {head};\nconst VERSION = {json.dumps(version)};\n{source}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # The browser must ask every time, or a phone keeps an old worker.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def web_manifest(request: HttpRequest) -> HttpResponse:
    """What a phone needs to put the product on its home screen."""
    manifest = {
        "name": _("工会帮扶管理"),
        "short_name": _("帮扶走访"),
        "description": _("困难职工帮扶：走访记录可离线保存，联网后上传。"),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "start_url": reverse("cases:my_households"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f6f4",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return HttpResponse(
        json.dumps(manifest, ensure_ascii=False), content_type="application/manifest+json"
    )


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker for a page the phone has not kept. It
    holds no personal data, so it is the same for everyone."""
    return render(request, "cases/followup/offline.html", {"user": AnonymousUser()})


@login_required
@require_GET
def visit_drafts(request: HttpRequest) -> HttpResponse:
    """待上传: the visits kept on this phone. The list itself is filled in by
    the phone from its own storage; the server never sees a draft until it is
    sent."""
    require_action(request.user, "household.view")  # type: ignore[arg-type]
    return render(request, "cases/followup/visit_drafts.html")


def _refusal(status: int, message: str, errors: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse(
        {"ok": False, "message": message, "errors": errors or {"__all__": [message]}},
        status=status,
    )


def _messages(form: VisitForm, errors: dict[str, list[str]]) -> str:
    parts: list[str] = []
    for field, messages in errors.items():
        label = form.fields[field].label if field in form.fields else ""
        parts.extend(f"{label}：{m}" if label else str(m) for m in messages)
    return "；".join(parts)


def _exc_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in ValidationError(e).messages]
            for field, e in exc.error_dict.items()
        }
    return {"__all__": [str(m) for m in exc.messages]}


@login_required
@require_POST
def visit_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A visit draft from the phone: the visit form's fields and photos, the
    draft's key (`client_key`) and the id of the user who wrote it (`owner`).

    Sent twice (a lost answer, a second tab, background sync and the page at
    once), it records one visit and answers the second time as the first."""
    user: Any = request.user
    try:
        household = selectors.get_household_for_visit(user, pk)
    except Http404:
        return _refusal(404, _("找不到该家庭，或您无权为其登记走访。"))
    except PermissionDenied:
        return _refusal(403, _("您不是该家庭的帮扶人，也无权处理该工会的档案（帮扶可能已结束）。"))
    if request.POST.get("owner", "") != str(user.pk):
        # A draft written by someone else who used this phone: never sent in
        # another person's name.
        return _refusal(409, _("该草稿由其他用户保存，只能由其本人登录后上传。"))
    try:
        client_key = uuid.UUID(request.POST.get("client_key", ""))
    except ValueError:
        message = _("草稿标识无效，请在待上传列表中重新保存该草稿。")
        return _refusal(400, message, {"client_key": [message]})
    form = VisitForm(
        request.POST,
        request.FILES,
        household=household,
        on_behalf=covers(user, "household.edit", household.unit),
    )
    if not form.is_valid():
        errors = {f: [str(m) for m in e] for f, e in form.errors.items()}
        return _refusal(400, _messages(form, errors), errors)
    try:
        visit = followup.visit_log(
            actor=user,
            household=household,
            data=form.service_data(),
            photos=form.cleaned_data["photos"],
            on_behalf_of=form.cleaned_data.get("on_behalf_of"),
            client_key=client_key,
        )
    except ValidationError as exc:
        errors = _exc_errors(exc)
        return _refusal(400, _messages(form, errors), errors)
    except PermissionDenied as exc:
        return _refusal(403, str(exc) or _("您无权为该家庭登记走访。"))
    return JsonResponse(
        {
            "ok": True,
            "visit": visit.pk,
            "replayed": visit.replayed,
            "photos": visit.photos.count(),
            "url": reverse("cases:household_detail", args=[household.pk]) + "#followup",
        }
    )


MAX_KEYS = 50


@login_required
@require_GET
def visit_keys(request: HttpRequest) -> HttpResponse:
    """Which of these draft keys (`?key=...`, several) are visits the user
    has already recorded. The phone asks after an online save whose answer
    it never saw: a known key's copy is dropped, an unknown one is sent."""
    user: Any = request.user
    keys = []
    for value in request.GET.getlist("key")[:MAX_KEYS]:
        try:
            keys.append(uuid.UUID(value))
        except ValueError:
            continue
    known = selectors.visit_keys_known(user, keys)
    return JsonResponse({"known": sorted(str(k) for k in known)})


urlpatterns: list[URLPattern] = [
    path("sw.js", service_worker, name="service_worker"),
    path("manifest.webmanifest", web_manifest, name="web_manifest"),
    path("offline/", offline_page, name="offline_page"),
    path("visits/drafts/", visit_drafts, name="visit_drafts"),
    path("visits/keys/", visit_keys, name="visit_keys"),
    path("households/<int:pk>/visits/upload/", visit_upload, name="visit_upload"),
]
