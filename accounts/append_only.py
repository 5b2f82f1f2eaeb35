"""Records nobody may edit: the audit trail, status histories, approval
decisions, committee votes and the ledger.

On PostgreSQL a trigger on each of these tables refuses UPDATE and DELETE
for every caller, the admin and a psql session included; a mistake is
corrected by a new row (a reversing entry, a later status change). TRUNCATE
is not a row operation, so resetting a test database still works. SQLite
has no such triggers: there the services alone keep the rows unchanged.

A job that must rewrite such a row on purpose (removing personal data once
a file's retention period has passed) does so inside
`pgtrigger.ignore("app.Model:<trigger name>")`, in its own transaction.
"""

from typing import Any

import pgtrigger


class AppendOnly(pgtrigger.Protect):
    """pgtrigger's Protect, with a message that says what to do instead."""

    def get_func(self, model: Any) -> str:
        return self.format_sql(
            """
            RAISE EXCEPTION '% is append-only: % refused (correct a mistake with a new row)',
                TG_TABLE_NAME, TG_OP;
            """
        )


def append_only(name: str) -> pgtrigger.Protect:
    """The trigger a model lists in `Meta.triggers` to become append-only."""
    return AppendOnly(name=name, operation=pgtrigger.Update | pgtrigger.Delete)
