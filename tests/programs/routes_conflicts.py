"""Permission-walk entries for the 回避 pages (see tests/test_permissions.py).

回避转办 is a chair's list; the report of flagged cases is the auditors'
(and the administrator's, who reads the audit trail). 申请回避 is the
chair's, on an application of a household she registered kin in."""

from typing import Any

from accounts.models import User
from cases.models import Household
from cases.services.kin import kin_relative_add
from programs.models import ConflictFlag
from tests.permission_routes import Page, Route
from tests.programs.routes_applications import DECIDERS_WITHOUT_ROLE, _application


def _kin_of_carol(household: Household) -> None:
    carol = User.objects.get(username="carol")
    kin_relative_add(actor=carol, relation="sibling", name="王秀梅", id_number=household.id_number)


def _recused(response: Any, _household: Household, application: Any) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    flag = ConflictFlag.objects.get(application=application)
    assert (flag.user.username, flag.step, flag.refused) == ("carol", "approve", True)


ROUTES: dict[str, Route] = {
    "programs:application_recuse": Route(
        _application,
        ("POST",),
        DECIDERS_WITHOUT_ROLE,
        payload=lambda h: {},
        allowed=_recused,
        user="carol",
        outsider="ben",
        prepare=_kin_of_carol,
    ),
}

PAGES: dict[str, Page] = {
    "programs:conflict_escalations": Page(
        ("GET",), ("carol", "ben"), ("alice", "dave", "erin", "frank")
    ),
    "programs:conflict_report": Page(
        ("GET",), ("erin", "frank"), ("alice", "bob", "carol", "dave")
    ),
}
