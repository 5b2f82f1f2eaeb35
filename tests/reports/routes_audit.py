"""Permission-walk entries for 审计核验 (see tests/test_permissions.py).

The export holds every union's rows, so only an auditor at the top union
may open the page; the walk's auditor (erin, county A) is refused like every
other role. The city auditor's way in is tested in
tests/reports/test_audit_export.py."""

from tests.permission_routes import Page, Route

ROUTES: dict[str, Route] = {}

PAGES: dict[str, Page] = {
    "reports:audit_export": Page(("GET", "POST"), (), ("alice", "carol", "dave", "erin", "frank")),
}
