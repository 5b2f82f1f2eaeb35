"""Permission-walk entries for 民政数据比对 (see tests/test_permissions.py).

A batch belongs to the union it was made for. Its page and the review are
open to the caseworkers and chairs covering that union; the file, the
answer's upload, check and confirmation to its chairs only (the check job
is its uploader's alone). The other county's caseworker or chair gets 404;
finance, the auditor and the administrator get 403, and so does a
caseworker for what only a chair may do."""

from typing import Any

from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.models import Membership, User
from cases.models import Household, Tier
from cases.models.household import private_storage
from reports.civil.compare import CHECK_KIND
from reports.models import (
    CivilBatch,
    CivilLine,
    CivilSuggestion,
    Job,
    JobStatus,
)
from tests.permission_routes import Page, Route
from tests.reports.civil_files import answer_row, answer_upload, answer_xlsx

NOT_VIEWERS = ("dave", "erin", "frank")
NOT_CHAIRS = ("alice", "dave", "erin", "frank")


def _chair(household: Household) -> User:
    return next(
        m.user
        for m in Membership.objects.filter(role="chair").select_related("unit", "user")
        if m.unit.covers(household.unit)
    )


def _batch(household: Household) -> CivilBatch:
    batch = CivilBatch.objects.create(
        unit=household.unit,
        layout="household",
        created_by=_chair(household),
        status="exported",
        included=1,
        filename="walk.xlsx",
        sha256="0" * 64,
    )
    batch.file.save("walk.xlsx", ContentFile(b"PK\x03\x04walk"), save=True)
    CivilLine.objects.create(batch=batch, household=household, unit=household.unit, included=True)
    return batch


def _check(household: Household) -> Job:
    batch = _batch(household)
    owner = batch.created_by
    content = answer_xlsx([answer_row(household.id_number)])
    stored = private_storage().save(f"imports/{owner.pk}/walk.xlsx", ContentFile(content))
    return Job.objects.create(
        kind=CHECK_KIND,
        title="检查民政比对结果",
        created_by=owner,
        status=JobStatus.DONE,
        params={"upload": stored, "filename": "walk.xlsx", "rows": 1, "batch": batch.pk},
        result={"ok": True, "total": 1, "valid": 1, "errors": [], "filename": "walk.xlsx",
                "civil": {"sent": 1, "matched": 1, "differs": 0, "missing": 0, "unknown": 0}},
    )  # fmt: skip


def _suggestion(household: Household) -> CivilSuggestion:
    batch = _batch(household)
    line = batch.lines.get()
    return CivilSuggestion.objects.create(
        batch=batch,
        line=line,
        household=household,
        kind="tier",
        tier_from=household.tier,
        tier_to=Tier.objects.order_by("sort_order").first(),
    )


def _suggested_batch(household: Household) -> CivilBatch:
    """A batch with one suggestion for the household, for the review page."""
    return _suggestion(household).batch


def _shown(response: Any, household: Household, _b: Any) -> None:
    assert response.status_code == 200
    assert "民政比对" in response.content.decode()


def _downloaded(response: Any, _h: Household, _b: Any) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"PK\x03\x04walk"


def _upload(household: Household) -> dict[str, Any]:
    return {"file": answer_upload(answer_xlsx([answer_row(household.id_number)]))}


def _uploaded(response: Any, _h: Household, _b: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="import-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert "/civil/compare/" in response["Location"]


def _previewed(response: Any, _h: Household, _job: Any) -> None:
    assert response.status_code == 200
    assert "检查通过" in response.content.decode()


def _confirmed(response: Any, _h: Household, job: Job) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CivilBatch.objects.get(pk=job.params["batch"]).status == "compared"


def _reviewed(response: Any, household: Household, batch: CivilBatch) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    # The suggestion, with its household and the form to decide it.
    suggestion = batch.suggestions.get()
    assert household.name in page
    assert reverse("reports:civil_decide", args=[suggestion.pk]) in page


def _decided(response: Any, _h: Household, suggestion: CivilSuggestion) -> None:
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and suggestion.reason == "民政数据有误"


ROUTES: dict[str, Route] = {
    "reports:civil_detail": Route(_batch, ("GET",), NOT_VIEWERS, allowed=_shown),
    "reports:civil_review": Route(_suggested_batch, ("GET",), NOT_VIEWERS, allowed=_reviewed),
    "reports:civil_download": Route(
        _batch, ("GET",), NOT_CHAIRS, allowed=_downloaded, user="carol", outsider="ben"
    ),
    "reports:civil_compare_start": Route(
        _batch,
        ("GET", "POST"),
        NOT_CHAIRS,
        payload=_upload,
        allowed=_uploaded,
        user="carol",
        outsider="ben",
    ),
    "reports:civil_compare_preview": Route(
        _check, ("GET",), NOT_CHAIRS, allowed=_previewed, user="carol", outsider="ben"
    ),
    "reports:civil_compare_confirm": Route(
        _check,
        ("POST",),
        NOT_CHAIRS,
        payload=lambda h: {},
        allowed=_confirmed,
        user="carol",
        outsider="ben",
    ),
    "reports:civil_decide": Route(
        _suggestion,
        ("POST",),
        NOT_VIEWERS,
        payload=lambda h: {"decision": "reject", "reason": "民政数据有误"},
        allowed=_decided,
    ),
}

PAGES: dict[str, Page] = {
    "reports:civil_list": Page(("GET",), ("alice", "carol"), NOT_VIEWERS),
    "reports:civil_new": Page(("GET", "POST"), ("carol",), NOT_CHAIRS),
}
