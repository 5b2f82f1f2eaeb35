"""A visit sent with a client key is recorded once, however often it comes;
the upload endpoint the phone's drafts go to checks a visit as the online
form does and answers in JSON; the worker, the manifest and the 待上传 page."""

import datetime as dt
import io
import json
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import AuditEvent
from cases import clock
from cases.models import Helper, Household, Visit, VisitPhoto
from cases.models import HouseholdStatus as S
from cases.services import followup
from tests.builders import make_household, roster_person
from tests.race import on_postgres, race


def filed(unit, **kw) -> Household:
    kw.setdefault("status", S.FILED)
    kw.setdefault("filed_on", dt.date(2024, 1, 10))
    return make_household(unit, **kw)


def jpeg(size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buf, format="JPEG")
    return buf.getvalue()


def pair(household, user) -> Helper:
    return Helper.objects.create(
        household=household,
        person=roster_person(household.unit, user),
        user=user,
        role="union_cadre",
        is_first=True,
        start_on=clock.today() - dt.timedelta(days=30),
    )


# -- the service ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_twice_records_one_visit_and_writes_nothing_the_second_time(units, alice):
    h = filed(units["a1"])
    key = uuid.uuid4()
    data = {"visited_on": clock.today(), "kind": "home", "needs": "冬季取暖"}
    photo = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    first = followup.visit_log(actor=alice, household=h, data=data, photos=[photo], client_key=key)
    assert not first.replayed and first.client_key == key
    events = AuditEvent.objects.count()

    again = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    second = followup.visit_log(
        actor=alice, household=h, data={**data, "needs": "改过的"}, photos=[again], client_key=key
    )
    assert second.pk == first.pk and second.replayed
    assert Visit.objects.filter(household=h).count() == 1
    assert Visit.objects.get().needs == "冬季取暖", "the replay changes nothing"
    assert VisitPhoto.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_replay_still_answers_after_the_household_exited(units, alice):
    h = filed(units["a1"])
    key = uuid.uuid4()
    first = followup.visit_log(actor=alice, household=h, data={}, client_key=key)
    Household.objects.filter(pk=h.pk).update(status=S.EXITED)
    assert followup.visit_log(actor=alice, household=h, data={}, client_key=key).pk == first.pk


@pytest.mark.django_db
def test_keys_belong_to_their_visitor_and_no_key_means_a_new_visit(units, alice, carol):
    h = filed(units["a1"])
    key = uuid.uuid4()
    followup.visit_log(actor=alice, household=h, data={}, client_key=key)
    followup.visit_log(actor=carol, household=h, data={}, client_key=key)
    followup.visit_log(actor=alice, household=h, data={})
    followup.visit_log(actor=alice, household=h, data={})
    assert Visit.objects.filter(household=h).count() == 4


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_sends_of_one_draft_record_one_visit(units, alice):
    h = filed(units["a1"])
    other = filed(units["a1"])
    key = uuid.uuid4()
    # Half send it for one household and half for another (a client bug):
    # still one visit, and nobody sees an IntegrityError.
    race(
        8,
        lambda i: followup.visit_log(
            actor=alice, household=h if i % 2 else other, data={}, client_key=key
        ),
    )
    assert Visit.objects.filter(client_key=key).count() == 1


# -- the upload endpoint ---------------------------------------------------------


def payload(user, key=None, **extra):
    data = {
        "visited_on": clock.today().isoformat(),
        "kind": "home",
        "knows_name": "on",
        "needs": "孩子开学缺学费",
        "client_key": str(key or uuid.uuid4()),
        "owner": str(user.pk),
    }
    data.update(extra)
    return data


def upload_url(h) -> str:
    return reverse("cases:visit_upload", args=[h.pk])


@pytest.mark.django_db
def test_upload_records_the_visit_with_its_photo_once(as_user, units, alice):
    h = filed(units["a1"])
    client = as_user(alice)
    key = uuid.uuid4()
    for _ in range(2):
        data = payload(alice, key)
        data["photos"] = SimpleUploadedFile("draft.jpg", jpeg((1600, 1200)), "image/jpeg")
        response = client.post(upload_url(h), data)
        assert response.status_code == 200, response.content
    answer = response.json()
    visit = Visit.objects.get(household=h)
    assert answer == {
        "ok": True,
        "visit": visit.pk,
        "replayed": True,
        "photos": 1,
        "url": reverse("cases:household_detail", args=[h.pk]) + "#followup",
    }
    assert visit.needs == "孩子开学缺学费" and visit.knows_name and visit.client_key == key
    assert visit.photos.get().content_type == "image/jpeg"


@pytest.mark.django_db
def test_upload_refusals_name_the_reason_and_record_nothing(as_user, units, alice):
    h = filed(units["a1"])
    client = as_user(alice)

    future = (clock.today() + dt.timedelta(days=3)).isoformat()
    response = client.post(upload_url(h), payload(alice, visited_on=future))
    assert response.status_code == 400
    answer = response.json()
    assert not answer["ok"] and "走访日期不能晚于今天" in answer["message"]
    assert "visited_on" in answer["errors"]

    response = client.post(upload_url(h), payload(alice, visited_on="2025-13-40"))
    assert response.status_code == 400 and "走访日期" in response.json()["message"]

    response = client.post(upload_url(h), payload(alice, client_key="not-a-key"))
    assert response.status_code == 400 and "client_key" in response.json()["errors"]

    bad = SimpleUploadedFile("x.jpg", b"MZ not a photo", "image/jpeg")
    response = client.post(upload_url(h), {**payload(alice), "photos": bad})
    assert response.status_code == 400 and "x.jpg" in response.json()["message"]

    Household.objects.filter(pk=h.pk).update(status=S.EXITED)
    response = client.post(upload_url(h), payload(alice))
    assert response.status_code == 400 and "只有已建档的家庭" in response.json()["message"]
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_helper_whose_pairing_ended_gets_a_reason_not_a_page(as_user, units, dave):
    h = filed(units["a1"])
    pairing = pair(h, dave)  # finance: may log a visit only as the household's helper
    client = as_user(dave)
    assert client.post(upload_url(h), payload(dave)).status_code == 200
    Helper.objects.filter(pk=pairing.pk).update(end_on=clock.today(), end_reason="调动")
    response = client.post(upload_url(h), payload(dave))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "帮扶" in response.json()["message"]
    assert Visit.objects.count() == 1


@pytest.mark.django_db
def test_another_persons_draft_is_not_sent_in_this_ones_name(as_user, units, alice, carol):
    h = filed(units["a1"])
    response = as_user(carol).post(upload_url(h), payload(alice))
    assert response.status_code == 409 and "其他用户" in response.json()["message"]
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_upload_needs_the_csrf_token_header(units, alice):
    h = filed(units["a1"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(upload_url(h), payload(alice)).status_code == 403
    client.get(reverse("cases:visit_log", args=[h.pk]))  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(upload_url(h), payload(alice), headers={"X-CSRFToken": token})
    assert response.status_code == 200 and Visit.objects.count() == 1


@pytest.mark.django_db
def test_upload_outside_the_users_units_is_not_found(as_user, units, bob):
    h = filed(units["a1"])
    response = as_user(bob).post(upload_url(h), payload(bob))
    assert response.status_code == 404 and not Visit.objects.exists()


# -- the worker, the manifest, the pages ---------------------------------------


@pytest.mark.django_db
def test_service_worker_is_served_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    config = json.loads(body.split("\n", 1)[0].removeprefix("const CONFIG = ").rstrip(";"))
    assert "/static/django_htmx/htmx-2.min.js" in config["shell"]
    assert config["offline"] == reverse("cases:offline_page")
    pages = [re.compile(p) for p in config["pages"]]
    for url in (
        reverse("cases:my_households"),
        reverse("cases:household_detail", args=[12]),
        reverse("cases:visit_log", args=[12]),
        reverse("cases:visit_drafts"),
    ):
        assert any(p.match(url) for p in pages), url
    assert not any(p.match(reverse("cases:household_list")) for p in pages)
    assert 'addEventListener("sync"' in body


@pytest.mark.django_db
def test_manifest_makes_the_site_installable(client):
    response = client.get(reverse("cases:web_manifest"))
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == reverse("cases:my_households")
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        name = icon["src"].removeprefix(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        )
        assert finders.find(name), icon["src"]


@pytest.mark.django_db
def test_offline_page_names_nobody(as_user, alice):
    page = as_user(alice).get(reverse("cases:offline_page")).content.decode()
    assert "当前离线" in page and "alice" not in page and "张丽" not in page


@pytest.mark.django_db
def test_visit_form_carries_what_a_draft_needs(as_user, units, alice):
    h = filed(units["a1"])
    page = as_user(alice).get(reverse("cases:visit_log", args=[h.pk])).content.decode()
    assert "data-offline-visit" in page
    assert f'data-upload-url="{upload_url(h)}"' in page
    assert f'data-user="{alice.pk}"' in page
    assert 'rel="manifest"' in page and 'id="pending-badge"' in page


@pytest.mark.django_db
def test_the_online_form_records_its_key_and_a_resent_form_is_one_visit(as_user, units, alice):
    h = filed(units["a1"])
    client = as_user(alice)
    url = reverse("cases:visit_log", args=[h.pk])
    key = uuid.uuid4()
    data = {"visited_on": clock.today().isoformat(), "kind": "home", "client_key": str(key)}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the answer was lost; sent again
    assert Visit.objects.get(household=h).client_key == key

    # A form sent back with errors keeps its key for the next try.
    future = (clock.today() + dt.timedelta(days=1)).isoformat()
    other = str(uuid.uuid4())
    page = client.post(url, {**data, "visited_on": future, "client_key": other}).content.decode()
    assert f'data-client-key="{other}"' in page
    assert 'data-client-key=""' in client.get(url).content.decode()


@pytest.mark.django_db
def test_visit_keys_answers_about_the_askers_own_visits_only(as_user, units, alice, carol):
    h = filed(units["a1"])
    mine, theirs, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    followup.visit_log(actor=alice, household=h, data={}, client_key=mine)
    followup.visit_log(actor=carol, household=h, data={}, client_key=theirs)
    url = reverse("cases:visit_keys")
    query = f"?key={mine}&key={theirs}&key={unknown}&key=junk"
    assert as_user(alice).get(url + query).json() == {"known": [str(mine)]}
    assert as_user(carol).get(url + query).json() == {"known": [str(theirs)]}


@pytest.mark.django_db
def test_a_key_used_for_one_household_is_refused_for_another(units, alice):
    h = filed(units["a1"])
    other = filed(units["a1"], name="另一户")
    key = uuid.uuid4()
    followup.visit_log(actor=alice, household=h, data={}, client_key=key)
    with pytest.raises(ValidationError) as refused:
        followup.visit_log(actor=alice, household=other, data={}, client_key=key)
    assert "client_key" in refused.value.error_dict
    assert not Visit.objects.filter(household=other).exists()
