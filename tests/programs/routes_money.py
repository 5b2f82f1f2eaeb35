"""Permission-walk entries for the money URLs (see tests/test_permissions.py)."""

from typing import Any

from cases.models import Household
from tests.permission_routes import Page, Route


def _money_shown(response: Any, household: Household, _obj: Any) -> None:
    assert response.status_code == 200
    content = response.content.decode()
    assert household.name in content and 'id="money-panel"' in content


ROUTES: dict[str, Route] = {
    # Everyone who reads the household file reads its money; an admin does not.
    "programs:household_money": Route("household", ("GET",), ("frank",), allowed=_money_shown),
}

PAGES: dict[str, Page] = {}
