"""Real threads against the database, for the PostgreSQL concurrency tests."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def race(count, work):
    """Run work(i) in `count` threads released at once and return the
    refusals (ValidationError, PermissionDenied). Anything else (a deadlock,
    an IntegrityError, a 500) fails the test, with its type."""
    refused, crashed, start = [], [], threading.Barrier(count)

    def run(i):
        try:
            start.wait()
            work(i)
        except (ValidationError, PermissionDenied) as exc:
            refused.append(exc)
        except Exception as exc:  # reported below, with its type
            crashed.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not crashed, [f"{type(e).__name__}: {e}" for e in crashed]
    return refused
