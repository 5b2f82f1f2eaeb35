"""The intake state machine through its services."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Membership
from cases import clock
from cases.models import HouseholdStatus as S
from cases.models import ObjectionOutcome, StatusChange, Tier
from cases.services import intake
from tests.builders import make_household


@pytest.fixture
def draft(units, alice, standard):
    return make_household(units["a1"], status=S.DRAFT, submitted_by=alice, created_by=alice)


def money(**kw):
    data = {f: D("0") for f in (*intake.INCOME_FIELDS, *intake.EXPENSE_FIELDS)}
    data.update({k: D(v) for k, v in kw.items()})
    return data


def walk_to_noticed(h, alice, carol, exclusions=()):
    intake.intake_visit_log(actor=alice, household=h, data={"seen_housing": "老旧平房"})
    intake.assessment_record(
        actor=alice,
        household=h,
        data={**money(income_wages="24000"), "household_size": 3, "exclusions": list(exclusions)},
    )
    intake.discussion_record(
        actor=alice, household=h, held_on=clock.today(), attendees="张三、李四", minutes="同意"
    )
    tier = Tier.objects.get(name="特困")
    intake.case_evaluate(
        actor=carol, household=h, tier=tier, override="残疾代步" if exclusions else ""
    )
    return intake.notice_create(
        actor=alice, unit=h.unit, title="建档公示", starts_on=clock.today(), posted_at="厂区公告栏",
        households=[h],
    )  # fmt: skip


@pytest.mark.django_db
def test_seven_steps_with_history(draft, alice, carol):
    notice = walk_to_noticed(draft, alice, carol)
    draft.refresh_from_db()
    assert draft.status == S.NOTICED
    assessment = intake.latest_assessment(draft)
    # 24,000 ÷ 3 ÷ 12 = 666.67, 0.83× of 800: 深度困难
    assert assessment.per_capita == D("666.67") and assessment.suggested_band == "deep"
    with pytest.raises(ValidationError, match="期满后方可确认"):
        intake.case_confirm(actor=carol, household=draft)
    clock.advance(dt.timedelta(days=(notice.ends_on - clock.today()).days + 1))
    filed = intake.case_confirm(actor=carol, household=draft)
    assert filed.status == S.FILED
    assert filed.file_number == f"410105001-{clock.today().year}-0001"
    steps = list(StatusChange.objects.filter(household=draft).values_list("to_status", flat=True))
    assert steps == [S.VISITED, S.ASSESSED, S.DISCUSSED, S.EVALUATED, S.NOTICED, S.FILED]


@pytest.mark.django_db
def test_illegal_move_is_refused_with_a_message(draft, carol):
    with pytest.raises(intake.IllegalTransition, match="只有已评议的档案才能评定"):
        intake.case_evaluate(actor=carol, household=draft, tier=Tier.objects.first())


@pytest.mark.django_db
def test_submitter_cannot_decide_own_case(draft, alice, carol, units):
    Membership.objects.create(user=alice, unit=units["a"], role="chair")
    intake.intake_visit_log(actor=alice, household=draft, data={})
    intake.assessment_record(actor=alice, household=draft, data={**money(), "household_size": 2})
    intake.discussion_record(
        actor=alice, household=draft, held_on=clock.today(), attendees="甲", minutes="乙"
    )
    with pytest.raises(PermissionDenied, match="不能自己评定"):
        intake.case_evaluate(actor=alice, household=draft, tier=Tier.objects.first())
    intake.case_evaluate(actor=carol, household=draft, tier=Tier.objects.first())


@pytest.mark.django_db
def test_exclusion_warning_needs_an_override_reason(draft, alice, carol):
    intake.intake_visit_log(actor=alice, household=draft, data={})
    intake.assessment_record(
        actor=alice,
        household=draft,
        data={**money(), "household_size": 2, "exclusions": ["vehicle"]},
    )
    intake.discussion_record(
        actor=alice, household=draft, held_on=clock.today(), attendees="甲", minutes="乙"
    )
    with pytest.raises(ValidationError, match="机动车"):
        intake.case_evaluate(actor=carol, household=draft, tier=Tier.objects.first())
    intake.case_evaluate(
        actor=carol, household=draft, tier=Tier.objects.first(), override="残疾代步车"
    )


@pytest.mark.django_db
def test_upheld_objection_sends_case_back(draft, alice, carol):
    walk_to_noticed(draft, alice, carol)
    objection = intake.objection_record(actor=alice, household=draft, content="家中有两套房")
    clock.advance(dt.timedelta(days=30))
    with pytest.raises(ValidationError, match="未处理的公示异议"):
        intake.case_confirm(actor=carol, household=draft)
    intake.objection_resolve(
        actor=carol, objection=objection, outcome=ObjectionOutcome.UPHELD, resolution="核实属实"
    )
    draft.refresh_from_db()
    assert draft.status == S.EVALUATED


@pytest.mark.django_db
def test_send_back_and_reject_need_reasons(draft, alice, carol):
    intake.intake_visit_log(actor=alice, household=draft, data={})
    with pytest.raises(ValidationError):
        intake.case_send_back(actor=alice, household=draft, reason=" ")
    intake.case_send_back(actor=alice, household=draft, reason="核查不完整")
    draft.refresh_from_db()
    assert draft.status == S.DRAFT
    with pytest.raises(PermissionDenied):
        intake.case_reject(actor=alice, household=draft, reason="不符合")
    intake.case_reject(actor=carol, household=draft, reason="不符合条件")
    draft.refresh_from_db()
    assert draft.status == S.REJECTED
