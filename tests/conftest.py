"""Personas shared by every test.

The tree: 市总工会 (city) → 金水区总工会 (county A) → 纺织厂工会 (grassroots A1)
                         → 二七区总工会 (county B)
alice is a caseworker in county A; bob is a caseworker in county B (the
"colleague in another unit"); carol chairs county A; dave keeps county A's
books (finance); erin audits county A; frank administers the system at the
city level and has no role that reads household files.
"""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from accounts import refcache
from accounts.models import Membership, Unit
from cases import clock
from cases.models import LocalStandard
from tests.builders import make_household, make_unit, make_user


@pytest.fixture(autouse=True)
def _forget_reference_lists():
    """Each test starts with its own unions and lists: a rolled-back test's
    rows must not linger in the dropdowns of the next (accounts.refcache)."""
    refcache.forget()
    yield
    refcache.forget()


@pytest.fixture(autouse=True)
def _reset_clock():
    """Tests that move the clock never leak their day into the next test."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def seeded_lists(transactional_db):
    """The lists the migrations seed (tiers, causes, file categories, income
    sources, claim categories), put back for tests on a transactional
    database: another such test may have truncated the tables, and the rows
    the migrations seeded with them."""
    seed = importlib.import_module("cases.migrations.0002_seed_default_tiers_and_causes")
    seed.seed_defaults(django_apps, None)
    categories = "cases.migrations.0008_seed_categories_backfill_helper_roster"
    importlib.import_module(categories).seed_categories(django_apps, None)
    IncomeSource = django_apps.get_model("funds", "IncomeSource")
    sources = importlib.import_module("funds.migrations.0005_seed_sources_backfill_receipts")
    for order, (code, name) in enumerate(sources.DEFAULT_SOURCES, start=1):
        IncomeSource.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    claims = "programs.migrations.0007_fill_coop_roster_and_claim_categories"
    importlib.import_module(claims).seed_categories(django_apps)
    for english in (
        "cases.migrations.0011_english_names_of_defaults",
        "funds.migrations.0008_english_names_of_defaults",
        "programs.migrations.0010_english_names_of_defaults",
    ):
        importlib.import_module(english).name_defaults(django_apps)


@pytest.fixture
def standard(units):
    """A minimum living standard of 800 yuan a month, city-wide since 2020."""
    return LocalStandard.objects.create(
        unit=units["city"], amount=Decimal("800"), effective_from=dt.date(2020, 1, 1)
    )


@pytest.fixture
def units(db):
    city = make_unit("410100", "郑州市总工会", kind="city")
    county_a = make_unit("410105", "金水区总工会", parent=city)
    county_b = make_unit("410103", "二七区总工会", parent=city)
    a1 = make_unit("410105001", "郑州纺织厂工会", parent=county_a, kind="grassroots")
    return {"city": city, "a": county_a, "b": county_b, "a1": a1}


@pytest.fixture
def alice(units):
    return make_user("alice", units["a"], "caseworker", full_name="张丽")


@pytest.fixture
def bob(units):
    return make_user("bob", units["b"], "caseworker", full_name="刘波")


@pytest.fixture
def carol(units):
    return make_user("carol", units["a"], "chair", full_name="陈红")


@pytest.fixture
def dave(units):
    return make_user("dave", units["a"], "finance", full_name="杜伟")


@pytest.fixture
def erin(units):
    return make_user("erin", units["a"], "auditor", full_name="鄂宁")


@pytest.fixture
def frank(units):
    return make_user("frank", units["city"], "admin", full_name="方正")


@pytest.fixture
def fay(units):
    """Finance officer of county B: the outsider for county A's payments."""
    return make_user("fay", units["b"], "finance", full_name="费雪")


@pytest.fixture
def ben(units):
    """Chair of county B: the outsider for a chair's decisions in county A."""
    return make_user("ben", units["b"], "chair", full_name="贲明")


@pytest.fixture
def household(units):
    return make_household(units["a1"], name="王秀兰")


@pytest.fixture
def other_household(units):
    return make_household(units["b"], name="赵铁柱")


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def as_user(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


__all__ = ["Membership", "Unit", "login"]


@pytest.fixture(autouse=True)
def _force_login_gives_the_second_factor(monkeypatch):
    """force_login signs a chair, finance officer or administrator in fully,
    second factor included (tests/otp_support.py)."""
    from django.test import Client

    from tests.otp_support import force_login_with_second_factor

    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)
