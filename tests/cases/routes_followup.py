"""Permission-walk entries for the followup URLs (see tests/test_permissions.py)."""

import io
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

from accounts.models import User
from cases import clock
from cases.models import Helper, HelperPerson, Household, HouseholdStatus, Visit, VisitPhoto
from tests.builders import roster_person
from tests.permission_routes import Page, Route

EDITORS_WITHOUT_ROLE = ("erin", "dave", "frank")
ALL_READERS = ("alice", "bob", "carol", "dave", "erin")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 120, 60)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png()


def _file(household: Household) -> None:
    Household.objects.filter(pk=household.pk).update(
        status=HouseholdStatus.FILED, filed_on=clock.today()
    )
    household.refresh_from_db()


def _helper(household: Household) -> Helper:
    # Built directly: the walk is about who may end it, not who may hold it.
    carol = User.objects.get(username="carol")
    return Helper.objects.create(
        household=household,
        person=roster_person(household.unit, carol),
        user=carol,
        role="unit_leader",
        is_first=True,
        start_on=clock.today(),
    )


def _photo(household: Household) -> VisitPhoto:
    visit = Visit.objects.create(
        household=household,
        visitor=User.objects.get(username="alice"),
        visited_on=clock.today(),
    )
    photo = VisitPhoto(visit=visit, content_type="image/png", size=len(PNG))
    photo.file.save("visit.png", ContentFile(PNG), save=False)
    photo.save()
    return photo


def _assign_payload(household: Household) -> dict[str, Any]:
    return {
        "person": roster_person(household.unit, User.objects.get(username="alice")).pk,
        "role": "union_cadre",
        "start_on": clock.today().isoformat(),
        "is_first": "on",
    }


def _assigned(response: Any, household: Household, _obj: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="helper-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        helper = Helper.objects.get(household=household, end_on=None)
        assert helper.user.username == "alice" and helper.is_first


def _ended(response: Any, _household: Household, helper: Helper) -> None:
    assert response.status_code == 302
    helper.refresh_from_db()
    assert helper.end_on == clock.today() and helper.end_reason == "工作调动"


def _visit_payload(_household: Household) -> dict[str, Any]:
    return {
        "visited_on": clock.today().isoformat(),
        "kind": "home",
        "knows_name": "on",
        "needs": "冬季取暖",
    }


def _visit_logged(response: Any, household: Household, _obj: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'capture="environment"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        visit = Visit.objects.get(household=household, is_intake=False)
        assert visit.needs == "冬季取暖"


def _upload_payload(household: Household) -> dict[str, Any]:
    alice = User.objects.get(username="alice")
    key = "7a1c54b2-4f0e-4c55-9a53-2f3f8c1d0e9b"
    return {**_visit_payload(household), "client_key": key, "owner": str(alice.pk)}


def _visit_uploaded(response: Any, household: Household, _obj: Any) -> None:
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response.json()["ok"] is True
    visit = Visit.objects.get(household=household, is_intake=False)
    assert visit.needs == "冬季取暖" and visit.client_key is not None


def _photo_shown(response: Any, _household: Household, _photo: Any) -> None:
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def _unit(household: Household) -> Any:
    return household.unit


def _roster_entry(household: Household) -> HelperPerson:
    return HelperPerson.objects.create(unit=household.unit, name="孙建国", post="车间主任")


def _roster_shown(response: Any, household: Household, _unit: Any) -> None:
    assert response.status_code == 200
    assert 'id="roster"' in response.content.decode()


def _roster_payload(_household: Household) -> dict[str, Any]:
    return {"name": "周志强", "post": "工会副主席", "workplace": "纺织厂", "phone": "13900001111"}


def _roster_added(response: Any, household: Household, _unit: Any) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="roster-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        person = HelperPerson.objects.get(unit=household.unit, name="周志强")
        assert person.post == "工会副主席" and person.user is None


def _roster_edit_payload(_household: Household) -> dict[str, Any]:
    return {"name": "孙建国", "post": "厂长", "workplace": "", "phone": ""}


def _roster_edited(response: Any, _household: Household, person: HelperPerson) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="roster-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        person.refresh_from_db()
        assert person.post == "厂长"


def _roster_deactivated(response: Any, _household: Household, person: HelperPerson) -> None:
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active


ROUTES: dict[str, Route] = {
    # The helper roster: kept by the union's caseworkers and chairs.
    "cases:helper_roster": Route(_unit, ("GET",), EDITORS_WITHOUT_ROLE, allowed=_roster_shown),
    "cases:helper_person_create": Route(
        _unit,
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=_roster_payload,
        allowed=_roster_added,
    ),
    "cases:helper_person_edit": Route(
        _roster_entry,
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=_roster_edit_payload,
        allowed=_roster_edited,
    ),
    "cases:helper_person_active": Route(
        _roster_entry,
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"active": "0"},
        allowed=_roster_deactivated,
    ),
    "cases:helper_assign": Route(
        "household",
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=_assign_payload,
        allowed=_assigned,
        prepare=_file,
    ),
    "cases:helper_end": Route(
        _helper,
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=lambda h: {"end_on": clock.today().isoformat(), "reason": "工作调动"},
        allowed=_ended,
        prepare=_file,
    ),
    "cases:visit_log": Route(
        "household",
        ("GET", "POST"),
        EDITORS_WITHOUT_ROLE,
        payload=_visit_payload,
        allowed=_visit_logged,
        prepare=_file,
    ),
    # A visit draft sent from the phone: the same people as the visit form.
    "cases:visit_upload": Route(
        "household",
        ("POST",),
        EDITORS_WITHOUT_ROLE,
        payload=_upload_payload,
        allowed=_visit_uploaded,
        prepare=_file,
    ),
    # A photo of a family's home: only roles that see unmasked personal data.
    "cases:visit_photo": Route(_photo, ("GET",), ("erin", "frank"), allowed=_photo_shown),
}

PAGES: dict[str, Page] = {
    "cases:roster_home": Page(("GET",), ("alice", "carol"), ("erin", "dave", "frank")),
    "cases:my_households": Page(("GET",), ALL_READERS, ("frank",)),
    "cases:overdue_visits": Page(("GET",), ALL_READERS, ("frank",)),
    # Offline visits: the worker, the manifest and the offline page hold no
    # personal data and load before anyone signs in; the 待上传 page is
    # filled in by the phone itself.
    "cases:service_worker": Page(("GET",), ("alice", "frank"), (), login_required=False),
    "cases:web_manifest": Page(("GET",), ("alice", "frank"), (), login_required=False),
    "cases:offline_page": Page(("GET",), ("alice", "frank"), (), login_required=False),
    "cases:visit_drafts": Page(("GET",), ALL_READERS, ("frank",)),
    # Answers only about the asker's own visits.
    "cases:visit_keys": Page(("GET",), ("alice", "frank"), ()),
}
