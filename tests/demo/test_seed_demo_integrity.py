"""`manage.py seed_demo_money`: what the demo shows of 回访核实, 投诉处理
and 回避, as the demo users meet it."""

import pytest
from django.urls import reverse

from accounts.models import User
from cases import clock
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Complaint,
    ComplaintStatus,
    ConflictFlag,
    Outcome,
    VerificationCase,
    VerificationLine,
)
from programs.selectors import complaints as complaint_selectors
from programs.selectors.conflicts import escalations_for, flags_for
from programs.selectors.verification import case_list
from programs.services.applications import application_decide
from programs.services.conflicts import ConflictOfInterest

from .test_seed_demo_money import seeded  # noqa: F401 - the fixture

# Each test runs on the whole demo, seeded afresh.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def _user(username):
    return User.objects.get(username=username)


def test_drawn_households_called_back_and_problems_with_the_parent_chair(client):
    lines = list(VerificationLine.objects.select_related("payment__application", "verifier"))
    outcomes = [line.outcome for line in lines]
    assert outcomes.count(Outcome.PARTIAL) == 1 and outcomes.count(Outcome.UNREACHABLE) == 1
    assert outcomes.count(Outcome.FULL) > len(lines) / 2 and "" not in outcomes
    verifier = _user("demo_verifier")
    for line in lines:
        # Separation of duties: the caseworker who calls back drafted,
        # decided and paid none of them.
        assert line.verifier == verifier
        application = line.payment.application
        assert verifier.pk not in {line.payment.paid_by_id, application.drafted_by_id}
        assert not application.decisions.filter(actor=verifier).exists()
    partial = VerificationLine.objects.get(outcome=Outcome.PARTIAL)
    assert 0 < partial.amount_received < partial.payment.amount
    # The unreachable household is an open case for the chair of the union
    # above its own; the part payment was settled with a resolution.
    chair = _user("demo_chair")
    (open_case,) = case_list(chair)
    assert open_case.line.outcome == Outcome.UNREACHABLE
    assert open_case.unit == open_case.line.household.unit.parent
    settled = VerificationCase.objects.get(line=partial)
    assert settled.status == "closed" and "退还" in settled.resolution
    client.force_login(chair)
    page = client.get(reverse("programs:verification_cases")).content.decode()
    assert open_case.line.household.unit.name in page
    assert reverse("programs:verification_case", args=[open_case.pk]) in page
    assert list(case_list(_user("demo_auditor")))


def test_complaints_overdue_answered_and_about_a_cadre(client):
    complaints = Complaint.objects.all()
    assert complaints.count() == 4
    closed = complaints.get(status=ComplaintStatus.CLOSED)
    assert closed.closed_on <= closed.deadline and closed.payment is not None
    chair, city_chair, auditor = (
        _user("demo_chair"), _user("demo_chair_city"), _user("demo_auditor")
    )  # fmt: skip
    overdue = complaints.get(status=ComplaintStatus.OPEN, subject=None)
    assert overdue.deadline < clock.today()
    rows = complaint_selectors.overdue_by_unit(chair)
    assert rows == [{"unit_id": overdue.unit_id, "unit__name": overdue.unit.name, "n": 1}]
    answered = complaints.get(status=ComplaintStatus.HANDLING)
    assert answered.owner == _user("demo_caseworker") and answered.reply
    assert answered.deadline >= clock.today()
    # The complaint about the county chair's refusal: read by the city
    # chair, who answers it, and the auditors; never by the chair herself.
    about = complaints.get(subject=chair)
    assert about.application.status == ApplicationStatus.REJECTED
    assert about.owner == city_chair
    assert about not in complaint_selectors.visible(chair)
    assert about in complaint_selectors.visible(city_chair)
    assert about in complaint_selectors.visible(auditor)
    client.force_login(chair)
    assert client.get(reverse("programs:complaint_detail", args=[about.pk])).status_code == 404
    assert client.get(reverse("programs:complaint_detail", args=[overdue.pk])).status_code == 200


def test_a_chair_recuses_from_her_relatives_application(client):
    chair, city_chair = _user("demo_chair"), _user("demo_chair_city")
    (flag,) = ConflictFlag.objects.all()
    application = flag.application
    assert flag.user == chair and flag.refused and application.status == ApplicationStatus.PENDING
    assert list(escalations_for(city_chair)) == [application]
    assert list(flags_for(_user("demo_auditor"))) == [flag]
    with pytest.raises(ConflictOfInterest):
        application_decide(actor=chair, application=application, approve=True, note="")
    client.force_login(_user("demo_auditor"))
    page = client.get(reverse("programs:conflict_report")).content.decode()
    assert reverse("programs:application_detail", args=[application.pk]) in page
    # No other household of the demo matches her registration.
    assert not AidPayment.objects.filter(application__conflict_flags__isnull=False).exists()
    assert Application.objects.filter(conflict_flags__isnull=False).count() == 1
