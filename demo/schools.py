"""Schools of Zhengzhou and the stage and grade a child is in."""

import datetime
import random

from .people import age_on
from .places import DISTRICTS
from .weighted import words

PRIMARY_SCHOOLS = words(
    "纬五路第一 文化路第一 经三路 黄河路第一 丰产路 艺术 大学路 陇海路 汝河路 伊河路 外国语 实验"
)
MIDDLE_SCHOOLS = [
    f"郑州市第{n}中学"
    for n in words("一 二 三 四 七 八 九 十一 十六 十九 三十一 四十七 五十七 六十二 七十三 一〇六")
]
SENIOR_EXTRA = ["河南省实验中学", "郑州外国语学校", "郑州一〇一中学"]
VOCATIONAL_SCHOOLS = [
    "郑州市财贸学校",
    "郑州市商业技师学院",
    "郑州市科技工业学校",
    "郑州市国防科技学校",
]
COLLEGES = ["郑州铁路职业技术学院", "河南职业技术学院", "郑州职业技术学院", "黄河水利职业技术学院"]
UNIVERSITIES = [
    "郑州大学", "河南大学", "河南工业大学", "河南农业大学", "华北水利水电大学", "郑州轻工业大学",
    "河南财经政法大学", "河南师范大学", "河南科技大学", "信阳师范大学",
]  # fmt: skip
_NUMERALS = "一二三四五六七八九"
# Stages past the nine compulsory years: only these make 因学 a cause.
NON_COMPULSORY = {"senior", "vocational", "college", "undergraduate", "graduate"}


def school_year_start(today: datetime.date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def school(
    rng: random.Random, birth: datetime.date, school_day: datetime.date
) -> tuple[str, str, str]:
    """(stage, school, grade) of a child born on `birth`, in the school year
    that began on `school_day`."""
    age = age_on(birth, school_day)
    district = rng.choice(list(DISTRICTS.values()))[0]
    if 3 <= age <= 5:
        grade = ("小班", "中班", "大班")[age - 3]
        return "preschool", f"郑州市{district}第{rng.choice('一二三')}幼儿园", grade
    if 6 <= age <= 11:
        name = f"郑州市{district}{rng.choice(PRIMARY_SCHOOLS)}小学"
        return "primary", name, f"{_NUMERALS[age - 6]}年级"
    if 12 <= age <= 14:
        return "junior", rng.choice(MIDDLE_SCHOOLS), f"{_NUMERALS[age - 6]}年级"
    if 15 <= age <= 17:
        return _senior(rng, age)
    if 18 <= age <= 21:
        found = _college(rng, age)
        if found:
            return found
    if 22 <= age <= 24 and rng.random() < 0.15:
        return "graduate", rng.choice(UNIVERSITIES), ("研一", "研二", "研三")[age - 22]
    return "", "", ""


def _senior(rng: random.Random, age: int) -> tuple[str, str, str]:
    if rng.random() < 0.2:
        return "vocational", rng.choice(VOCATIONAL_SCHOOLS), f"{_NUMERALS[age - 15]}年级"
    name = rng.choice(MIDDLE_SCHOOLS + SENIOR_EXTRA)
    return "senior", name, ("高一", "高二", "高三")[age - 15]


def _college(rng: random.Random, age: int) -> tuple[str, str, str] | None:
    """Most 18-21-year-olds study; None for those who do not."""
    roll = rng.random()
    if roll < 0.3 and age <= 20:
        return "college", rng.choice(COLLEGES), ("大一", "大二", "大三")[age - 18]
    if roll < 0.85:
        grade = ("大一", "大二", "大三", "大四")[age - 18]
        return "undergraduate", rng.choice(UNIVERSITIES), grade
    return None
