"""Writes to household files, one module per use case.

The household-file services are re-exported here because most callers want
them; the workflow modules are imported by name (`services.intake`, ...).
"""

from .households import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    REVEALABLE_FIELDS,
    attachment_add,
    attachment_delete,
    check_id_free,
    household_create,
    household_reveal_id,
    household_update,
    per_capita_monthly,
)

__all__ = [
    "HOUSEHOLD_FIELDS", "MEMBER_FIELDS", "REVEALABLE_FIELDS", "attachment_add",
    "attachment_delete", "check_id_free", "household_create", "household_reveal_id",
    "household_update", "per_capita_monthly",
]  # fmt: skip
