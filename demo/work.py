"""Where the demo's people work, and what work a household head has."""

import random

from .weighted import Weighted

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
# A head's work by the household's main cause ("" for any other cause).
EMPLOYMENT = {
    "下岗失业": Weighted([("laid_off", 55), ("unemployed", 45)]),
    "收入低": Weighted([("employed", 55), ("flexible", 25), ("migrant", 20)]),
    "": Weighted([("employed", 40), ("flexible", 18), ("migrant", 9), ("laid_off", 10),
                  ("unemployed", 13), ("retired", 10)]),
}  # fmt: skip


def employment(rng: random.Random, cause: str, age: int, sex: str) -> str:
    """The head's employment status: past retirement age many are retired,
    the others work as their household's main cause suggests."""
    if age >= (60 if sex == "M" else 50) and rng.random() < 0.45:
        return "retired"
    return str(EMPLOYMENT.get(cause, EMPLOYMENT[""]).pick(rng))


def employer(rng: random.Random, status: str) -> tuple[str, str]:
    """(employer, employer type) for a head with employment `status`."""
    if status in ("employed", "laid_off", "retired") or (
        status == "unemployed" and rng.random() < 0.5
    ):
        name, kind = EMPLOYERS.pick(rng)
        return str(name), str(kind)
    if status == "flexible":
        return f"灵活就业（{rng.choice(FLEXIBLE_JOBS)}）", "other"
    if status == "migrant":
        return rng.choice(MIGRANT_EMPLOYERS), "private"
    return "", ""
