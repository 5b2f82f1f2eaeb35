"""Realistic fake household files for demos, tests and benchmarks.

Everything is drawn from one `random.Random(seed)`, so the same seed and the
same reference day (which decides children's ages and school grades) give the
same data. ID numbers are the deliberate exception: they follow from a running
household index through a fixed bijection, so files written by separate runs,
with any seeds, never share a number.

The places, employers, schools and banks are those of Zhengzhou (河南省郑州市),
where the demo city union sits.
"""

import bisect
import contextlib
import datetime
import functools
import gc
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Unit, User

from . import clock, idnumber
from .choices import DisabilityType, HealthStatus, Relation
from .models import (
    CaseRules,
    Cause,
    FileNumberCounter,
    Household,
    HouseholdStatus,
    Member,
    Tier,
)
from .services import intake, per_capita_monthly
from .services.lifecycle import add_years

T = TypeVar("T")

# Zhengzhou's urban minimum living standard is roughly this many yuan per
# person per month; tiers are drawn as multiples of it, like the means test.
LOCAL_STANDARD = 800


def _words(text: str) -> list[str]:
    return text.split()


class Weighted:
    """A weighted choice with the cumulative table built once: `rng.choices`
    rebuilds it on every call, which shows up at 100,000 households."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(itertools.accumulate(weight for _value, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


# --- People ---------------------------------------------------------------

# Roughly how common each surname is in Henan (per ten thousand people), with
# a few rare and compound surnames so that masking and search meet them too.
SURNAMES = Weighted(
    [
        ("王", 80), ("李", 78), ("张", 76), ("刘", 60), ("陈", 38), ("杨", 36), ("赵", 28),
        ("郭", 22), ("孙", 18), ("马", 17), ("朱", 15), ("胡", 14), ("高", 14), ("周", 13),
        ("吴", 12), ("徐", 12), ("宋", 10), ("黄", 9), ("郑", 9), ("韩", 9), ("何", 8),
        ("梁", 8), ("冯", 8), ("许", 8), ("程", 7), ("杜", 7), ("董", 7), ("魏", 7), ("贾", 6),
        ("吕", 6), ("曹", 6), ("袁", 6), ("田", 6), ("于", 5), ("邓", 5), ("苏", 5), ("丁", 5),
        ("任", 5), ("崔", 5), ("范", 5), ("石", 5), ("孟", 5), ("彭", 4), ("肖", 4), ("姚", 4),
        ("卢", 4), ("姜", 4), ("秦", 4), ("牛", 4), ("郝", 4), ("白", 4), ("闫", 4), ("谢", 4),
        ("潘", 3), ("蒋", 3), ("蔡", 3), ("余", 3), ("叶", 3), ("金", 3), ("贺", 3), ("毛", 3),
        ("申", 3), ("雷", 3), ("侯", 3), ("常", 3), ("史", 3), ("段", 3), ("乔", 3), ("薛", 3),
        ("唐", 3), ("岳", 2), ("尹", 2), ("汪", 2), ("曾", 2), ("娄", 1),
        # Rare surnames, some of them typical of Henan (仝, 菅, 訾).
        ("仝", 0.5), ("亓", 0.3), ("訾", 0.2), ("昝", 0.2), ("菅", 0.2), ("禤", 0.1), ("乜", 0.1),
        # Compound surnames: the surname is two characters, the name often three.
        ("欧阳", 0.4), ("司马", 0.3), ("上官", 0.2), ("诸葛", 0.1), ("皇甫", 0.1), ("端木", 0.05),
    ]
)  # fmt: skip

# Given names by the era a person was born in: names follow fashions.
_GIVEN = {
    ("M", "old"): "建国 建军 建华 建平 国强 国庆 国华 志强 志刚 志军 卫东 卫国 卫民 红军 德明 "
    "德胜 文斌 永强 永胜 海军 振华 保国 新民 宏伟 立新 学军 长青 明亮 春生 金山 俊峰 自力 向东 "
    "援朝 跃进 胜利 庆丰 玉林 铁柱 二强 勇 刚 军 伟 强 磊 斌 涛 鹏 超 杰 峰 亮 辉 波 华",
    ("F", "old"): "秀兰 桂英 秀英 玉兰 桂兰 凤英 淑珍 素梅 秀珍 玉梅 丽娟 红梅 春花 翠萍 美玲 "
    "小红 玉芳 秀云 桂芝 爱华 红霞 素芳 丽华 建英 卫红 彩霞 凤琴 金凤 丽 芳 敏 静 燕 娟 霞 艳 "
    "玲 萍 红 英 琴",
    ("M", "mid"): "浩 鹏飞 晓东 海涛 俊 磊 伟 超 杰 鑫 帅 阳 明 冬冬 家豪 志伟 建伟 晓明 亚飞 "
    "亚东 向阳 文杰 博 宁 凯 旭东 晨 腾飞 亚军 国栋 振宇 少华 红伟 建锋 朝阳 鹏 飞 龙 坤",
    ("F", "mid"): "静 丽丽 婷婷 娜 雪 晓燕 亚楠 丹丹 倩 佳 莉 慧 晓丽 艳丽 盼盼 晶晶 瑞 楠 "
    "露露 梦 雅 璐 亚丽 会芳 彩云 俊霞 晓娟 艳红 利娟 亚芳 冰 洁 颖 蕾",
    ("M", "young"): "子轩 浩然 宇航 俊杰 浩宇 梓豪 一鸣 博文 家乐 思远 明轩 皓轩 天宇 雨泽 "
    "锦程 昊天 泽宇 奕辰 子墨 宇轩 沐阳 子豪 嘉懿 睿 航 硕 铭 轩 哲 诚",
    ("F", "young"): "梓涵 欣怡 诗涵 雨萱 可馨 一诺 若曦 紫萱 佳怡 梦瑶 思彤 语桐 欣妍 雨桐 "
    "芷若 沐晴 子涵 梓萱 依诺 紫涵 悦 琪 萌 璇 涵 怡",
}
GIVEN_NAMES: dict[tuple[str, str], list[str]] = {k: v.split() for k, v in _GIVEN.items()}
# Characters that are rare or were missing from older character sets
# (䶮 is in CJK Extension A): names with them break careless software.
RARE_GIVEN = list("䶮堃喆玥昇赟燊璟垚淼犇珺翀曌淏")


def name_era(birth: datetime.date) -> str:
    if birth.year < 1970:
        return "old"
    return "mid" if birth.year < 2000 else "young"


# --- Places ---------------------------------------------------------------

CITY = "河南省郑州市"
# District → its 街道 (sub-districts), keyed by the administrative area code
# that also starts the ID numbers of people registered there.
DISTRICTS: dict[str, tuple[str, list[str]]] = {
    "410102": (
        "中原区",
        _words("林山寨 建设路 棉纺路 秦岭路 桐柏路 三官庙 绿东村 汝河路 航海西路"),
    ),
    "410103": ("二七区", _words("淮河路 解放路 铭功路 一马路 蜜蜂张 五里堡 大学路 建中街 德化街")),
    "410104": ("管城回族区", _words("北下街 西大街 南关 城东路 东大街 二里岗 陇海马路 航海东路")),
    "410105": ("金水区", _words("经八路 花园路 人民路 杜岭 大石桥 南阳路 文化路 丰产路 未来路")),
    "410106": ("上街区", _words("济源路 中心路 新安路 工业路 矿山")),
    "410108": ("惠济区", _words("新城 刘寨 老鸦陈 长兴路 迎宾路 大河路")),
}
COMMUNITIES = _words(
    "黄河 丰庆 园田 银河 纬五路 政七街 晨旭 文博 燕庄 东明 红旗 幸福 和平 建新 棉纺 工人新村 "
    "铁路新村 电厂 纺织 友爱 南关 长江 华山 嵩山 碧云 桃源 民主 光明 育才 建设 淮河 陇海 "
    "汝河 伏牛 金桥 锦绣 康复 兴华 勤劳 五一"
)
# Urban villages and outskirts, where rural-hukou workers often rent.
VILLAGES = [
    ("惠济区", "花园口镇", "八堡村"),
    ("惠济区", "古荥镇", "孙庄村"),
    ("中牟县", "韩寺镇", "官渡桥村"),
    ("中牟县", "狼城岗镇", "东狼城岗村"),
    ("二七区", "侯寨乡", "樱桃沟村"),
    ("管城回族区", "圃田乡", "小湖村"),
]

# Area codes for ID numbers: Zhengzhou and the Henan cities its workers come
# from. The order is part of the ID bijection; append only, never reorder.
AREA_CODES = [
    "410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181",
    "410182", "410183", "410184", "410185", "410202", "410302", "410402", "410502",
    "410702", "410802", "411002", "411102", "411302", "411402", "411502", "411602",
    "411702", "410922",
]  # fmt: skip

# --- Work -----------------------------------------------------------------

EMPLOYERS = Weighted(
    [
        (("郑州国棉三厂", "state"), 4),
        (("郑州煤矿机械集团股份有限公司", "state"), 3),
        (("郑州公交集团有限公司", "state"), 4),
        (("中国铁路郑州局集团有限公司", "state"), 2),
        (("河南省建设集团有限公司", "state"), 3),
        (("郑州第二砂轮厂", "state"), 2),
        (("郑州华润燃气股份有限公司", "state"), 1),
        (("郑州市环境卫生管理处", "public"), 4),
        (("郑州市第三人民医院", "public"), 1),
        (("郑州二七纺织机械厂", "collective"), 2),
        (("郑州市中原区供销合作社", "collective"), 1),
        (("郑州宇通客车股份有限公司", "private"), 2),
        (("三全食品股份有限公司", "private"), 2),
        (("郑州思念食品有限公司", "private"), 2),
        (("河南丹尼斯百货有限公司", "foreign"), 2),
        (("富士康科技集团郑州科技园", "foreign"), 3),
        (("郑州日产汽车有限公司", "foreign"), 1),
        (("郑州万科物业服务有限公司", "private"), 2),
        (("河南顺丰速运有限公司", "private"), 2),
        (("郑州市金水区老城饺子馆", "self"), 1),
        (("郑州市二七区顺达汽修店", "self"), 1),
    ]
)
FLEXIBLE_JOBS = ["外卖骑手", "网约车司机", "快递员", "家政服务员", "保洁员", "摆摊", "装修零工"]
MIGRANT_EMPLOYERS = ["中建七局郑州项目部", "河南五建建设集团有限公司", "郑州航空港区建筑工地"]
# The last one means "no job": it must stay last.
ADULT_JOBS = [
    "超市收银员",
    "快递员",
    "保安",
    "保洁员",
    "工厂工人",
    "餐馆服务员",
    "外卖骑手",
    "待业",
]
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
)

# --- Banks ----------------------------------------------------------------

# Bank name, a card BIN (first six digits) and how its branches are named.
BANKS = Weighted(
    [
        (("中国工商银行", "622202"), 22),
        (("中国农业银行", "622848"), 16),
        (("中国建设银行", "621700"), 16),
        (("中国银行", "621785"), 10),
        (("中国邮政储蓄银行", "622188"), 12),
        (("交通银行", "622262"), 5),
        (("郑州银行", "621977"), 8),
        (("中原银行", "623595"), 6),
        (("河南省农村信用社", "623059"), 5),
    ]
)
BRANCH_ROADS = _words(
    "金水路 花园路 文化路 农业路 经三路 人民路 二七路 大学路 中原路 建设路 航海路 紫荆山路"
)


def luhn_digit(digits: str) -> str:
    """The check digit bank cards carry (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


# --- Schools --------------------------------------------------------------

PRIMARY_SCHOOLS = _words(
    "纬五路第一 文化路第一 经三路 黄河路第一 丰产路 艺术 大学路 陇海路 汝河路 伊河路 外国语 实验"
)
MIDDLE_SCHOOLS = [
    f"郑州市第{n}中学"
    for n in _words("一 二 三 四 七 八 九 十一 十六 十九 三十一 四十七 五十七 六十二 七十三 一〇六")
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


def school_year_start(today: datetime.date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- ID numbers -----------------------------------------------------------
#
# A household's running index maps one-to-one onto (area code, birth date,
# sequence pair) for its head, so two indices never give the same number. The
# three-digit sequence is split into blocks of 100: block 0 for heads, the
# others for one kind of member each, so members never take a head's number
# either. Within a block, sequence = block*100 + 2*pair + sex bit (odd = male).
#
# A member's birth date is the head's plus an offset that depends only on the
# area code, the pair and the member's own sex: from a member's number one can
# work back to the head's, so members are unique too.

HEAD_FIRST_BIRTH = datetime.date(1961, 1, 1)
HEAD_LAST_BIRTH = datetime.date(1997, 12, 31)
_DAYS = (HEAD_LAST_BIRTH - HEAD_FIRST_BIRTH).days + 1
_PAIRS = 50
CAPACITY = len(AREA_CODES) * _DAYS * _PAIRS
# A multiplier coprime to CAPACITY makes index → slot a permutation, and a
# large one scatters neighbouring indices over areas and birth dates.
_MULT = 7_368_787
_SHIFT = 1_234_567
if math.gcd(_MULT, CAPACITY) != 1:  # only if someone edits AREA_CODES
    raise RuntimeError("cases.demo: ID multiplier must be coprime to the capacity")

BLOCK_HEAD, BLOCK_SPOUSE, BLOCK_FATHER, BLOCK_MOTHER = 0, 1, 2, 3
BLOCK_CHILDREN = (4, 5, 6)


@dataclass(frozen=True)
class HeadSlot:
    area_index: int
    birth: datetime.date
    pair: int


def head_slot(index: int) -> HeadSlot:
    if not 0 <= index < CAPACITY:
        raise ValueError(f"household index {index} outside 0..{CAPACITY - 1}")
    p = (index * _MULT + _SHIFT) % CAPACITY
    pair, p = p % _PAIRS, p // _PAIRS
    day, area = p % _DAYS, p // _DAYS
    return HeadSlot(area, HEAD_FIRST_BIRTH + datetime.timedelta(days=day), pair)


def _sequence(block: int, pair: int, male: bool) -> int:
    return block * 100 + pair * 2 + (1 if male else 0)


def head_id(slot: HeadSlot, male: bool) -> str:
    return idnumber.make(AREA_CODES[slot.area_index], slot.birth, _sequence(0, slot.pair, male))


def member_birth(
    slot: HeadSlot, block: int, male: bool, years: tuple[float, float]
) -> datetime.date:
    """The head's birth date shifted by an offset in `years` that is fixed by
    (area, pair, block, sex): the property that keeps member numbers unique."""
    key = ((slot.area_index * _PAIRS + slot.pair) * 16 + block) * 2 + male
    h = (key * 2654435761) % 4294967296  # Knuth's multiplicative hash
    low, high = round(years[0] * 365.25), round(years[1] * 365.25)
    return slot.birth + datetime.timedelta(days=low + h % (high - low + 1))


def member_id(slot: HeadSlot, block: int, male: bool, birth: datetime.date) -> str:
    return idnumber.make(AREA_CODES[slot.area_index], birth, _sequence(block, slot.pair, male))


# --- Households -----------------------------------------------------------

ACCIDENT_NOTES = [
    "2023年遭遇交通事故，多次手术。",
    "工伤致手部受伤，待鉴定。",
    "家中失火，财物受损。",
]
OTHER_NOTES = ["子女学习成绩优秀。", "已申请公租房。", "需定期透析。", "愿意参加就业培训。"]
# How a union's files spread over tiers (by national category), causes and
# statuses: 特困 25%, 困难 50%, 边缘 25%; 因病 the most common cause.
TIER_WEIGHTS = {"deep": 25, "relative": 50, "edge": 25, "accident": 0}
# Per-capita income as a multiple of the local standard, per national tier.
TIER_BANDS = {
    "deep": (0.35, 1.0),
    "relative": (1.0, 2.0),
    "edge": (2.0, 2.6),
    "accident": (1.0, 2.5),
}
CAUSE_WEIGHTS = {
    "因病": 34,
    "下岗失业": 22,
    "收入低": 17,
    "因残": 11,
    # Offered only when a child is in non-compulsory education (about one
    # household in five), hence the large weight.
    "因学": 55,
    "意外事故": 3,
    "自然灾害": 1,
    "其他": 3,
}
STATUSES = Weighted(
    [(HouseholdStatus.FILED, 82), (HouseholdStatus.DRAFT, 13), (HouseholdStatus.EXITED, 5)]
)
CHILD_COUNTS = Weighted([(0, 14), (1, 50), (2, 31), (3, 5)])
HOUSING = Weighted([("owned", 45), ("public_rent", 10), ("private_rent", 20), ("low_rent", 15),
                    ("borrowed", 7), ("none", 3)])  # fmt: skip
ETHNICITY = Weighted([("汉族", 975), ("回族", 20), ("满族", 3), ("蒙古族", 2)])
POLITICAL = Weighted([("masses", 85), ("cpc", 10), ("cyl", 3), ("democratic", 1)])
MODEL_WORKER = Weighted([("", 985), ("city", 10), ("provincial", 4), ("national", 1)])
INSURANCE = Weighted([("employee", 60), ("resident", 35), ("none", 5)])
NOT_MARRIED = Weighted([("single", 25), ("divorced", 45), ("widowed", 30)])
SECONDARY_COUNTS = Weighted([(0, 50), (1, 35), (2, 15)])
EMPLOYMENT = {
    "下岗失业": Weighted([("laid_off", 55), ("unemployed", 45)]),
    "收入低": Weighted([("employed", 55), ("flexible", 25), ("migrant", 20)]),
    "": Weighted([("employed", 40), ("flexible", 18), ("migrant", 9), ("laid_off", 10),
                  ("unemployed", 13), ("retired", 10)]),
}  # fmt: skip
_NON_COMPULSORY = {"senior", "vocational", "college", "undergraduate", "graduate"}


@dataclass
class HouseholdRows:
    """One generated household: the unsaved file, its members and the ids of
    its secondary causes."""

    household: Household
    members: list[Member] = field(default_factory=list)
    secondary_cause_ids: list[int] = field(default_factory=list)


@dataclass
class _Person:
    surname: str
    name: str
    id_number: str
    sex: str
    birth: datetime.date


# A member's part in the household's economy decides their income.
ADULT, IDLE, STUDENT, INFANT, ELDER = "adult", "idle", "student", "infant", "elder"


class DemoFaker:
    """Draws every fake value from one seeded generator."""

    def __init__(
        self,
        seed: int,
        *,
        tiers: Sequence[Tier] = (),
        causes: Sequence[Cause] = (),
        today: datetime.date | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self.school_day = datetime.date(school_year_start(self.today), 9, 1)
        self.tiers = _tier_weights(tiers)
        self.causes = list(causes)

    # --- People

    def surname(self) -> str:
        return str(SURNAMES.pick(self.rng))

    def given_name(self, sex: str, birth: datetime.date) -> str:
        rng = self.rng
        if rng.random() < 0.015:
            rare = rng.choice(RARE_GIVEN)
            return rare if rng.random() < 0.5 else rng.choice(GIVEN_NAMES[sex, "mid"])[:1] + rare
        era = name_era(birth)
        if rng.random() < 0.2:  # fashions overlap
            era = {"old": "mid", "mid": rng.choice(["old", "young"]), "young": "mid"}[era]
        return rng.choice(GIVEN_NAMES[sex, era])

    def person(
        self, number: str, birth: datetime.date, male: bool, surname: str | None = None
    ) -> _Person:
        sex = "M" if male else "F"
        surname = surname or self.surname()
        return _Person(surname, surname + self.given_name(sex, birth), number, sex, birth)

    def phone(self) -> str:
        """An 11-digit mainland mobile number with a real carrier prefix."""
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def address(self, area_code: str | None = None) -> str:
        """District → 街道 → 社区 → building, unit and room; some villages."""
        rng = self.rng
        if rng.random() < 0.08:
            district, town, village = rng.choice(VILLAGES)
            return f"{CITY}{district}{town}{village}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        if area_code not in DISTRICTS or rng.random() < 0.2:
            area_code = rng.choice(list(DISTRICTS))
        district, streets = DISTRICTS[area_code]
        place = f"{CITY}{district}{rng.choice(streets)}街道{rng.choice(COMMUNITIES)}社区"
        room = f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
        if rng.random() < 0.6:
            yard = rng.randint(1, 150)
            return f"{place}{yard}号院{rng.randint(1, 12)}号楼{rng.randint(1, 4)}单元{room}"
        return f"{place}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{room}室"

    def bank(self) -> tuple[str, str, str]:
        """(bank, branch, 19-digit card number with a valid Luhn digit)."""
        name, bin_ = BANKS.pick(self.rng)
        branch = f"郑州{self.rng.choice(BRANCH_ROADS)}支行"
        body = bin_ + f"{self.rng.randrange(10**12):012d}"
        return name, branch, body + luhn_digit(body)

    def school(self, birth: datetime.date) -> tuple[str, str, str]:
        """(stage, school, grade) of a child born on `birth`, this school year."""
        rng = self.rng
        age = age_on(birth, self.school_day)
        district = rng.choice(list(DISTRICTS.values()))[0]
        if 3 <= age <= 5:
            grade = ("小班", "中班", "大班")[age - 3]
            return "preschool", f"郑州市{district}第{rng.choice('一二三')}幼儿园", grade
        if 6 <= age <= 11:
            school = f"郑州市{district}{rng.choice(PRIMARY_SCHOOLS)}小学"
            return "primary", school, f"{_NUMERALS[age - 6]}年级"
        if 12 <= age <= 14:
            return "junior", rng.choice(MIDDLE_SCHOOLS), f"{_NUMERALS[age - 6]}年级"
        if 15 <= age <= 17:
            if rng.random() < 0.2:
                return "vocational", rng.choice(VOCATIONAL_SCHOOLS), f"{_NUMERALS[age - 15]}年级"
            school = rng.choice(MIDDLE_SCHOOLS + SENIOR_EXTRA)
            return "senior", school, ("高一", "高二", "高三")[age - 15]
        if 18 <= age <= 21:
            roll = rng.random()
            if roll < 0.3 and age <= 20:
                return "college", rng.choice(COLLEGES), ("大一", "大二", "大三")[age - 18]
            if roll < 0.85:
                grade = ("大一", "大二", "大三", "大四")[age - 18]
                return "undergraduate", rng.choice(UNIVERSITIES), grade
        if 22 <= age <= 24 and rng.random() < 0.15:
            return "graduate", rng.choice(UNIVERSITIES), ("研一", "研二", "研三")[age - 22]
        return "", "", ""

    # --- Households

    def household(self, index: int, unit: Unit) -> HouseholdRows:
        """The household with running index `index`, filed at `unit`."""
        rng = self.rng
        slot = head_slot(index)
        male = rng.random() < 0.5
        head = self.person(head_id(slot, male), slot.birth, male)
        members: list[tuple[Member, str]] = []

        spouse: _Person | None = None
        if rng.random() < 0.74:
            male = head.sex == "F"
            years = (-6.0, 3.0) if male else (-3.0, 6.0)
            birth = member_birth(slot, BLOCK_SPOUSE, male, years)
            spouse = self.person(member_id(slot, BLOCK_SPOUSE, male, birth), birth, male)
            role = ADULT if rng.random() < 0.7 else IDLE
            members.append((self._member(spouse, Relation.SPOUSE), role))

        children = CHILD_COUNTS.pick(rng)
        if spouse is None and rng.random() < 0.5:
            children = min(children, 1)
        for k in range(children):
            male = rng.random() < 0.52
            block = BLOCK_CHILDREN[k]
            birth = member_birth(slot, block, male, (22.0 + 3 * k, 32.0 + 4 * k))
            if birth > self.today - datetime.timedelta(days=60):
                continue  # not born yet: younger heads have fewer children
            if age_on(birth, self.today) >= 26 and rng.random() < 0.7:
                continue  # grown children mostly have households of their own
            family = head.surname if spouse is None or rng.random() < 0.9 else spouse.surname
            child = self.person(member_id(slot, block, male, birth), birth, male, family)
            member = self._member(child, Relation.CHILD)
            member.school_stage, member.school, member.grade = self.school(birth)
            if member.school_stage:
                members.append((member, STUDENT))
            elif age_on(birth, self.today) >= 18:
                member.occupation = rng.choice(ADULT_JOBS)
                members.append((member, IDLE if member.occupation == "待业" else ADULT))
            else:
                members.append((member, INFANT))

        # Elderly parents live with younger heads more often.
        if rng.random() < (0.3 if age_on(head.birth, self.today) < 50 else 0.15):
            for block, male in ((BLOCK_FATHER, True), (BLOCK_MOTHER, False)):
                birth = member_birth(slot, block, male, (-34.0, -22.0))
                if age_on(birth, self.today) > 92 or rng.random() < 0.35:
                    continue
                number = member_id(slot, block, male, birth)
                parent = self.person(number, birth, male, head.surname if male else None)
                member = self._member(parent, Relation.PARENT)
                member.occupation = "退休" if rng.random() < 0.55 else "务农"
                if rng.random() < 0.45:
                    member.health_status = rng.choice([HealthStatus.CHRONIC, HealthStatus.SERIOUS])
                members.append((member, ELDER))

        return self._household_rows(index, unit, head, spouse, members)

    def _member(self, person: _Person, relation: str) -> Member:
        healthy = self.rng.random() < 0.75
        return build(
            Member,
            name=person.name,
            relation=relation,
            id_number=person.id_number,
            sex=person.sex,
            birth_date=person.birth,
            health_status=HealthStatus.HEALTHY if healthy else HealthStatus.FAIR,
        )

    def _household_rows(
        self,
        index: int,
        unit: Unit,
        head: _Person,
        spouse: _Person | None,
        members: list[tuple[Member, str]],
    ) -> HouseholdRows:
        rng = self.rng
        size = 1 + len(members)
        head_age = age_on(head.birth, self.today)
        studying = any(m.school_stage in _NON_COMPULSORY for m, _role in members)

        cause = self._main_cause(studying)
        cause_name = cause.name if cause else ""
        tier = self.tiers.pick(rng) if self.tiers else None
        category = tier.national_category if tier else "relative"

        # Who is ill, disabled or out of work follows from the main cause.
        health, disability, grade = self._health(cause_name, members)
        employment = self._employment(cause_name, head_age, head.sex)
        employer, employer_type = "", ""
        if employment in ("employed", "laid_off", "retired") or (
            employment == "unemployed" and rng.random() < 0.5
        ):
            employer, employer_type = EMPLOYERS.pick(rng)
        elif employment == "flexible":
            employer, employer_type = f"灵活就业（{rng.choice(FLEXIBLE_JOBS)}）", "other"
        elif employment == "migrant":
            employer, employer_type = rng.choice(MIGRANT_EMPLOYERS), "private"

        # Money: a per-capita income inside the tier's band, rigid expenses
        # that follow from the cause, and the gross split over kinds and
        # earners so that the file adds up the way the means test reads it.
        net = round(LOCAL_STANDARD * rng.uniform(*TIER_BANDS[category]) * size * 12)
        expense_medical = expense_disability = expense_education = expense_housing = 0
        if cause_name in ("因病", "意外事故") or health == HealthStatus.SERIOUS:
            expense_medical = rng.randrange(6000, 60001, 100)
        elif health != HealthStatus.HEALTHY or any(
            m.health_status != HealthStatus.HEALTHY for m, _role in members
        ):
            expense_medical = rng.randrange(0, 8001, 100)
        if disability:
            expense_disability = rng.randrange(1200, 12001, 100)
        if studying:
            expense_education = rng.randrange(4000, 16001, 500)
        housing = HOUSING.pick(rng)
        if housing == "private_rent":
            expense_housing = rng.randrange(6000, 18001, 600)
        gross = net + expense_medical + expense_disability + expense_education + expense_housing

        transfer = 0
        for member, role in members:
            if role == ELDER:
                pension = rng.randrange(2400, 30001, 100) if member.occupation == "退休" else 2040
                member.annual_income = Decimal(min(pension, (gross - transfer) // 3))
                transfer += int(member.annual_income)
        if category == "deep" and rng.random() < 0.5:
            transfer += (gross - transfer) // 3  # 低保金
        rest = gross - transfer
        wages = 0
        for member, role in members:
            if role == ADULT and rest > 0:
                share = round(rest * rng.uniform(0.2, 0.6))
                member.annual_income = Decimal(share)
                if not member.occupation:
                    member.occupation = rng.choice(ADULT_JOBS[:-1])
                wages, rest = wages + share, rest - share
            elif role == IDLE and not member.occupation:
                member.occupation = rng.choice(["待业", "家务"])
        # What is left is the head's own income, of the kind their work gives.
        business = other = 0
        if employment == "retired":
            transfer += rest  # pension
        elif employment in ("laid_off", "unemployed"):
            relief = rest * 3 // 5  # 失业保险金 and temporary relief
            transfer, other = transfer + relief, rest - relief  # odd jobs
        elif employment == "flexible" or employer_type == "self":
            business = rest * 2 // 3
            wages += rest - business
        else:
            wages += rest
        zero_employment = employment not in ("employed", "flexible", "migrant") and not any(
            role == ADULT for _m, role in members
        )

        status = STATUSES.pick(rng)
        file_number = None
        filed_on = exited_on = retention_until = None
        if status != HouseholdStatus.DRAFT:
            # The sequence is a placeholder; households_insert numbers the
            # files per union and year, as the confirmation step does.
            filed_on = self.today - datetime.timedelta(days=rng.randint(30, 9 * 365))
            file_number = f"{unit.code[:24]}-{filed_on.year}-?{index}"
        if status == HouseholdStatus.EXITED and filed_on is not None:
            exited_on = filed_on + (self.today - filed_on) * rng.randint(3, 9) // 10
            retention_until = add_years(exited_on, 10)
        bank_name, bank_branch, bank_account = self.bank()
        has_children = any(m.relation == Relation.CHILD for m, _role in members)
        household = build(
            Household,
            unit_id=unit.pk,
            status=status,
            file_number=file_number,
            filed_on=filed_on,
            exited_on=exited_on,
            exit_kind="recovered" if exited_on else "",
            exit_reason="连续六个月人均收入高于当地低保标准。" if exited_on else "",
            retention_until=retention_until,
            last_visited_on=(
                self.today - datetime.timedelta(days=rng.randint(5, 150))
                if status == HouseholdStatus.FILED
                else None
            ),
            name=head.name,
            id_number=head.id_number,
            sex=head.sex,
            birth_date=head.birth,
            ethnicity=ETHNICITY.pick(rng),
            political_status=POLITICAL.pick(rng),
            phone=self.phone(),
            address=self.address(unit.code[:6]),
            employer=employer,
            employer_type=employer_type,
            employment_status=employment,
            health_status=health,
            disability_type=disability,
            disability_grade=grade,
            model_worker_level=MODEL_WORKER.pick(rng),
            housing_type=housing,
            housing_area=(
                Decimal(rng.randrange(2200, 9000, 50)) / 100 if housing != "none" else None
            ),
            hukou_type="rural" if employment == "migrant" or rng.random() < 0.15 else "urban",
            marital_status="married" if spouse else NOT_MARRIED.pick(rng),
            single_parent=spouse is None and has_children,
            medical_insurance=INSURANCE.pick(rng),
            zero_employment=zero_employment,
            income_wages=Decimal(wages),
            income_business=Decimal(business),
            income_property=Decimal(0),
            income_transfer=Decimal(transfer),
            income_other=Decimal(other),
            expense_medical=Decimal(expense_medical),
            expense_disability=Decimal(expense_disability),
            expense_education=Decimal(expense_education),
            expense_housing=Decimal(expense_housing),
            household_size=size,
            tier_id=tier.pk if tier else None,
            main_cause_id=cause.pk if cause else None,
            bank_name=bank_name,
            bank_branch=bank_branch,
            bank_account=bank_account,
            note=self._note(cause_name),
        )
        household.per_capita_monthly_income = per_capita_monthly(household)
        secondary = self._secondary_causes(cause, studying)
        return HouseholdRows(household, [m for m, _role in members], [c.pk for c in secondary])

    def _main_cause(self, studying: bool) -> Cause | None:
        if not self.causes:
            return None
        weighted = [
            (c, 0 if c.name == "因学" and not studying else CAUSE_WEIGHTS.get(c.name, 2))
            for c in self.causes
        ]
        if not any(weight for _c, weight in weighted):
            return self.rng.choice(self.causes)
        return Weighted(weighted).pick(self.rng)  # type: ignore[no-any-return]

    def _secondary_causes(self, main: Cause | None, studying: bool) -> list[Cause]:
        count = SECONDARY_COUNTS.pick(self.rng)
        main_id = main.pk if main else None
        pool = [c for c in self.causes if c.pk != main_id and (c.name != "因学" or studying)]
        return self.rng.sample(pool, min(count, len(pool)))

    def _health(self, cause: str, members: list[tuple[Member, str]]) -> tuple[str, str, str]:
        """The head's (health, disability type, grade); when the illness or
        disability is a member's, that member's health is set instead."""
        rng = self.rng
        others = [m for m, role in members if role != INFANT]
        if cause == "因病":
            if rng.random() < 0.6 or not others:
                return rng.choice([HealthStatus.CHRONIC, HealthStatus.SERIOUS]), "", ""
            rng.choice(others).health_status = rng.choice(
                [HealthStatus.CHRONIC, HealthStatus.SERIOUS]
            )
        elif cause == "因残":
            kind = rng.choice([k for k in DisabilityType.values if k])
            grade = rng.choice(["1", "2", "3", "3", "4", "4"])
            if rng.random() < 0.65 or not others:
                return HealthStatus.DISABLED, kind, grade
            rng.choice(others).health_status = HealthStatus.DISABLED
            return HealthStatus.FAIR, "", ""
        roll = rng.random()
        if roll < 0.55:
            return HealthStatus.HEALTHY, "", ""
        return (HealthStatus.FAIR if roll < 0.85 else HealthStatus.CHRONIC), "", ""

    def _employment(self, cause: str, age: int, sex: str) -> str:
        if age >= (60 if sex == "M" else 50) and self.rng.random() < 0.45:
            return "retired"
        return str(EMPLOYMENT.get(cause, EMPLOYMENT[""]).pick(self.rng))

    def _note(self, cause: str) -> str:
        rng = self.rng
        if cause == "意外事故":
            return rng.choice(ACCIDENT_NOTES)
        if cause == "自然灾害":
            return "2021年“7·20”特大暴雨中房屋受损。"
        return rng.choice(OTHER_NOTES) if rng.random() < 0.05 else ""


def _tier_weights(tiers: Sequence[Tier]) -> Weighted | None:
    """Spread files over tiers by national category (特困 25%, 困难 50%,
    边缘 25%), sharing a category's weight among the tiers mapped to it."""
    per_category: dict[str, int] = {}
    for tier in tiers:
        per_category[tier.national_category] = per_category.get(tier.national_category, 0) + 1
    weighted = [
        (t, TIER_WEIGHTS.get(t.national_category, 5) / per_category[t.national_category])
        for t in tiers
        if TIER_WEIGHTS.get(t.national_category, 5) > 0
    ]
    if not weighted:
        weighted = [(t, 1) for t in tiers]
    return Weighted(weighted) if weighted else None


# --- Bulk insert -------------------------------------------------------------

M = TypeVar("M", bound=models.Model)


@functools.cache
def _columns(model: type[models.Model]) -> list[tuple[str, "models.Field[Any, Any]"]]:
    return [(f.attname, f) for f in model._meta.concrete_fields]


def build(model: type[M], **values: Any) -> M:
    """An unsaved instance from attribute names (`unit_id`, not `unit`).

    Passes every column positionally, Django's fast path when loading rows:
    keyword construction costs about as much as the insert itself at this
    volume. Columns not given get their field default, as with keywords.
    """
    args = [
        values.pop(attname) if attname in values else field.get_default()
        for attname, field in _columns(model)
    ]
    if values:
        raise TypeError(f"{model.__name__} has no columns {sorted(values)}")
    return model(*args)


def unit_weights(units: Sequence[Unit]) -> Weighted:
    """Grassroots unions (the leaves) hold most files; counties hold some."""
    parents = {u.parent_id for u in units}
    return Weighted([(u, 1 if u.pk in parents else 3) for u in units])


def next_index() -> int:
    """Where the running household index continues: past every row so far.

    Each run consumes indices from here and each row it inserts raises the
    maximum id by at least one, so runs do not reuse indices; the per-batch
    check in `households_insert` covers files that came from elsewhere.
    """
    return int(Household.objects.aggregate(m=Max("id"))["m"] or 0)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load.

    Each batch makes tens of thousands of short-lived objects, which sets off
    full collections over Django's whole heap again and again: about a third
    of the run time. The rows are freed by reference counting regardless.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class InsertReport:
    households: int
    members: int
    seconds: float
    first_index: int
    next_index: int


Progress = Callable[[int, int, float], None]


def _taken(rows: list[HouseholdRows]) -> set[str]:
    """ID and file numbers among `rows` that a stored file already uses.

    Closed files count too: the constraint would allow a second file for
    their head, but a generated stranger must not inherit someone's history.
    """
    ids = [r.household.id_number for r in rows]
    numbers = [r.household.file_number or "" for r in rows if r.household.file_number]
    taken: set[str] = set()
    for chunk in _chunks(ids, 500):
        taken.update(
            Household.objects.filter(id_number__in=chunk).values_list("id_number", flat=True)
        )
    for chunk in _chunks(numbers, 500):
        found = Household.objects.filter(file_number__in=chunk).values_list(
            "file_number", flat=True
        )
        taken.update(number or "" for number in found)
    return taken


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _number_files(rows: list[HouseholdRows]) -> None:
    """Give generated files real numbers `<unit code>-<year>-<sequence>` from
    the same per-union, per-year counters confirmation uses, and advance the
    counters, so a case confirmed later continues the sequence without a gap."""
    wanted: dict[tuple[int, int], list[Household]] = {}
    for row in rows:
        h = row.household
        if h.file_number and h.filed_on:
            wanted.setdefault((h.unit_id, h.filed_on.year), []).append(h)
    codes = dict(Unit.objects.filter(pk__in={k[0] for k in wanted}).values_list("pk", "code"))
    for (unit_id, year), households in sorted(wanted.items()):
        FileNumberCounter.objects.get_or_create(unit_id=unit_id, year=year)
        counter = FileNumberCounter.objects.select_for_update().get(unit_id=unit_id, year=year)
        for h in sorted(households, key=lambda x: x.filed_on or datetime.date.min):
            counter.last += 1
            h.file_number = f"{codes[unit_id]}-{year}-{counter.last:04d}"
        counter.save(update_fields=["last"])


def households_insert(
    *,
    count: int,
    units: Sequence[Unit],
    seed: int,
    batch_size: int = 2000,
    created_by: Mapping[int, User] | None = None,
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> InsertReport:
    """Insert `count` generated households with their members, in batches.

    Bypasses the services on purpose (bulk inserts, no audit events): this is
    for demo and benchmark data, never for real files. Each batch commits on
    its own, so a large run shows progress and an interrupted one keeps whole
    households only. `created_by` maps a unit id to the user recorded as the
    one who filed its households.
    """
    if not units:
        raise ValueError("no units to put households in")
    faker = DemoFaker(
        seed,
        tiers=list(Tier.objects.filter(is_active=True)),
        causes=list(Cause.objects.filter(is_active=True)),
        today=today,
    )
    pick_unit = unit_weights(units)
    filer = {unit_id: user.pk for unit_id, user in (created_by or {}).items()}
    through = Household.secondary_causes.through
    started = time.perf_counter()
    first = index = next_index()
    done = members_done = 0
    with _collector_paused():
        while done < count:
            wanted = min(batch_size, count - done)
            rows: list[HouseholdRows] = []
            while len(rows) < wanted:
                batch = []
                for _ in range(wanted - len(rows)):
                    unit = pick_unit.pick(faker.rng)
                    row = faker.household(index, unit)
                    row.household.created_by_id = filer.get(unit.pk)
                    row.household.submitted_by_id = filer.get(unit.pk)
                    batch.append(row)
                    index += 1
                taken = _taken(batch)
                rows.extend(
                    r for r in batch
                    if r.household.id_number not in taken
                    and r.household.file_number not in taken
                )  # fmt: skip
            with transaction.atomic():
                _number_files(rows)
                Household.objects.bulk_create([r.household for r in rows], batch_size=batch_size)
                members: list[Member] = []
                links: list[Any] = []
                for r in rows:
                    for member in r.members:
                        member.household_id = r.household.pk
                        members.append(member)
                    links.extend(
                        build(through, household_id=r.household.pk, cause_id=cause_id)
                        for cause_id in r.secondary_cause_ids
                    )
                Member.objects.bulk_create(members, batch_size=batch_size)
                through.objects.bulk_create(links, batch_size=batch_size)
            done += len(rows)
            members_done += len(members)
            if progress is not None:
                progress(done, count, time.perf_counter() - started)
    return InsertReport(done, members_done, time.perf_counter() - started, first, index)


# -- Files part-way through intake -----------------------------------------------------


@dataclass
class IntakeExamples:
    """What `intake_examples` left for the chair to do today."""

    notice_ended: list[Household]  # on a notice whose period is over: 七确认 now
    to_evaluate: list[Household]  # discussed by the committee: waiting for 五评


def _notice_start(today: datetime.date, working_days: int) -> datetime.date:
    """The latest start day whose notice period is over by `today`."""
    start = today - datetime.timedelta(days=working_days + 2)
    while intake.notice_end_date(start, working_days) >= today:
        start -= datetime.timedelta(days=1)
    return start


def _walk_to_discussed(
    household: Household, worker: User, day: datetime.date, minutes: str
) -> Household:
    """一进二看三算四议 through the services, each on its own day up to `day`."""

    def on(offset: int) -> Any:
        return clock.travel(day - datetime.timedelta(days=offset) - clock.today())

    with on(3):
        intake.intake_visit_log(
            actor=worker,
            household=household,
            data={"seen_housing": "老旧住房，家具简陋", "seen_health": "户主常年服药"},
        )
    money = {f: getattr(household, f) for f in (*intake.INCOME_FIELDS, *intake.EXPENSE_FIELDS)}
    with on(2):
        intake.assessment_record(
            actor=worker,
            household=household,
            data={**money, "household_size": household.household_size},
        )
    with on(1):
        intake.discussion_record(
            actor=worker,
            household=household,
            held_on=clock.today(),
            attendees="工会主席、经审委员、职工代表 3 人",
            minutes=minutes,
        )
    household.refresh_from_db()
    return household


def intake_examples(*, worker: User, chair: User, unit: Unit) -> IntakeExamples:
    """Take three of `worker`'s draft files in `unit` through intake with the
    services, the clock moved to each step's day: two listed on a notice whose
    period ended yesterday or before, so 七确认 can be tried at once, and one
    discussed by the committee, waiting for the chair's 五评. The histories,
    audit events and notice are those real work leaves."""
    drafts = list(
        Household.objects.filter(
            unit__path__startswith=unit.path,
            status=HouseholdStatus.DRAFT,
            submitted_by=worker,
        ).order_by("id")[:3]
    )
    if len(drafts) < 3:
        return IntakeExamples([], [])
    today = clock.today()
    start = _notice_start(today, CaseRules.current().notice_working_days)
    noticed = [
        _walk_to_discussed(h, worker, start - datetime.timedelta(days=2), "经评议，同意建档。")
        for h in drafts[:2]
    ]
    with clock.travel(start - datetime.timedelta(days=1) - clock.today()):
        for household in noticed:
            assessment = intake.latest_assessment(household)
            tier = (assessment.suggested_tier if assessment else None) or household.tier
            if tier is None:  # pragma: no cover - the default tiers are seeded
                return IntakeExamples([], [])
            intake.case_evaluate(
                actor=chair,
                household=household,
                tier=tier,
                override="经入户核实，排除情形不影响认定。"
                if assessment and assessment.warnings
                else "",
            )
    with clock.travel(start - clock.today()):
        intake.notice_create(
            actor=worker,
            unit=unit,
            title="困难职工建档公示（演示）",
            starts_on=clock.today(),
            posted_at=f"{unit.name}办公楼一楼公告栏",
            households=noticed,
        )
    waiting = _walk_to_discussed(drafts[2], worker, today, "经评议，建议评定为困难职工。")
    for household in noticed:
        household.refresh_from_db()
    return IntakeExamples(noticed, [waiting])
