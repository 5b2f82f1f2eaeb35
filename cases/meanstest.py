"""The means test (三算): per-capita income against the local standard.

Pure arithmetic with no database access, so it can be checked against
hand-worked examples. The system suggests a band and explains every step in
words; a person decides the tier.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CENT = Decimal("0.01")
ZERO = Decimal("0")


class Band:
    DEEP = "deep"  # 深度困难 / 特困
    RELATIVE = "relative"  # 相对困难 / 困难
    ACCIDENT = "accident"  # 意外致困
    EDGE = "edge"  # 边缘


# Circumstances that exclude an applicant unless the chair overrides them.
EXCLUSIONS = {
    "private_school": gettext_lazy("子女自费就读高收费私立学校或出国留学"),
    "shareholder": gettext_lazy("本人或配偶为企业控股股东"),
    "multiple_homes": gettext_lazy("拥有两套及以上且面积超过当地平均水平的住房"),
    "vehicle": gettext_lazy("拥有机动车辆（残疾人代步车除外）"),
    "refused_checks": gettext_lazy("拒绝授权家庭经济状况核对"),
}


@dataclass(frozen=True)
class Rule:
    """The editable rule; defaults follow the national guidance."""

    deep_multiple: Decimal = Decimal("1")
    relative_multiple: Decimal = Decimal("2")
    accident_share: Decimal = Decimal("0.8")


@dataclass(frozen=True)
class MeansInput:
    annual_income: Decimal
    rigid_expenses: Decimal
    household_size: int
    standard: Decimal | None  # yuan per person per month in force, if any
    accident_cost: Decimal = ZERO
    exclusions: frozenset[str] = frozenset()


@dataclass
class MeansResult:
    per_capita: Decimal
    standard: Decimal | None
    ratio: Decimal | None
    band: str | None
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _yuan(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def assess(data: MeansInput, rule: Rule | None = None) -> MeansResult:
    rule = rule or Rule()
    size = max(int(data.household_size or 0), 1)
    net = data.annual_income - data.rigid_expenses
    per_capita = (net / size / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    steps = [
        _("家庭年收入 %(inc)s 元 − 年刚性支出 %(exp)s 元 = %(net)s 元。")
        % {"inc": _yuan(data.annual_income), "exp": _yuan(data.rigid_expenses), "net": _yuan(net)},
        _("%(net)s 元 ÷ %(n)d 人 ÷ 12 个月 = 人均月收入 %(pc)s 元。")
        % {"net": _yuan(net), "n": size, "pc": _yuan(per_capita)},
    ]
    warnings = [str(EXCLUSIONS[code]) for code in sorted(data.exclusions) if code in EXCLUSIONS]
    if data.standard is None or data.standard <= 0:
        steps.append(_("未找到该日期适用的当地低保标准，无法给出建议类别。"))
        return MeansResult(per_capita, None, None, None, steps, warnings)
    ratio = (per_capita / data.standard).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    exact_ratio = per_capita / data.standard
    steps.append(
        _("当地低保标准 %(std)s 元/人·月，人均月收入为标准的 %(ratio)s 倍。")
        % {"std": _yuan(data.standard), "ratio": ratio}
    )
    band: str
    if exact_ratio <= rule.deep_multiple:
        band = Band.DEEP
        steps.append(
            _("不高于标准的 %(m)s 倍，建议列为深度困难（特困）。") % {"m": rule.deep_multiple}
        )
    elif exact_ratio <= rule.relative_multiple:
        band = Band.RELATIVE
        steps.append(
            _("高于标准的 %(lo)s 倍、不高于 %(hi)s 倍，建议列为相对困难。")
            % {"lo": rule.deep_multiple, "hi": rule.relative_multiple}
        )
    elif data.accident_cost > 0 and data.accident_cost > data.annual_income * rule.accident_share:
        band = Band.ACCIDENT
        steps.append(
            _("意外支出 %(cost)s 元超过家庭年收入的 %(pct)s%%，建议列为意外致困。")
            % {"cost": _yuan(data.accident_cost), "pct": (rule.accident_share * 100).normalize()}
        )
    else:
        band = Band.EDGE
        steps.append(
            _("高于标准的 %(hi)s 倍；如仍符合困难条件，可列为边缘户。")
            % {"hi": rule.relative_multiple}
        )
    if warnings:
        steps.append(_("存在排除情形，须由工会主席填写理由后方可认定。"))
    return MeansResult(per_capita, data.standard, ratio, band, steps, warnings)
