"""The column layouts of the file sent to civil affairs.

Each civil-affairs office asks for its own columns. A layout names its
columns (header → field) and whether it writes one row per household or
one per person. Two ship with the product; `settings.CIVIL_AFFAIRS_LAYOUTS`
adds others or replaces them by key, e.g.

    CIVIL_AFFAIRS_LAYOUTS = {
        "county": {
            "label": "县民政局格式",
            "per_person": False,
            "columns": [["申请人", "name"], ["公民身份号码", "id_number"],
                        ["家庭成员身份证号", "member_id_numbers"]],
        },
    }
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

# What a column may hold. Household rows: the head's and the household's
# values; person rows (per_person) also the person's own (`person_*`).
HOUSEHOLD_FIELDS = {
    "name": gettext_lazy("户主姓名"),
    "id_number": gettext_lazy("户主身份证号"),
    "address": gettext_lazy("家庭住址"),
    "household_size": gettext_lazy("家庭人口"),
    "member_id_numbers": gettext_lazy("家庭成员身份证号（以“、”分隔）"),
    "member_names": gettext_lazy("家庭成员姓名（以“、”分隔）"),
    "unit": gettext_lazy("所属工会"),
    "file_number": gettext_lazy("档案编号"),
}
PERSON_FIELDS = {
    "person_name": gettext_lazy("姓名"),
    "person_id_number": gettext_lazy("身份证号"),
    "person_relation": gettext_lazy("与户主关系"),
}
MEMBER_SEPARATOR = "、"


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    per_person: bool
    columns: tuple[tuple[str, str], ...]  # (header, field)

    @property
    def headers(self) -> list[str]:
        return [header for header, _field in self.columns]


DEFAULT_LAYOUTS: dict[str, dict[str, Any]] = {
    "household": {
        "label": gettext_lazy("按户（一户一行）"),
        "per_person": False,
        "columns": [
            ["户主姓名", "name"],
            ["身份证号", "id_number"],
            ["家庭住址", "address"],
            ["家庭人口", "household_size"],
            ["家庭成员身份证号", "member_id_numbers"],
        ],
    },
    "person": {
        "label": gettext_lazy("按人（每名家庭成员一行）"),
        "per_person": True,
        "columns": [
            ["户主身份证号", "id_number"],
            ["姓名", "person_name"],
            ["身份证号", "person_id_number"],
            ["与户主关系", "person_relation"],
            ["家庭住址", "address"],
            ["家庭人口", "household_size"],
        ],
    },
}


def _layout(key: str, spec: dict[str, Any]) -> Layout:
    per_person = bool(spec.get("per_person"))
    allowed = {**HOUSEHOLD_FIELDS, **(PERSON_FIELDS if per_person else {})}
    columns = tuple((str(h), str(f)) for h, f in spec.get("columns") or ())
    unknown = [f for _h, f in columns if f not in allowed]
    if not columns or unknown or "id_number" not in {f for _h, f in columns}:
        raise ImproperlyConfigured(
            f"CIVIL_AFFAIRS_LAYOUTS[{key!r}]: columns must include id_number and use only "
            f"{sorted(allowed)}; unknown: {unknown}"
        )
    return Layout(key, str(spec.get("label") or key), per_person, columns)


def layouts() -> dict[str, Layout]:
    """Every layout on offer, the shipped ones first."""
    specs = {**DEFAULT_LAYOUTS, **getattr(settings, "CIVIL_AFFAIRS_LAYOUTS", {})}
    return {key: _layout(key, spec) for key, spec in specs.items()}


def layout_choices() -> list[tuple[str, str]]:
    return [(key, layout.label) for key, layout in layouts().items()]
