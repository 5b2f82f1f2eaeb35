"""Reference lists kept for a minute in each process.

The unions of a city (409 rows), the tiers, causes and file categories fill
the filter dropdowns of every list page; reading and shaping them cost a page
2 ms of its 10. They change a few times a year, through the admin: a list
keeps them for REFERENCE_CACHE_SECONDS (60 by default, 0 turns this off).

A change saved in this process empties the store at once (the signals below);
another process or app server shows the new name or union within the minute.
A dropdown only offers choices: what a user sends back is checked against the
database as before, so a union removed a moment ago is refused, not trusted.
Nothing personal is kept here, only names of units and lists, keyed by the
exact query that read them (a user's scope is part of that query), and the
planner's row estimate of a whole table ("约 1,000,000 户", accounts.paging).
"""

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Model

T = TypeVar("T")

_store: dict[Hashable, tuple[float, Any]] = {}
_lock = threading.Lock()
_MAX_KEYS = 2000  # scopes differ per union: bound the store, whatever the traffic


def remembered(key: Hashable, fetch: Callable[[], T]) -> T:
    """fetch()'s value, read at most once a REFERENCE_CACHE_SECONDS per key."""
    seconds = float(getattr(settings, "REFERENCE_CACHE_SECONDS", 60))
    if seconds <= 0:
        return fetch()
    now = time.monotonic()
    kept = _store.get(key)
    if kept is not None and kept[0] > now:
        value: T = kept[1]
        return value
    value = fetch()
    with _lock:
        if len(_store) >= _MAX_KEYS:
            _store.clear()
        _store[key] = (now + seconds, value)
    return value


def forget(*_args: Any, **_kwargs: Any) -> None:
    """Empty the store (a signal receiver: any saved or deleted reference row)."""
    with _lock:
        _store.clear()


def forget_on_change(*models: type[Model]) -> None:
    """Forget on every save or delete of these models' rows; each app names
    its own in AppConfig.ready (accounts its unions, cases its lists)."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        label = model._meta.label
        post_save.connect(forget, sender=model, dispatch_uid=f"refcache-save-{label}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"refcache-delete-{label}")
