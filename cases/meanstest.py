"""The means test (三算): per-capita income against the local standard.

Pure arithmetic with no database access, so it can be checked against
hand-worked examples. The system suggests a band and explains every step in
words; a person decides the tier.

An assessment keeps its explanation as message ids with their figures
(`MeansResult.stored_steps`), so a file assessed in Chinese reads in English
for an English reader (`explain`).
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_noop as _

from accounts.money import ZERO, yuan


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


@dataclass(frozen=True)
class Line:
    """One step of the explanation: a message id and its figures, put
    together in the reader's language when shown."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return gettext(self.msgid) % self.params if self.params else gettext(self.msgid)


@dataclass
class MeansResult:
    per_capita: Decimal
    standard: Decimal | None
    ratio: Decimal | None
    band: str | None
    lines: list[Line] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[str]:
        return [str(line) for line in self.lines]

    @property
    def stored_steps(self) -> list[list[Any]]:
        """The steps as an assessment keeps them: [msgid, figures] pairs."""
        return [[line.msgid, line.params] for line in self.lines]


def explain(stored: list[Any]) -> list[str]:
    """Stored steps in the active language. Assessments recorded before the
    steps were kept as message ids hold plain text, shown as it is."""
    out = []
    for item in stored:
        if isinstance(item, list | tuple) and len(item) == 2:
            out.append(str(Line(str(item[0]), dict(item[1] or {}))))
        else:
            out.append(str(item))
    return out


def exclusion_warnings(codes: list[str]) -> list[str]:
    return [str(EXCLUSIONS[code]) for code in sorted(codes) if code in EXCLUSIONS]


def _yuan(value: Decimal) -> str:
    return f"{yuan(value):,.2f}"


def per_capita_monthly(annual_net: Decimal, household_size: int | None) -> Decimal:
    """(12-month income − rigid expenses) ÷ household size ÷ 12, to the fen."""
    return yuan(annual_net / max(int(household_size or 0), 1) / 12)


def assess(data: MeansInput, rule: Rule | None = None) -> MeansResult:
    rule = rule or Rule()
    size = max(int(data.household_size or 0), 1)
    net = data.annual_income - data.rigid_expenses
    per_capita = per_capita_monthly(net, size)
    steps = [
        Line(
            _("家庭年收入 %(inc)s 元 − 年刚性支出 %(exp)s 元 = %(net)s 元。"),
            {
                "inc": _yuan(data.annual_income),
                "exp": _yuan(data.rigid_expenses),
                "net": _yuan(net),
            },
        ),
        Line(
            _("%(net)s 元 ÷ %(n)d 人 ÷ 12 个月 = 人均月收入 %(pc)s 元。"),
            {"net": _yuan(net), "n": size, "pc": _yuan(per_capita)},
        ),
    ]
    warnings = exclusion_warnings(list(data.exclusions))
    if data.standard is None or data.standard <= 0:
        steps.append(Line(_("未找到该日期适用的当地低保标准，无法给出建议类别。")))
        return MeansResult(per_capita, None, None, None, steps, warnings)
    ratio = (per_capita / data.standard).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    exact_ratio = per_capita / data.standard
    steps.append(
        Line(
            _("当地低保标准 %(std)s 元/人·月，人均月收入为标准的 %(ratio)s 倍。"),
            {"std": _yuan(data.standard), "ratio": str(ratio)},
        )
    )
    band: str
    if exact_ratio <= rule.deep_multiple:
        band = Band.DEEP
        steps.append(
            Line(
                _("不高于标准的 %(m)s 倍，建议列为深度困难（特困）。"),
                {"m": str(rule.deep_multiple)},
            )
        )
    elif exact_ratio <= rule.relative_multiple:
        band = Band.RELATIVE
        steps.append(
            Line(
                _("高于标准的 %(lo)s 倍、不高于 %(hi)s 倍，建议列为相对困难。"),
                {"lo": str(rule.deep_multiple), "hi": str(rule.relative_multiple)},
            )
        )
    elif data.accident_cost > 0 and data.accident_cost > data.annual_income * rule.accident_share:
        band = Band.ACCIDENT
        steps.append(
            Line(
                _("意外支出 %(cost)s 元超过家庭年收入的 %(pct)s%%，建议列为意外致困。"),
                {
                    "cost": _yuan(data.accident_cost),
                    "pct": str((rule.accident_share * 100).normalize()),
                },
            )
        )
    else:
        band = Band.EDGE
        steps.append(
            Line(
                _("高于标准的 %(hi)s 倍；如仍符合困难条件，可列为边缘户。"),
                {"hi": str(rule.relative_multiple)},
            )
        )
    if warnings:
        steps.append(Line(_("存在排除情形，须由工会主席填写理由后方可认定。")))
    return MeansResult(per_capita, data.standard, ratio, band, steps, warnings)
