"""Plain builder functions for tests and benchmarks."""

import datetime
import itertools
from decimal import Decimal
from typing import Any

from accounts.models import Membership, Unit, User
from accounts.services import unit_create
from cases import idnumber
from cases.models import Cause, Household, Tier

_seq = itertools.count(1)


def make_id(birth: datetime.date | None = None, *, area: str = "410105", male: bool = True) -> str:
    n = next(_seq)
    birth = birth or datetime.date(1970, 1, 1) + datetime.timedelta(days=n % 15000)
    sequence = (n * 2 + (1 if male else 0)) % 1000
    return idnumber.make(area, birth, sequence)


def make_unit(code: str, name: str, parent: Unit | None = None, kind: str = "county") -> Unit:
    return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)


def make_user(username: str, unit: Unit | None = None, *roles: str, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, **extra)
    for role in roles:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


def household_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid set of household form fields."""
    data: dict[str, Any] = {
        "name": "王秀兰",
        "id_number": make_id(male=False),
        "ethnicity": "汉族",
        "political_status": "masses",
        "phone": "13812345678",
        "address": "河南省郑州市金水区文化路街道黄河社区3号楼2单元501",
        "employer": "郑州纺织厂",
        "employer_type": "state",
        "employment_status": "laid_off",
        "health_status": "chronic",
        "disability_type": "",
        "disability_grade": "",
        "model_worker_level": "",
        "housing_type": "owned",
        "housing_area": "45.50",
        "hukou_type": "urban",
        "marital_status": "married",
        "medical_insurance": "employee",
        "income_wages": "12000.00",
        "income_business": "0",
        "income_property": "0",
        "income_transfer": "2400",
        "income_other": "0",
        "expense_medical": "3000",
        "expense_disability": "0",
        "expense_education": "0",
        "expense_housing": "0",
        "household_size": "3",
        "bank_name": "中国工商银行",
        "bank_branch": "郑州文化路支行",
        "bank_account": "6222021234567890123",
        "note": "",
    }
    data.update(overrides)
    return data


def make_household(unit: Unit, **overrides: Any) -> Household:
    """Insert a household directly (fast), bypassing the form layer."""
    info = idnumber.parse(overrides.pop("id_number", None) or make_id())
    fields: dict[str, Any] = {
        "unit": unit,
        "name": "李建国",
        "id_number": info.number,
        "sex": info.sex,
        "birth_date": info.birth_date,
        "phone": "13912345678",
        "address": "河南省郑州市二七区大学路街道铭功路社区8号院",
        "employment_status": "laid_off",
        "housing_type": "owned",
        "hukou_type": "urban",
        "marital_status": "married",
        "household_size": 3,
        "income_wages": Decimal("18000"),
        "tier": Tier.objects.order_by("sort_order").first(),
        "main_cause": Cause.objects.order_by("sort_order").first(),
    }
    fields.update(overrides)
    return Household.objects.create(**fields)


def roster_person(unit, user):
    """The helper-roster entry of a helper with a login (made on first use)."""
    from cases.models import HelperPerson

    person, _created = HelperPerson.objects.get_or_create(
        unit=unit, user=user, defaults={"name": user.full_name or user.username}
    )
    return person
