"""The batch file: the layouts civil affairs asks for, text that stays
text, and a union too big for the request made by the background worker."""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import Member
from reports.civil.layouts import layouts
from reports.models import CivilBatch, Job, JobStatus
from tests.builders import make_household, make_id
from tests.reports.civil_files import give_consent
from tests.reports.test_jobs import _worker

pytestmark = pytest.mark.django_db


def _rows(client, batch):
    response = client.get(reverse("reports:civil_download", args=[batch.pk]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return book.worksheets[0]


def test_a_layout_from_the_settings(client, carol, units, settings):
    settings.CIVIL_AFFAIRS_LAYOUTS = {
        "county": {
            "label": "县民政局格式",
            "per_person": False,
            "columns": [["申请人", "name"], ["公民身份号码", "id_number"],
                        ["成员", "member_id_numbers"], ["单位", "unit"]],
        }
    }  # fmt: skip
    household = make_household(units["a1"], name='=HYPERLINK("http://x")', status="filed")
    first, second = make_id(), make_id()
    for number in (first, second):
        Member.objects.create(household=household, name="成员", relation="child", id_number=number)
    Member.objects.create(household=household, name="无证成员", relation="child")
    give_consent([household])
    client.force_login(carol)
    page = client.get(reverse("reports:civil_new")).content.decode()
    assert "县民政局格式" in page and "按户（一户一行）" in page
    client.post(reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "county"})
    ws = _rows(client, CivilBatch.objects.get())
    assert [c.value for c in ws[1]] == ["申请人", "公民身份号码", "成员", "单位"]
    name, number, members, unit = ws[2]
    assert name.value == household.name and name.data_type == "s"  # text, never a formula
    assert number.value == household.id_number
    assert members.value == f"{first}、{second}"
    assert unit.value == "郑州纺织厂工会"


def test_a_layout_without_id_numbers_is_a_configuration_error(settings):
    settings.CIVIL_AFFAIRS_LAYOUTS = {"bad": {"columns": [["姓名", "name"]]}}
    with pytest.raises(ImproperlyConfigured):
        layouts()


def test_a_big_union_is_made_by_the_worker(
    client, carol, units, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.IMPORT_BACKGROUND_ROWS = 2
    households = [make_household(units["a"], name=f"后台户{n}", status="filed") for n in range(4)]
    give_consent(households[:3])
    client.force_login(carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "household"}
        )
        # A second click while it is being made finds the same batch.
        again = client.post(
            reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "household"}
        )
    assert response["Location"] == again["Location"]
    batch = CivilBatch.objects.get()
    assert batch.status == "preparing" and batch.job.status == JobStatus.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page and "hx-trigger" in page
    _worker(monkeypatch)
    batch.refresh_from_db()
    assert (batch.status, batch.included, batch.left_out) == ("exported", 3, 1)
    assert Job.objects.get().status == JobStatus.DONE
    page = client.get(response["Location"]).content.decode()
    assert "报送 3 户；1 户没有签署授权书，未报送。" in page
