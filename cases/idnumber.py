"""Resident ID numbers (居民身份证号码), GB 11643-1999.

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence
(odd for men, even for women) and a check character computed over the first
17 digits with ISO 7064 MOD 11-2.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII digits only: `\d` would also take full-width and other scripts' digits.
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


# Each position's weighted value of each digit: the sum is one table look-up
# a digit, which an import of 300,000 numbers notices.
_WEIGHTED = tuple({str(d): d * w for d in range(10)} for w in _WEIGHTS)


def check_char(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError(f"{first17!r} is not 17 digits long.")
    try:
        total = sum(map(dict.__getitem__, _WEIGHTED, first17))
    except KeyError:
        raise ValueError(f"{first17!r} is not all digits.") from None
    return _CHECK[total % 11]


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"


def normalize(value: str) -> str:
    # Chinese input methods often type full-width digits and Ｘ (１２３Ｘ); fold
    # them to ASCII so that one person has one number whatever the keyboard.
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


def parse(value: str, *, today: datetime.date | None = None) -> IdInfo:
    """Validate an ID number and return what follows from it.

    Raises ValidationError saying exactly what is wrong.
    """
    number = normalize(value)
    if len(number) != 18:
        raise ValidationError(
            _("身份证号应为 18 位，当前为 %(n)d 位。") % {"n": len(number)}, code="length"
        )
    if not _SHAPE.match(number):
        raise ValidationError(
            _("身份证号前 17 位应为数字，最后一位为数字或 X。"), code="characters"
        )
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号中的出生日期 %(d)s 不是有效日期。") % {"d": number[6:14]}, code="date"
        ) from None
    today = today or datetime.date.today()
    if birth > today or birth.year < 1900:
        raise ValidationError(
            _("身份证号中的出生日期 %(d)s 不在合理范围内。") % {"d": birth.isoformat()},
            code="date",
        )
    if check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位错误，请核对号码是否抄错。"), code="checksum")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number=number, birth_date=birth, sex=sex)


def make(area: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid number (for demo data and tests): area code, birth date,
    3-digit sequence; the check character is computed."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
