"""Program configuration: the database keeps it consistent."""

from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases.models import Tier
from programs.models import ApprovalThreshold, Program, StandardAmount


def program(units, **kw):
    fields = {"unit": units["city"], "name": "节日送温暖", "category": "festival", "kind": "cash"}
    fields.update(kw)
    return Program.objects.create(**fields)


@pytest.mark.django_db
def test_a_fixed_cap_needs_an_amount(units):
    with pytest.raises(IntegrityError), transaction.atomic():
        program(units, cap_rule="fixed")
    assert program(units, cap_rule="fixed", cap_amount=D("3000")).cap_amount == D("3000")


@pytest.mark.django_db
def test_an_application_window_has_both_ends_or_none(units):
    with pytest.raises(IntegrityError), transaction.atomic():
        program(units, window_start="08-01")
    assert program(units, name="金秋助学", window_start="08-01", window_end="09-30").pk


@pytest.mark.django_db
def test_one_standard_amount_per_tier_and_one_threshold_per_level(units):
    p = program(units)
    tier = Tier.objects.get(name="特困")
    StandardAmount.objects.create(program=p, tier=tier, amount=D("1000"))
    with pytest.raises(IntegrityError), transaction.atomic():
        StandardAmount.objects.create(program=p, tier=tier, amount=D("800"))
    ApprovalThreshold.objects.create(program=p, unit_kind="grassroots", amount=D("2000"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalThreshold.objects.create(program=p, unit_kind="grassroots", amount=D("5000"))


@pytest.mark.django_db
def test_an_administrator_configures_programs_in_the_admin(client, units):
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    client.force_login(root)
    program(units)
    assert "节日送温暖" in client.get(reverse("admin:programs_program_changelist")).content.decode()
    add = client.get(reverse("admin:programs_program_add"))
    assert add.status_code == 200 and "补助标准" in add.content.decode()
