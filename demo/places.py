"""Where the demo city union's people live and bank: Zhengzhou (河南省郑州市).

Addresses, mobile numbers and bank cards, each drawn from the generator it
is given, so one seed gives the same values.
"""

import random

from .weighted import Weighted, words

CITY_ADDRESS = "河南省郑州市"
# District → its 街道 (sub-districts), keyed by the administrative area code
# that also starts the ID numbers of people registered there.
DISTRICTS: dict[str, tuple[str, list[str]]] = {
    "410102": (
        "中原区",
        words("林山寨 建设路 棉纺路 秦岭路 桐柏路 三官庙 绿东村 汝河路 航海西路"),
    ),
    "410103": ("二七区", words("淮河路 解放路 铭功路 一马路 蜜蜂张 五里堡 大学路 建中街 德化街")),
    "410104": ("管城回族区", words("北下街 西大街 南关 城东路 东大街 二里岗 陇海马路 航海东路")),
    "410105": ("金水区", words("经八路 花园路 人民路 杜岭 大石桥 南阳路 文化路 丰产路 未来路")),
    "410106": ("上街区", words("济源路 中心路 新安路 工业路 矿山")),
    "410108": ("惠济区", words("新城 刘寨 老鸦陈 长兴路 迎宾路 大河路")),
}
COMMUNITIES = words(
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

MOBILE_PREFIXES = words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
)


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
BRANCH_ROADS = words(
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


def phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real carrier prefix."""
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def address(rng: random.Random, area_code: str | None = None) -> str:
    """District → 街道 → 社区 → building, unit and room; some villages."""
    if rng.random() < 0.08:
        district, town, village = rng.choice(VILLAGES)
        return (
            f"{CITY_ADDRESS}{district}{town}{village}{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
        )
    if area_code not in DISTRICTS or rng.random() < 0.2:
        area_code = rng.choice(list(DISTRICTS))
    district, streets = DISTRICTS[area_code]
    place = f"{CITY_ADDRESS}{district}{rng.choice(streets)}街道{rng.choice(COMMUNITIES)}社区"
    room = f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}"
    if rng.random() < 0.6:
        yard = rng.randint(1, 150)
        return f"{place}{yard}号院{rng.randint(1, 12)}号楼{rng.randint(1, 4)}单元{room}"
    return f"{place}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元{room}室"


def bank(rng: random.Random) -> tuple[str, str, str]:
    """(bank, branch, 19-digit card number with a valid Luhn digit)."""
    name, bin_ = BANKS.pick(rng)
    branch = f"郑州{rng.choice(BRANCH_ROADS)}支行"
    body = bin_ + f"{rng.randrange(10**12):012d}"
    return name, branch, body + luhn_digit(body)
