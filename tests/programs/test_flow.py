"""The money path end to end in services: draft, approve, pay, reverse."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from funds.services import balance_of
from programs.models import ApplicationStatus as S
from programs.services import applications, payments
from tests.programs.conftest import filed


@pytest.mark.django_db
def test_draft_approve_pay_and_reverse(alice, carol, dave, household, festival, fund):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    assert (app.status, app.amount, app.needs_parent) == (S.PENDING, D("1000"), False)
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.APPROVED
    payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    again = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    assert again.pk == payment.pk
    assert balance_of(fund) == D("99000.00")
    payments.aid_payment_reverse(actor=dave, payment=payment, reason="账号填错")
    app.refresh_from_db()
    assert app.status == S.APPROVED
    assert balance_of(fund) == D("100000.00")
    second = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    assert second.pk != payment.pk
    assert balance_of(fund) == D("99000.00")


@pytest.mark.django_db
def test_above_the_limit_the_parent_chair_must_approve(alice, carol, cathy, household, festival):
    app = applications.application_draft(
        actor=alice, household=household, program=festival, amount="2500", amount_reason="重病"
    )
    assert app.needs_parent
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.PENDING_PARENT
    with pytest.raises(PermissionDenied):
        applications.application_decide(actor=carol, application=app, approve=True)
    applications.application_decide(actor=cathy, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.APPROVED
    assert [d.level for d in app.decisions.all()] == ["unit", "parent"]


@pytest.mark.django_db
def test_drafter_cannot_approve_and_approver_cannot_pay(carol, units, festival, fund):
    household = filed(units["a"])
    app = applications.application_draft(actor=carol, household=household, program=festival)
    with pytest.raises(PermissionDenied):
        applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    assert app.status == S.PENDING


@pytest.mark.django_db
def test_a_changed_amount_needs_a_reason(alice, household, festival):
    with pytest.raises(ValidationError) as err:
        applications.application_draft(
            actor=alice, household=household, program=festival, amount="1200"
        )
    assert "amount_reason" in err.value.error_dict


@pytest.mark.django_db
def test_every_status_change_goes_through_the_table(alice, carol, household, festival):
    assert set(applications.TRANSITIONS) == set(S.values)
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=carol, application=app, approve=False, note="不符合条件")
    app.refresh_from_db()
    with pytest.raises(ValidationError, match="不能变为"):
        applications.application_move(
            actor=carol, application=app, to=S.APPROVED, action="application.approve"
        )
    app.refresh_from_db()
    assert app.status == S.REJECTED
    trail = AuditEvent.objects.filter(action="application.reject").get()
    assert trail.changes["status"] == [S.PENDING, S.REJECTED]
