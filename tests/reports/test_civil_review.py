"""Deciding a suggestion: a reason is required, a refusal by the cases
services (here: a checked month before the file was opened) leaves the
suggestion pending and the file unchanged, with the reason shown."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cases import clock
from cases.models import MonthlyIncome
from reports.civil.compare import plan
from reports.civil.export import civil_export_start
from reports.civil.sheet import Answer
from reports.models import CivilSuggestion
from tests.builders import make_household
from tests.reports.civil_files import give_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def recheck(carol, units, standard):
    filed_on = clock.today() - datetime.timedelta(days=40)
    household = make_household(units["a1"], name="复核户", status="filed", filed_on=filed_on)
    give_consent([household])
    batch = civil_export_start(actor=carol, unit=units["a"], layout="household")
    checked_on = filed_on - datetime.timedelta(days=60)  # before the file was opened
    answer = Answer(2, household.id_number, "none", None, Decimal("9000"), checked_on)
    found = plan(batch, [answer])
    assert [s.kind for s in found.suggestions] == ["recheck"]
    for line in found.lines:
        line.save()
    suggestion = found.suggestions[0]
    suggestion.save()
    return suggestion


def _decide(client, suggestion, **data):
    url = reverse("reports:civil_decide", args=[suggestion.pk])
    return client.post(url, data, follow=True).content.decode()


def test_a_reason_is_required(client, alice, recheck):
    client.force_login(alice)
    page = _decide(client, recheck, decision="accept", reason="  ")
    assert "理由：请填写理由。" in page
    page = _decide(client, recheck, reason="有理由")
    assert "处理：请选择采纳或不采纳。" in page
    assert CivilSuggestion.objects.get(pk=recheck.pk).status == "pending"


def test_a_refusal_by_the_file_keeps_the_suggestion_pending(client, alice, recheck):
    client.force_login(alice)
    page = _decide(client, recheck, decision="accept", reason="民政已核实")
    assert "月份不能早于建档月份" in page
    assert CivilSuggestion.objects.get(pk=recheck.pk).status == "pending"
    assert not MonthlyIncome.objects.exists()
    # Rejecting it is still possible, with the reason kept.
    _decide(client, recheck, decision="reject", reason="核对日期早于建档，不采用")
    decided = CivilSuggestion.objects.get(pk=recheck.pk)
    assert (decided.status, decided.reason, decided.decided_by) == (
        "rejected",
        "核对日期早于建档，不采用",
        alice,
    )
