"""Permission-walk entries for the intake URLs (see tests/test_permissions.py).

`prepare` puts the household straight into the status a step needs (without
the services, which would refuse the walk's county-B household to a county-A
actor); the views then go through the real services.
"""

import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from cases import clock
from cases.models import (
    Assessment,
    Household,
    IntakeNotice,
    NoticeEntry,
    Objection,
    ObjectionOutcome,
    Tier,
)
from cases.models import HouseholdStatus as S
from tests.permission_routes import Page, Route

# The smallest PNG a phone could send: its signature and an empty IHDR.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
OTHER_PNG = PNG + b"\x00" * 8

WORKERS_WITHOUT_ROLE = ("erin", "dave")  # may read files, not work on them
NOT_CHAIRS = ("alice", "erin", "dave")  # no chair role anywhere


def _poster() -> User:
    user, _created = User.objects.get_or_create(username="poster", defaults={"full_name": "公示员"})
    return user


def set_status(household: Household, status: str) -> None:
    Household.objects.filter(pk=household.pk).update(status=status)
    household.status = status


def to(status: str) -> Any:
    return lambda h: set_status(h, status)


def put_on_notice(household: Household, *, ended: bool = True, proof: bool = False) -> IntakeNotice:
    """A notice holding the household; by default its period is over."""
    today = clock.today()
    starts = today - datetime.timedelta(days=30 if ended else 0)
    notice = IntakeNotice(
        unit=household.unit,
        title="建档公示",
        starts_on=starts,
        working_days=5,
        ends_on=starts + datetime.timedelta(days=6),
        posted_at="厂区公告栏",
        created_by=_poster(),
    )
    if proof:
        notice.proof.save("proof.png", ContentFile(PNG), save=False)
    notice.save()
    NoticeEntry.objects.create(notice=notice, household=household)
    set_status(household, S.NOTICED)
    return notice


def _notice_of(household: Household) -> IntakeNotice:
    return IntakeNotice.objects.get(entries__household=household)


def _open_objection(household: Household) -> Objection:
    return Objection.objects.create(
        notice=_notice_of(household),
        household=household,
        received_on=clock.today(),
        content="家中有两套住房",
        recorded_by=_poster(),
    )


def _status_of(household: Household) -> str:
    return Household.objects.values_list("status", flat=True).get(pk=household.pk)


def _form_or(status: str, marker: str) -> Any:
    """GET shows the step's form; POST moved the file to `status`."""

    def check(response: Any, household: Household, _obj: Any) -> None:
        if response.wsgi_request.method == "GET":
            assert response.status_code == 200
            assert marker in response.content.decode()
        else:
            assert response.status_code == 302, response.content.decode()[:2000]
            assert _status_of(household) == status

    return check


def _moved(status: str) -> Any:
    def check(response: Any, household: Household, _obj: Any) -> None:
        assert response.status_code == 302
        assert _status_of(household) == status

    return check


def _preview_shown(response: Any, household: Household, _obj: Any) -> None:
    assert response.status_code == 200
    assert "人均月收入" in response.content.decode()
    assert not Assessment.objects.filter(household=household).exists()


def _notice_shown(response: Any, household: Household, _obj: Any) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert household.name in page and "厂区公告栏" in page


def _proof(response: Any, _h: Household, notice: IntakeNotice) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
    else:
        assert response.status_code == 302
        notice.refresh_from_db()
        with notice.proof.open("rb") as handle:
            assert handle.read() == OTHER_PNG


def _objection_recorded(response: Any, household: Household, _obj: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="objection-form"' in response.content.decode()
    else:
        assert response.status_code == 302
        assert household.objections.filter(content="公示名单有误").exists()


def _objection_resolved(response: Any, _h: Household, objection: Objection) -> None:
    objection.refresh_from_db()
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert objection.content in response.content.decode()
    else:
        assert response.status_code == 302
        assert objection.outcome == ObjectionOutcome.DISMISSED


def _money(**extra: Any) -> dict[str, Any]:
    return {
        "assessed_on": clock.today().isoformat(),
        "household_size": "3",
        "income_wages": "24000",
        **extra,
    }


def _tier(_h: Household) -> dict[str, Any]:
    return {"tier": Tier.objects.filter(is_active=True).order_by("sort_order").first().pk}


ROUTES: dict[str, Route] = {
    "cases:intake_visit": Route(
        "household",
        ("GET", "POST"),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: {"visited_on": clock.today().isoformat(), "seen_housing": "老旧平房"},
        allowed=_form_or(S.VISITED, 'id="visit-form"'),
    ),
    "cases:intake_assess": Route(
        "household",
        ("GET", "POST"),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: _money(),
        allowed=_form_or(S.ASSESSED, 'id="assess-form"'),
        prepare=to(S.VISITED),
    ),
    "cases:intake_assess_preview": Route(
        "household",
        ("POST",),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: _money(),
        allowed=_preview_shown,
        prepare=to(S.VISITED),
    ),
    "cases:intake_discuss": Route(
        "household",
        ("GET", "POST"),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: {
            "held_on": clock.today().isoformat(),
            "attendees": "张三、李四",
            "minutes": "一致同意",
        },
        allowed=_form_or(S.DISCUSSED, 'id="discuss-form"'),
        prepare=to(S.ASSESSED),
    ),
    "cases:intake_evaluate": Route(
        "household",
        ("GET", "POST"),
        NOT_CHAIRS,
        payload=_tier,
        allowed=_form_or(S.EVALUATED, 'id="evaluate-form"'),
        user="carol",
        outsider="ben",
        prepare=to(S.DISCUSSED),
    ),
    "cases:intake_send_back": Route(
        "household",
        ("POST",),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: {"reason": "核查不完整"},
        allowed=_moved(S.DRAFT),
        prepare=to(S.VISITED),
    ),
    "cases:intake_reject": Route(
        "household",
        ("POST",),
        NOT_CHAIRS,
        payload=lambda h: {"reason": "不符合条件"},
        allowed=_moved(S.REJECTED),
        user="carol",
        outsider="ben",
    ),
    "cases:intake_reopen": Route(
        "household",
        ("POST",),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: {"reason": "情况有变化"},
        allowed=_moved(S.DRAFT),
        prepare=to(S.REJECTED),
    ),
    "cases:intake_confirm": Route(
        "household",
        ("GET", "POST"),
        NOT_CHAIRS,
        allowed=_form_or(S.FILED, "公示期已满"),
        payload=lambda h: {},
        user="carol",
        outsider="ben",
        prepare=put_on_notice,
    ),
    "cases:notice_detail": Route(
        lambda h: _notice_of(h),
        ("GET",),
        ("frank",),
        allowed=_notice_shown,
        prepare=put_on_notice,
    ),
    # Reading the photo takes a role that reads files; replacing it one that
    # works on them (erin's refused upload is in test_intake_views).
    "cases:notice_proof": Route(
        lambda h: _notice_of(h),
        ("GET", "POST"),
        ("frank",),
        payload=lambda h: {"proof": SimpleUploadedFile("张贴.png", OTHER_PNG, "image/png")},
        allowed=_proof,
        prepare=lambda h: put_on_notice(h, proof=True),
    ),
    "cases:objection_record": Route(
        "household",
        ("GET", "POST"),
        WORKERS_WITHOUT_ROLE,
        payload=lambda h: {"received_on": clock.today().isoformat(), "content": "公示名单有误"},
        allowed=_objection_recorded,
        prepare=lambda h: put_on_notice(h, ended=False),
    ),
    "cases:objection_resolve": Route(
        _open_objection,
        ("GET", "POST"),
        NOT_CHAIRS,
        payload=lambda h: {"outcome": "dismissed", "resolution": "经核实不属实"},
        allowed=_objection_resolved,
        user="carol",
        outsider="ben",
        prepare=lambda h: put_on_notice(h, ended=False),
    ),
}

PAGES: dict[str, Page] = {
    "cases:notice_list": Page(("GET",), ("alice", "bob", "carol", "dave", "erin"), ("frank",)),
    "cases:notice_create": Page(("GET", "POST"), ("alice", "carol"), ("erin", "dave", "frank")),
}
