"""The consent (授权书) with the day it was signed: required on upload, never
in the future, and the only thing that lets a household's data go to civil
affairs."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cases import clock
from cases.models import Attachment
from reports.models import CivilBatch
from tests.builders import make_household
from tests.reports.civil_files import give_consent

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _upload(client, household, **data):
    payload = {"file": SimpleUploadedFile("授权书.pdf", PDF, "application/pdf"), **data}
    url = reverse("cases:attachment_upload", args=[household.pk])
    return client.post(url, payload, follow=True).content.decode()


def test_a_consent_needs_its_signing_date(client, alice, household):
    client.force_login(alice)
    page = _upload(client, household, kind="consent")
    assert "签署日期：上传授权书须填写签署日期。" in page
    tomorrow = clock.today() + datetime.timedelta(days=1)
    page = _upload(client, household, kind="consent", signed_on=tomorrow.isoformat())
    assert "签署日期：签署日期不能晚于今天。" in page
    page = _upload(client, household, kind="consent", signed_on="2026-02-30")
    assert "签署日期：请输入一个有效的日期。" in page or "签署日期：输入一个有效的日期。" in page
    assert not Attachment.objects.filter(household=household).exists()

    day = clock.today() - datetime.timedelta(days=2)
    page = _upload(client, household, kind="consent", signed_on=day.isoformat())
    assert Attachment.objects.get(household=household).signed_on == day
    assert f"签署于 {day:%Y-%m-%d}" in page


def test_other_attachments_carry_no_signing_date(client, alice, household):
    client.force_login(alice)
    _upload(client, household, kind="wages", signed_on="2024-01-01")
    assert Attachment.objects.get(household=household).signed_on is None


def test_only_households_with_a_dated_consent_are_sent(client, carol, units):
    signed = make_household(units["a"], name="已授权", status="filed")
    undated = make_household(units["a"], name="授权书无日期", status="filed")
    none = make_household(units["a"], name="无授权书", status="filed")
    draft = make_household(units["a"], name="未建档", status="draft")
    give_consent([signed, draft])
    give_consent([undated], signed=False)
    client.force_login(carol)
    client.post(reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "person"})
    batch = CivilBatch.objects.get()
    assert (batch.included, batch.left_out) == (1, 2)
    left = set(batch.lines.filter(included=False).values_list("household__name", flat=True))
    assert left == {undated.name, none.name}
    content = b"".join(
        client.get(reverse("reports:civil_download", args=[batch.pk])).streaming_content
    )
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("户主身份证号", "姓名", "身份证号", "与户主关系", "家庭住址", "家庭人口")
    assert [r[2] for r in rows[1:]] == [signed.id_number]


@pytest.mark.django_db
def test_the_service_refuses_what_the_form_refuses(alice, household):
    """A consent reaches the file only through attachment_add: a caller that
    skips the form gets the same refusals."""
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.services.households import attachment_add

    tomorrow = clock.today() + datetime.timedelta(days=1)
    for signed_on, message in ((None, "须填写签署日期"), (tomorrow, "不能晚于今天")):
        upload = SimpleUploadedFile("授权书.pdf", b"%PDF-1.4\n%%EOF\n")
        with pytest.raises(ValidationError) as refused:
            attachment_add(
                actor=alice,
                household=household,
                kind="consent",
                upload=upload,
                content_type="application/pdf",
                signed_on=signed_on,
            )
        assert message in refused.value.message_dict["signed_on"][0]
    assert not Attachment.objects.filter(household=household).exists()
