"""What a client of the API notices: masked personal data and the audited
reveal, writes that happen once per idempotency key, the rate limit, the
audit row of each call, cursor pages and errors that name the field."""

import uuid

import pytest
from django.test import override_settings

from accounts.models import AuditEvent, Membership
from cases.models import Visit
from programs.models import Application
from tests.api.conftest import Api, check_schema, key_for
from tests.api.routes_api import application_payload, visit_payload
from tests.builders import make_household
from tests.programs.routes_payments import ACCOUNT, paid

# -- masking ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_lists_and_pages_mask_and_only_a_permitted_role_reveals(api, alice, erin, household):
    household.phone, household.bank_account = "13812345678", "6222021234567890123"
    household.save()
    for user in (alice, erin):
        client = api(user)
        row = client.get("/api/v1/households/").json()["results"][0]
        detail = client.get(f"/api/v1/households/{household.pk}/").json()
        for shown in (row, detail):
            assert (
                shown["id_number"] == household.id_number[:3] + "*" * 11 + household.id_number[-4:]
            )
        assert household.phone not in detail["phone"] and detail["phone"].endswith(
            household.phone[-4:]
        )
        assert household.bank_account not in detail["bank_account"]
        assert detail["can_reveal"] == (user == alice)
    revealed = api(alice).post(f"/api/v1/households/{household.pk}/reveal/", {"field": "phone"})
    assert revealed.json() == {"field": "phone", "value": household.phone}
    event = AuditEvent.objects.get(action="household.reveal")
    assert event.actor == alice and event.changes == {"field": [None, "phone"]}
    # An auditor sees full values only when granted.
    url = f"/api/v1/households/{household.pk}/reveal/"
    assert api(erin).post(url, {"field": "phone"}).status_code == 403
    Membership.objects.filter(user=erin).update(sees_unmasked=True)
    assert api(erin).post(url, {"field": "phone"}).json()["value"] == household.phone
    bad = api(alice).post(url, {"field": "income_wages"})
    assert bad.status_code == 400 and "field" in bad.json()["errors"]


@pytest.mark.django_db
def test_money_masks_the_account_and_an_auditor_sees_no_names(api, alice, dave, erin, household):
    payment = paid(household)
    for user in (dave, erin):
        shown = api(user).get(f"/api/v1/payments/{payment.pk}/").json()
        assert ACCOUNT not in shown["bank_account"] and shown["bank_account"].endswith(ACCOUNT[-4:])
    entries = f"/api/v1/funds/{payment.fund_id}/entries/"
    names = {
        user.username: [
            r["household"]["name"]
            for r in api(user).get(entries).json()["results"]
            if r["household"]
        ]
        for user in (dave, erin)
    }
    assert names["dave"] == [household.name]
    assert names["erin"] == [household.name[0] + "*" * (len(household.name) - 1)]


# -- writes, once per key ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_visit_sent_twice_is_one_visit(api, alice, household):
    client = api(alice)
    body = visit_payload(household)
    key = str(uuid.uuid4())
    first = client.post("/api/v1/visits/", body, **{"Idempotency-Key": key})
    again = client.post("/api/v1/visits/", body, **{"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert Visit.objects.filter(household=household).count() == 1
    other = client.post("/api/v1/visits/", body, **{"Idempotency-Key": str(uuid.uuid4())})
    assert other.status_code == 201
    assert Visit.objects.filter(household=household).count() == 2
    assert AuditEvent.objects.filter(action="visit.log").count() == 2


@pytest.mark.django_db
def test_the_same_application_sent_twice_is_one_application(api, alice, household):
    client = api(alice)
    body = application_payload(household)
    key = str(uuid.uuid4())
    first = client.post("/api/v1/applications/", body, **{"Idempotency-Key": key})
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/applications/", body, **{"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Application.objects.filter(household=household).count() == 1
    created = Application.objects.get()
    assert created.status == "pending" and created.drafted_by == alice
    assert str(created.client_key) == key


@pytest.mark.django_db
def test_a_key_sent_again_for_another_household_is_refused_not_answered(
    api, alice, household, units
):
    """The same Idempotency-Key with a different body is not the same
    request: answering with the first record would tell the client its new
    request went through."""
    client = api(alice)
    other = make_household(
        household.unit, name="另一户", status="filed", filed_on=household.filed_on
    )
    key = str(uuid.uuid4())
    first = client.post("/api/v1/visits/", visit_payload(household), **{"Idempotency-Key": key})
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/visits/", visit_payload(other), **{"Idempotency-Key": key})
    assert again.status_code == 400, again.content
    assert "另一条记录" in again.json()["errors"]["Idempotency-Key"][0]
    assert not Visit.objects.filter(household=other).exists()

    body = application_payload(household)
    first = client.post("/api/v1/applications/", body, **{"Idempotency-Key": key})
    assert first.status_code == 201, first.content
    again = client.post(
        "/api/v1/applications/", application_payload(other), **{"Idempotency-Key": key}
    )
    assert again.status_code == 400 and "Idempotency-Key" in again.json()["errors"]
    assert not Application.objects.filter(household=other).exists()


@pytest.mark.django_db
def test_a_write_is_checked_as_on_the_page(api, alice, household, units):
    client = api(alice)
    bad_key = client.post("/api/v1/visits/", visit_payload(household), **{"Idempotency-Key": "x"})
    assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.json()["errors"]
    body = {**visit_payload(household), "follow_up_on": "2000-01-01"}
    response = client.post("/api/v1/visits/", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {"follow_up_on": ["下次跟进日期不能早于走访日期。"]}
    body = {**visit_payload(household), "kind": "letter", "visited_on": "昨天"}
    errors = client.post("/api/v1/visits/", body).json()["errors"]
    assert set(errors) == {"kind", "visited_on"}
    draft = make_household(units["a"], name="未建档")
    refused = client.post("/api/v1/visits/", {**visit_payload(household), "household": draft.pk})
    assert refused.status_code == 400 and refused.json()["detail"]
    assert Visit.objects.count() == 0


# -- rate limit, audit ---------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(API_RATE_LIMIT="3/minute")
def test_each_token_has_its_own_rate_limit(api, alice):
    first, second = api(alice), api(alice)
    for _ in range(3):
        assert first.get("/api/v1/me/").status_code == 200
    refused = first.get("/api/v1/me/")
    assert refused.status_code == 429
    assert "调用过于频繁" in refused.json()["detail"] and "3/minute" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert second.get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_every_call_leaves_one_audit_row_with_the_tokens_owner(api, alice, household):
    client = api(alice)
    before = AuditEvent.objects.count()
    client.get("/api/v1/households/", {"q": household.id_number})
    client.get("/api/v1/households/999999/")
    assert AuditEvent.objects.count() == before + 2
    found, missing = AuditEvent.objects.filter(action="api.call").order_by("id")
    assert found.actor == alice and missing.actor == alice
    # Filed under her union, so its auditor sees what its people did.
    assert found.unit == alice.memberships.get().unit
    assert found.changes["path"] == [None, "/api/v1/households/"]
    assert found.changes["status"] == [None, 200] and missing.changes["status"] == [None, 404]
    # What was searched for may be an ID number: only the parameter's name is kept.
    assert found.changes["query"] == [None, ["q"]]
    assert household.id_number not in str(found.changes)


# -- pages, errors -------------------------------------------------------------------------


@pytest.mark.django_db
def test_cursor_pages_give_every_row_once_newest_first(api, alice, units):
    made = [make_household(units["a"], name=f"张{i}") for i in range(5)]
    client = api(alice)
    seen, url = [], "/api/v1/households/?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted((h.pk for h in made), reverse=True)


@pytest.mark.django_db
def test_bad_input_gets_400_naming_the_field_never_500(api, alice, household):
    client = api(alice)
    cases = [
        ("/api/v1/households/", {"tier": "abc"}, "tier"),
        ("/api/v1/households/", {"status": "nope"}, "status"),
        ("/api/v1/households/", {"unit": "999999"}, "unit"),
        ("/api/v1/households/", {"cursor": "cD1hYmM="}, "cursor"),
        ("/api/v1/visits/", {"date_from": "2026-13-01"}, "date_from"),
        ("/api/v1/visits/", {"date_from": "2026-12-31", "date_to": "2026-01-01"}, "date_to"),
        ("/api/v1/helpers/", {"household": "-1"}, "household"),
        ("/api/v1/helpers/", {"mine": "maybe"}, "mine"),
        ("/api/v1/applications/", {"program": "x"}, "program"),
        ("/api/v1/statistics/", {"date_from": "2026-12-31", "date_to": "2026-01-01"}, "date_to"),
    ]
    for url, params, name in cases:
        response = client.get(url, params)
        assert response.status_code == 400, (url, params, response.content)
        assert name in response.json()["errors"], (url, params, response.json())
    for body in (
        "{",
        "[]",
        '"text"',
        "null",
        '{"household": "x"}',
        '{"household": 99999999999999999999}',
    ):
        for url in ("/api/v1/visits/", "/api/v1/applications/"):
            response = client.post(url, body)
            assert 400 <= response.status_code < 500, (url, body, response.status_code)
            assert response.json()["detail"]
    assert client.get("/api/v1/households/" + "9" * 30 + "/").status_code == 404
    response = Api(key_for(alice)).client.post(
        "/api/v1/visits/",
        "a=b",
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {client.key}",
    )
    assert response.status_code == 415 and "application/json" in response.json()["detail"]


@pytest.mark.django_db
def test_a_visit_with_photos_is_a_form_upload_and_once_per_key(api, alice, household):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import VisitPhoto
    from tests.cases.routes_followup import PNG

    client = api(alice).client
    key = str(uuid.uuid4())
    body = visit_payload(household)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key_for(alice)}", "HTTP_IDEMPOTENCY_KEY": key}
    for expected in (201, 200):
        upload = SimpleUploadedFile("门口.png", PNG, "image/png")
        response = client.post("/api/v1/visits/", {**body, "photos": [upload]}, **auth)
        assert response.status_code == expected, response.content
        check_schema(response)
        assert response.json()["photo_count"] == 1
    assert VisitPhoto.objects.filter(visit__household=household).count() == 1
    fake = SimpleUploadedFile("假照片.png", b"not an image", "image/png")
    refused = client.post(
        "/api/v1/visits/",
        {**body, "photos": [fake]},
        **auth | {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())},
    )
    assert refused.status_code == 400 and "photos" in refused.json()["errors"]


@pytest.mark.django_db
def test_members_id_numbers_are_masked(api, alice, household):
    from cases.models import Member
    from tests.builders import make_id

    number = make_id()
    Member.objects.create(
        household=household, name="王小明", relation="child", id_number=number, annual_income=0
    )
    shown = api(alice).get(f"/api/v1/households/{household.pk}/members/").json()
    assert [m["name"] for m in shown] == ["王小明"]
    assert shown[0]["id_number"] == number[:3] + "*" * 11 + number[-4:]


@pytest.mark.django_db
def test_a_signed_in_browser_cannot_call_the_api_with_its_cookie(client, alice, household):
    """Only a token opens the API: a page on another site cannot make a
    signed-in browser read or write through it."""
    client.force_login(alice)
    assert client.get("/api/v1/households/").status_code == 401
    response = client.post("/api/v1/visits/", {"household": household.pk})
    assert response.status_code == 401
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_other_methods_get_a_json_405_never_500(client, alice, household):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key_for(alice)}"}
    urls = ("/api/v1/households/", f"/api/v1/households/{household.pk}/", "/api/v1/visits/")
    for url in urls:
        for method in ("OPTIONS", "PUT", "PATCH", "DELETE"):
            response = client.generic(method, url, **auth)
            assert response.status_code == 405, (method, url)
            assert response.json() == {"detail": "该地址不支持此请求方法。"}


@pytest.mark.django_db
def test_a_date_range_ending_before_it_starts_is_refused_naming_date_to(api, dave):
    client = api(dave)
    response = client.get("/api/v1/payments/", {"date_from": "2026-06-01", "date_to": "2026-05-31"})
    assert response.status_code == 400
    assert response.json()["errors"]["date_to"] == ["结束日期不能早于开始日期。"]
    same_day = client.get("/api/v1/payments/", {"date_from": "2026-06-01", "date_to": "2026-06-01"})
    assert same_day.status_code == 200
