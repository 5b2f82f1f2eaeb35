"""Money: yuan to the fen, as Decimal, never a float.

Every app keeps amounts the same way: a column of 14 digits with two places,
figures rounded half up (四舍五入) to the fen, and sums worked out in SQL with
room for many such amounts. The constants and the field live here, at the
left of the layers, so cases, funds, programs and reports all use one of each.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import models

CENT = Decimal("0.01")
# Two places, so a figure that is nothing still reads as money (0.00, not 0).
ZERO = Decimal("0.00")
MAX_DIGITS = 14
# The first amount a money column cannot hold (12 digits before the point).
TOO_LARGE = Decimal(10) ** (MAX_DIGITS - 2)
# Sums, differences and running balances in SQL: room for many amounts.
SUM_FIELD: "models.DecimalField[Decimal, Decimal]" = models.DecimalField(
    max_digits=16, decimal_places=2
)
# 0.00 as an SQL value, for Coalesce(Sum(...), NO_MONEY, output_field=SUM_FIELD).
NO_MONEY = models.Value(ZERO, output_field=SUM_FIELD)


def yuan(value: Decimal | int | str | None) -> Decimal:
    """A figure as money: None as 0.00, anything else rounded half up to the
    fen (SQLite returns a sum as Decimal("25000") or with stray places)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(verbose_name: Any, **kwargs: Any) -> "models.DecimalField[Decimal, Decimal]":
    """A model column for an amount in yuan. A plain DecimalField, so the
    migrations see nothing new."""
    return models.DecimalField(verbose_name, max_digits=MAX_DIGITS, decimal_places=2, **kwargs)
