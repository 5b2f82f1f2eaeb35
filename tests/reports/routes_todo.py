"""Permission-walk entries for 待办 (see tests/test_permissions.py).

Everyone with a role has a 待办 page with the sections of the roles held;
a person with no role anywhere is refused (tests/reports/test_todo.py)."""

from tests.permission_routes import Page, Route

EVERY_ROLE = ("alice", "carol", "dave", "erin", "frank")

ROUTES: dict[str, Route] = {}

PAGES: dict[str, Page] = {
    "reports:todo": Page(("GET",), EVERY_ROLE, ()),
    "reports:todo_count": Page(("GET",), EVERY_ROLE, ()),
}
