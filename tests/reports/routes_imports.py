"""Permission-walk entries for the household import and for moving in
(建档迁移; see tests/test_permissions.py).

The preview and the confirmation take the id of a check job, which belongs
to the caseworker who uploaded the file: the builder makes one, with its
file waiting in private storage, for the caseworker covering the
household's unit. The other county's caseworker gets 404; people who may
not edit household files (auditor, finance, admin) get 403."""

from typing import Any

from django.core.files.base import ContentFile

from accounts.models import Membership
from cases.models import Household
from cases.models.household import private_storage
from reports.imports import CHECK_KIND
from reports.imports_migrate import MODES
from reports.models import Job, JobStatus
from tests.permission_routes import Page, Route
from tests.reports.import_files import good_row, xlsx
from tests.reports.migrate_files import register_row, register_xlsx

NOT_EDITORS = ("erin", "dave", "frank")
IMPORTED = "权限导入户"


def _check(household: Household) -> Job:
    owner = next(
        m.user
        for m in Membership.objects.filter(role="caseworker").select_related("unit", "user")
        if m.unit.covers(household.unit)
    )
    content = xlsx([good_row(户主姓名=IMPORTED, 所属工会=household.unit.code)])
    stored = private_storage().save(f"imports/{owner.pk}/walk.xlsx", ContentFile(content))
    return Job.objects.create(
        kind=CHECK_KIND,
        title="检查导入文件",
        created_by=owner,
        status=JobStatus.DONE,
        params={"upload": stored, "filename": "walk.xlsx", "rows": 1},
        result={
            "ok": True,
            "total": 1,
            "valid": 1,
            "units": {household.unit.name: 1},
            "errors": [],
            "filename": "walk.xlsx",
        },
    )


def _previewed(response: Any, _h: Household, _job: Job) -> None:
    assert response.status_code == 200
    assert "检查通过：可导入 1 户" in response.content.decode()


def _imported(response: Any, household: Household, _job: Job) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Household.objects.filter(name=IMPORTED, unit=household.unit).count() == 1


# Moving in (建档迁移) is a chair's or an administrator's: the caseworker,
# finance and the auditor of the county get 403; the other county's chair 404.
NOT_MIGRATORS = ("alice", "dave", "erin")
MIGRATED = "权限迁移户"


def _migrate_check(household: Household) -> Job:
    owner = next(
        m.user
        for m in Membership.objects.filter(role="chair").select_related("unit", "user")
        if m.unit.covers(household.unit)
    )
    content = register_xlsx([register_row(户主姓名=MIGRATED, 所属工会=household.unit.code)])
    stored = private_storage().save(f"imports/{owner.pk}/walk.xlsx", ContentFile(content))
    return Job.objects.create(
        kind=MODES["register"].check_kind,
        title="检查迁移文件",
        created_by=owner,
        status=JobStatus.DONE,
        params={"upload": stored, "filename": "walk.xlsx", "rows": 1, "mode": "register"},
        result={
            "ok": True,
            "total": 1,
            "valid": 1,
            "units": {household.unit.name: 1},
            "counts": {"households": 1},
            "errors": [],
            "filename": "walk.xlsx",
            "mode": "register",
        },
    )


def _migrate_previewed(response: Any, _h: Household, _job: Job) -> None:
    assert response.status_code == 200
    assert "档案 1 户" in response.content.decode()


def _migrated(response: Any, household: Household, _job: Job) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    migrated = Household.objects.get(name=MIGRATED, unit=household.unit)
    assert migrated.status == "filed"


ROUTES: dict[str, Route] = {
    "reports:migrate_preview": Route(
        _migrate_check,
        ("GET",),
        NOT_MIGRATORS,
        allowed=_migrate_previewed,
        user="carol",
        outsider="ben",
    ),
    "reports:migrate_confirm": Route(
        _migrate_check,
        ("POST",),
        NOT_MIGRATORS,
        payload=lambda h: {},
        allowed=_migrated,
        user="carol",
        outsider="ben",
    ),
    "reports:import_preview": Route(_check, ("GET",), NOT_EDITORS, allowed=_previewed),
    "reports:import_confirm": Route(
        _check, ("POST",), NOT_EDITORS, payload=lambda h: {}, allowed=_imported
    ),
}

PAGES: dict[str, Page] = {
    "reports:import_start": Page(("GET", "POST"), ("alice", "carol"), NOT_EDITORS),
    "reports:import_template": Page(("GET",), ("alice", "carol"), NOT_EDITORS),
    "reports:migrate_register_start": Page(("GET", "POST"), ("carol", "frank"), NOT_MIGRATORS),
    "reports:migrate_register_template": Page(("GET",), ("carol", "frank"), NOT_MIGRATORS),
    "reports:migrate_history_start": Page(("GET", "POST"), ("carol", "frank"), NOT_MIGRATORS),
    "reports:migrate_history_template": Page(("GET",), ("carol", "frank"), NOT_MIGRATORS),
}
