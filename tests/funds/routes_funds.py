"""Permission-walk entries for the funds URLs (see tests/test_permissions.py)."""

from tests.permission_routes import Page, Route

ROUTES: dict[str, Route] = {}

PAGES: dict[str, Page] = {}
