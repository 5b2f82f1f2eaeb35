"""Amounts in capitals, as a cashier would write them on a voucher."""

from decimal import Decimal

import pytest

from reports.amounts import rmb_upper


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "零元整"),
        ("1000", "壹仟元整"),
        ("1005.30", "壹仟零伍元叁角"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10.50", "壹拾元伍角"),
        ("100000.05", "壹拾万元零伍分"),
        ("100005", "壹拾万零伍元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1000005000", "壹拾亿零伍仟元整"),
        ("0.07", "柒分"),
        ("0.50", "伍角"),
        ("20200", "贰万零贰佰元整"),
        ("1010", "壹仟零壹拾元整"),
        ("-35.00", "负叁拾伍元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ],
)
def test_capitals(amount, expected):
    assert rmb_upper(Decimal(amount)) == expected
