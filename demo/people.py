"""Fake people: surnames and given names as Henan has them, birthdays and
ID numbers that never repeat.

ID numbers follow from a running household index through a fixed bijection
(below), so files written by separate runs, with any seeds, never share a
number.
"""

import datetime
import math
import random
from dataclasses import dataclass

from cases import idnumber

from .weighted import Weighted

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


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass
class Person:
    surname: str
    name: str
    id_number: str
    sex: str
    birth: datetime.date


def given_name(rng: random.Random, sex: str, birth: datetime.date) -> str:
    if rng.random() < 0.015:
        rare = rng.choice(RARE_GIVEN)
        return rare if rng.random() < 0.5 else rng.choice(GIVEN_NAMES[sex, "mid"])[:1] + rare
    era = name_era(birth)
    if rng.random() < 0.2:  # fashions overlap
        era = {"old": "mid", "mid": rng.choice(["old", "young"]), "young": "mid"}[era]
    return rng.choice(GIVEN_NAMES[sex, era])


def person(
    rng: random.Random,
    number: str,
    birth: datetime.date,
    male: bool,
    surname: str | None = None,
) -> Person:
    """Someone with ID number `number`; a surname drawn unless given."""
    sex = "M" if male else "F"
    surname = surname or str(SURNAMES.pick(rng))
    return Person(surname, surname + given_name(rng, sex, birth), number, sex, birth)


# --- ID numbers -----------------------------------------------------------

# Area codes for ID numbers: Zhengzhou and the Henan cities its workers come
# from. The order is part of the ID bijection; append only, never reorder.
AREA_CODES = [
    "410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181",
    "410182", "410183", "410184", "410185", "410202", "410302", "410402", "410502",
    "410702", "410802", "411002", "411102", "411302", "411402", "411502", "411602",
    "411702", "410922",
]  # fmt: skip

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
    raise RuntimeError("demo.people: ID multiplier must be coprime to the capacity")

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
