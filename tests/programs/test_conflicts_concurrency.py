"""回避 under real row locks (PostgreSQL only): a conflicted chair and another
chair of the same union click 同意 on one application at the same moment."""

from decimal import Decimal as D

import pytest

from cases.models import Tier
from cases.services.kin import kin_relative_add
from programs.models import Application, ConflictFlag, Decision, Program, StandardAmount
from programs.models import ApplicationStatus as S
from programs.services import applications
from programs.services.conflicts import ConflictOfInterest
from tests.builders import make_user
from tests.programs.conftest import filed
from tests.race import on_postgres
from tests.race import race as _race


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_conflicted_chair_is_refused_and_one_decision_stands(units, alice, carol):
    tier, _ = Tier.objects.get_or_create(name="特困", defaults={"national_category": "deep"})
    deputy = make_user("dora", units["a"], "chair", full_name="邓蓉")
    household = filed(units["a"], tier=tier)
    program = Program.objects.create(
        unit=units["city"], name="送温暖", category="festival", kind="cash"
    )
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    app = applications.application_draft(actor=alice, household=household, program=program)
    kin_relative_add(actor=carol, relation="spouse", name="王芳", id_number=household.id_number)
    chairs = [carol, deputy] * 4
    refused = _race(
        len(chairs),
        lambda i: applications.application_decide(
            actor=chairs[i], application=Application(pk=app.pk), approve=True, note="同意"
        ),
    )
    assert len(refused) == len(chairs) - 1
    assert sum(isinstance(e, ConflictOfInterest) for e in refused) == 4  # every carol
    decision = Decision.objects.get(application=app)
    assert decision.actor == deputy
    app.refresh_from_db()
    assert app.status == S.APPROVED
    flag = ConflictFlag.objects.get()  # four refusals, one flag, committed
    assert (flag.user, flag.step, flag.refused) == (carol, "approve", True)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_flag_commits_while_another_chair_holds_the_application(units, alice, carol):
    """The deadlock the race above once hit, made certain: chair B holds the
    application's lock and then needs the chain heads, while the refused chair's
    flag holds the heads and, at commit, checks its foreign key to the
    application. Services lock FOR NO KEY UPDATE, which that check does not
    wait for, so both commit."""
    import threading

    from django.db import connections, transaction

    from accounts.audit import audit_record
    from programs.services.applications import application_lock
    from programs.services.conflicts import _flag, household_match, kin_of

    household = filed(units["a"])
    program = Program.objects.create(unit=units["city"], name="助学", category="study", kind="cash")
    app = applications.application_draft(
        actor=alice, household=household, program=program, amount="500"
    )
    kin_relative_add(actor=carol, relation="spouse", name="王芳", id_number=household.id_number)
    matches = household_match(kin_of(carol), household)
    locked, flagged, errors = threading.Event(), threading.Event(), []

    def holder():
        try:
            with transaction.atomic():
                application_lock(Application(pk=app.pk))
                locked.set()
                flagged.wait(timeout=5)
                audit_record(actor=alice, action="application.view", obj=household)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def flagger():
        try:
            locked.wait(timeout=5)
            with transaction.atomic():
                audit_record(actor=carol, action="conflict.refuse", obj=household)
                _flag(actor=carol, step="approve", matches=matches, unit=units["a"],
                      application=app)  # fmt: skip
            flagged.set()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            flagged.set()
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=flagger)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors]
    assert ConflictFlag.objects.filter(application=app, user=carol).exists()
