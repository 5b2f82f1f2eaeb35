"""One yearly-cap calculation: the check that refuses a request, the
application screen's preview and the household's money screen read the same
used, limit and left for every cap rule (生活救助 低保 × 12 × people, 医疗救助
out of pocket, 助学 months per student, a fixed amount per program).

The statistics show no cap use: they count money paid out (live payments by
value date), not applications against a cap, so they have no figure to agree
with here."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from accounts.money import CENT
from cases import clock
from cases.models import Member
from programs.models import Application
from programs.selectors.applications import preview
from programs.services import applications, rules
from tests.programs.conftest import filed
from tests.programs.test_money import page_for, paid, program, set_day, text_of, yuan

# Money asked for on top of what is left, as the check's refusal proves it.
MEDICAL_COST = D("100.00")


@pytest.fixture
def caps(units, fund, standard):
    """The four cap rules, each a program of the city union."""
    return {
        "living": program(units, fund, "困难职工生活救助", "living", cap_rule="dibao_annual"),
        "medical": program(units, fund, "大病医疗救助", "medical", cap_rule="out_of_pocket"),
        "school": program(units, fund, "金秋助学", "school", cap_rule="ten_months"),
        "fixed": program(
            units, fund, "意外伤害慰问", "other", cap_rule="fixed", cap_amount=D("1500")
        ),
    }


def shown(page, key):
    return tuple(text_of(page, f"cap-{key}-{part}") for part in ("used", "limit", "left"))


def money_cap(client, household, prog, key):
    """(used, limit, left) of a cap in yuan, once the three agree on it."""
    cap = preview(prog, household, clock.today()).cap
    used, limit, left = cap.used, cap.limit, cap.left
    assert limit is not None and left is not None
    assert shown(page_for(client, household), key) == (yuan(used), yuan(limit), yuan(left))
    # The check lets through exactly what is left, and not a fen more. A
    # medical request raises the limit by the cost it declares.
    cost = MEDICAL_COST if key == "medical" else None
    most = left + (cost or 0)
    ask = {"program": prog, "household": household, "year": clock.today().year}
    rules.check_caps(**ask, amount=most, out_of_pocket=cost)
    with pytest.raises(ValidationError) as refused:
        rules.check_caps(**ask, amount=most + CENT, out_of_pocket=cost)
    message = refused.value.error_dict["amount"][0].messages[0]
    assert f"{limit + (cost or 0):.2f} 元" in message
    assert f"已申请 {used:.2f} 元" in message
    assert f"最多 {most:.2f} 元" in message
    return used, limit, left


def school_cap(client, household, prog, student):
    """(used, limit, left) of a student's months, once the three agree on it."""
    cap = preview(prog, household, clock.today()).cap
    line = next(s for s in cap.students if s.member.pk == student.pk)
    figures = (line.used, cap.max_months, line.left)
    key = f"school-{student.pk}"
    assert shown(page_for(client, household), key) == tuple(f"{n} 个月" for n in figures)
    ask = {"program": prog, "household": household, "year": clock.today().year}
    if line.left:
        rules.check_caps(**ask, amount=D("100"), student=student, months=line.left)
    with pytest.raises(ValidationError) as refused:
        rules.check_caps(**ask, amount=D("100"), student=student, months=line.left + 1)
    assert f"本年已资助 {line.used} 个月" in refused.value.error_dict["months"][0].messages[0]
    return figures


def all_caps(client, household, caps, student):
    return {
        "living": money_cap(client, household, caps["living"], "living"),
        "medical": money_cap(client, household, caps["medical"], "medical"),
        "school": school_cap(client, household, caps["school"], student),
        "fixed": money_cap(client, household, caps["fixed"], f"program-{caps['fixed'].pk}"),
    }


def pupil(household):
    return Member.objects.create(
        household=household, name="王小明", relation="child", school_stage="senior"
    )


@pytest.mark.django_db
def test_a_household_with_nothing_asked_yet(as_user, units, alice, caps):
    set_day(dt.date(2026, 9, 1))
    household = filed(units["a"], household_size=3)
    student = pupil(household)
    assert all_caps(as_user(alice), household, caps, student) == {
        "living": (D("0"), D("800") * 12 * 3, D("28800")),
        "medical": (D("0"), D("0"), D("0")),
        "school": (0, 10, 10),
        "fixed": (D("0"), D("1500"), D("1500")),
    }


@pytest.mark.django_db
def test_a_household_part_way_through_the_year(
    as_user, units, alice, carol, dave, fund, caps, household
):
    set_day(dt.date(2026, 9, 1))
    student = pupil(household)
    draft = applications.application_draft
    paid(alice, carol, dave, household, caps["living"], fund, amount="2000")
    draft(actor=alice, household=household, program=caps["living"], amount="500")
    rejected = draft(actor=alice, household=household, program=caps["living"], amount="300")
    applications.application_decide(actor=carol, application=rejected, approve=False, note="不符")
    draft(
        actor=alice,
        household=household,
        program=caps["medical"],
        amount="2000",
        out_of_pocket="5000",
    )
    draft(
        actor=alice,
        household=household,
        program=caps["school"],
        amount="2000",
        student=student,
        months=4,
    )
    draft(actor=alice, household=household, program=caps["fixed"], amount="1000")
    withdrawn = draft(actor=alice, household=household, program=caps["fixed"], amount="500")
    applications.application_withdraw(actor=alice, application=withdrawn, reason="重复申请")
    # Last year's aid is not this year's.
    set_day(dt.date(2025, 9, 1))
    paid(alice, carol, dave, household, caps["living"], fund, amount="700")
    set_day(dt.date(2026, 9, 1))

    assert all_caps(as_user(alice), household, caps, student) == {
        "living": (D("2500"), D("28800"), D("26300")),
        "medical": (D("2000"), D("5000"), D("3000")),
        "school": (4, 10, 6),
        "fixed": (D("1000"), D("1500"), D("500")),
    }


@pytest.mark.django_db
def test_at_the_limit_after_a_refusal(as_user, units, alice, carol, dave, fund, caps):
    set_day(dt.date(2026, 9, 1))
    household = filed(units["a"], household_size=1)
    student = pupil(household)
    draft = applications.application_draft
    # The chair refused a request at the limit: it no longer counts.
    refused = draft(actor=alice, household=household, program=caps["living"], amount="9600")
    applications.application_decide(actor=carol, application=refused, approve=False, note="重复")
    paid(alice, carol, dave, household, caps["living"], fund, amount="9000")
    draft(actor=alice, household=household, program=caps["living"], amount="600")
    draft(
        actor=alice,
        household=household,
        program=caps["medical"],
        amount="3000",
        out_of_pocket="3000",
    )
    draft(
        actor=alice,
        household=household,
        program=caps["school"],
        amount="2000",
        student=student,
        months=10,
    )
    paid(alice, carol, dave, household, caps["fixed"], fund, amount="1500")
    # The check refuses what goes a fen over, and writes nothing.
    before = Application.objects.count()
    for prog, extra in (
        (caps["living"], {"amount": "0.01"}),
        (caps["medical"], {"amount": "600", "out_of_pocket": "500"}),
        (caps["school"], {"amount": "100", "student": student, "months": 1}),
        (caps["fixed"], {"amount": "0.01"}),
    ):
        with pytest.raises(ValidationError):
            draft(actor=alice, household=household, program=prog, **extra)
    assert Application.objects.count() == before

    assert all_caps(as_user(alice), household, caps, student) == {
        "living": (D("9600"), D("9600"), D("0")),
        "medical": (D("3000"), D("3000"), D("0")),
        "school": (10, 10, 0),
        "fixed": (D("1500"), D("1500"), D("0")),
    }
    page = page_for(as_user(alice), household)
    assert "已达上限" in text_of(page, f"cap-program-{caps['fixed'].pk}")
    assert "已达上限" in text_of(page, "cap-living")
