"""Permission-walk entries for the statistics URLs (see tests/test_permissions.py).

Everyone who reads household files (caseworker, chair, finance, auditor)
sees the figures of their own unions; an admin without a case role does not."""

from tests.permission_routes import Page, Route

READERS = ("alice", "carol", "dave", "erin")
NO_FILE_ROLE = ("frank",)

ROUTES: dict[str, Route] = {}

PAGES: dict[str, Page] = {
    "reports:statistics": Page(("GET",), READERS, NO_FILE_ROLE),
    "reports:statistics_pdf": Page(("GET",), READERS, NO_FILE_ROLE),
    "reports:statistics_xlsx": Page(("GET",), READERS, NO_FILE_ROLE),
    # A big union's snapshot: the rebuild's progress, and 重新计算.
    "reports:statistics_progress": Page(("GET",), READERS, NO_FILE_ROLE),
    "reports:statistics_rebuild": Page(("POST",), READERS, NO_FILE_ROLE),
}
