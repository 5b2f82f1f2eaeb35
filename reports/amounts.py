"""Amounts in Chinese capitals (大写金额), as written on vouchers and forms.

Follows the People's Bank of China rules for filling in vouchers: 元 is
followed by 整 when there are no 角 or 分; a 0 in the 角 place before a 分
is written 零; runs of zeros inside the number are written as one 零.
"""

from decimal import Decimal

from accounts.money import yuan

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")


def _section(value: int) -> str:
    """0 < value < 10000, without leading 零."""
    out: list[str] = []
    zero = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + PLACES[place])
    return "".join(out)


def _integer(value: int) -> str:
    groups = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    if len(groups) > len(SECTIONS):
        raise ValueError("amount too large")
    out: list[str] = []
    gap = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out.append("零")
        out.append(_section(group) + SECTIONS[index])
        gap = False
    return "".join(out)


def rmb_upper(amount: Decimal | int | str) -> str:
    """壹仟零伍元叁角 for 1005.30; 零元整 for 0; 负 before a negative amount."""
    value = yuan(str(amount))
    sign = "负" if value < 0 else ""
    value = abs(value)
    cents = int(value * 100)
    whole, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = _integer(whole) + "元" if whole else ""
    if jiao == 0 and fen == 0:
        return sign + text + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif whole:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    return sign + text
