"""Who may send data to civil affairs, see a batch and review it: a chair
within the union's scope makes and downloads batches; caseworkers of the
union see and review them; another union's people get 404, people without
the role 403, and nothing they try leaves a trace."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AuditEvent
from reports.civil.export import civil_export_start
from reports.models import CivilBatch
from tests.builders import make_household
from tests.reports.civil_files import give_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(client, carol, units):
    households = [make_household(units["a1"], name=f"范围户{n}", status="filed") for n in range(2)]
    give_consent(households[:1])
    client.force_login(carol)
    response = client.post(
        reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "household"}
    )
    assert response.status_code == 302
    return CivilBatch.objects.get()


def test_another_unions_batch_is_not_found(client, batch, bob, ben):
    for person, names in (
        (bob, ("reports:civil_detail", "reports:civil_review")),
        (ben, ("reports:civil_detail", "reports:civil_download", "reports:civil_compare_start")),
    ):
        client.force_login(person)
        for name in names:
            assert client.get(reverse(name, args=[batch.pk])).status_code == 404, name
    page = client.get(reverse("reports:civil_list")).content.decode()
    assert "金水区总工会" not in page


def test_people_without_the_role_are_refused(client, batch, alice, dave, erin, frank):
    for person in (dave, erin, frank):
        client.force_login(person)
        assert client.get(reverse("reports:civil_list")).status_code == 403
        assert client.get(reverse("reports:civil_detail", args=[batch.pk])).status_code == 403
    # A caseworker sees and reviews the batch but neither makes one nor takes the file.
    client.force_login(alice)
    assert client.get(reverse("reports:civil_detail", args=[batch.pk])).status_code == 200
    events = AuditEvent.objects.count()
    assert client.get(reverse("reports:civil_download", args=[batch.pk])).status_code == 403
    assert client.get(reverse("reports:civil_new")).status_code == 403
    assert AuditEvent.objects.count() == events


def test_the_download_is_audited_and_the_pages_mask_id_numbers(client, batch, carol):
    household = batch.lines.get(included=False).household
    client.force_login(carol)
    page = client.get(reverse("reports:civil_detail", args=[batch.pk])).content.decode()
    assert household.name in page
    assert household.id_number not in page
    assert household.id_number[:3] + "*" * 11 + household.id_number[-4:] in page
    response = client.get(reverse("reports:civil_download", args=[batch.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action="civil.download")
    assert event.actor == carol and event.object_id == str(batch.pk)


def test_a_chair_cannot_send_another_unions_households(carol, units, client):
    make_household(units["b"], name="外区户", status="filed")
    with pytest.raises(PermissionDenied):
        civil_export_start(actor=carol, unit=units["b"], layout="household")
    client.force_login(carol)
    response = client.post(
        reverse("reports:civil_new"), {"unit": units["b"].pk, "layout": "household"}
    )
    assert response.status_code == 200
    assert "报送工会" in response.content.decode()
    assert not CivilBatch.objects.exists()


def test_a_union_without_filed_households_is_told_so(carol, units, client):
    client.force_login(carol)
    response = client.post(
        reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "household"}
    )
    assert response.status_code == 200
    assert "所选工会没有符合条件的已建档家庭" in response.content.decode()
