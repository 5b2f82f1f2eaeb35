"""Reading statistics and exports from a read replica.

With DATABASE_REPLICA_URL set the settings name a second database, "replica"
(a PostgreSQL standby kept up to date by streaming replication), and turn
REPLICA_READS on. Code that only reads and may be a moment behind — the
statistics and the printed or exported documents — runs inside
`reading_from_replica()`; while it does, `ReplicaRouter` sends its reads
there. Every write, and every read outside such a block, goes to "default",
so a form never checks against data the standby has not received yet.
Without a replica the block changes nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

_reading: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def replica_alias() -> str:
    """The alias reads for statistics and exports use: "replica" when one is
    configured, else "default"."""
    if getattr(settings, "REPLICA_READS", False) and REPLICA in settings.DATABASES:
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def reading_from_replica() -> Iterator[str]:
    """Send the reads made inside the block to the replica, if there is one;
    gives the alias they use."""
    token = _reading.set(True)
    try:
        yield replica_alias()
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Reads inside `reading_from_replica()` go to the replica; writes always
    to "default"; nothing is ever migrated on the replica (it copies the
    primary)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return replica_alias() if _reading.get() else None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Both aliases hold the same rows.
        same = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in same and obj2._state.db in same:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None
