"""Permission-walk entries for 回避登记 (see tests/test_permissions.py).

Every signed-in user keeps their own registration (no id in the URL: a
relative to remove is named in the form, among the user's own); the list of
who registered is the administrator's."""

from tests.permission_routes import Page

PAGES: dict[str, Page] = {
    "cases:kin_mine": Page(("GET", "POST"), ("alice", "carol", "dave", "erin", "frank"), ()),
    "cases:kin_registered": Page(("GET",), ("frank",), ("alice", "carol", "dave", "erin")),
}
