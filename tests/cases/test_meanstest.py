from decimal import Decimal as D

import pytest

from cases.meanstest import Band, MeansInput, Rule, assess


def _assess(income, size, standard="800", expenses="0", **kw):
    return assess(
        MeansInput(
            annual_income=D(income),
            rigid_expenses=D(expenses),
            household_size=size,
            standard=D(standard) if standard else None,
            **kw,
        )
    )


@pytest.mark.parametrize(
    ("income", "expenses", "size", "per_capita", "band"),
    [
        # 28,800 ÷ 3 ÷ 12 = 800.00: exactly 1× the standard is still 深度困难
        ("28800", "0", 3, "800.00", Band.DEEP),
        # 28,836 ÷ 3 ÷ 12 = 801.00: just above 1×
        ("28836", "0", 3, "801.00", Band.RELATIVE),
        # 57,600 ÷ 3 ÷ 12 = 1,600.00: exactly 2× is still 相对困难
        ("57600", "0", 3, "1600.00", Band.RELATIVE),
        # 57,636 ÷ 3 ÷ 12 = 1,601.00: above 2× falls to 边缘
        ("57636", "0", 3, "1601.00", Band.EDGE),
        # (36,000 − 12,000) ÷ 4 ÷ 12 = 500.00
        ("36000", "12000", 4, "500.00", Band.DEEP),
        # (14,400 − 3,000) ÷ 3 ÷ 12 = 316.666… → 316.67
        ("14400", "3000", 3, "316.67", Band.DEEP),
    ],
)
def test_hand_worked_examples(income, expenses, size, per_capita, band):
    result = _assess(income, size, expenses=expenses)
    assert result.per_capita == D(per_capita)
    assert result.band == band


def test_the_arithmetic_is_explained_in_words():
    result = _assess("14400", 3, expenses="3000")
    text = "\n".join(result.steps)
    assert "14,400.00" in text and "3,000.00" in text and "11,400.00" in text
    assert "÷ 3 人 ÷ 12 个月 = 人均月收入 316.67 元" in text
    assert "0.40 倍" in text


def test_accident_costs_above_80_percent_of_income():
    high = _assess("96000", 2, accident_cost=D("76801"))
    assert high.band == Band.ACCIDENT
    at_limit = _assess("96000", 2, accident_cost=D("76800"))
    assert at_limit.band == Band.EDGE


def test_no_standard_gives_no_suggestion():
    result = _assess("10000", 2, standard=None)
    assert result.band is None and result.ratio is None
    assert any("未找到" in s for s in result.steps)


def test_exclusions_are_warnings_not_refusals():
    result = _assess("9600", 2, exclusions=frozenset({"vehicle", "refused_checks"}))
    assert result.band == Band.DEEP
    assert len(result.warnings) == 2
    assert any("机动车" in w for w in result.warnings)


def test_rule_is_editable():
    strict = Rule(deep_multiple=D("0.5"), relative_multiple=D("1.5"))
    result = assess(
        MeansInput(
            annual_income=D("28800"), rigid_expenses=D("0"), household_size=3, standard=D("800")
        ),
        strict,
    )
    assert result.band == Band.RELATIVE
