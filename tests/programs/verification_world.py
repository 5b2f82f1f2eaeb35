"""Builders for the 回访核实 tests: approved applications paid in a batch,
and the verifiers who may (amy) or may not check them."""

from decimal import Decimal as D

from programs.models import Application, ApplicationStatus, PaymentBatch
from programs.services import payments
from tests.builders import make_user
from tests.programs.conftest import filed


def approved_many(program, unit, count, drafter, start=0, amount="1000"):
    """`count` approved applications of new filed households of `unit`,
    drafted by `drafter` and approved by nobody in particular (rows written
    directly, as the payment tests do)."""
    households = [filed(unit, name=f"户{start + i:03d}") for i in range(count)]
    Application.objects.bulk_create(
        Application(
            program=program,
            household=h,
            year=2026,
            status=ApplicationStatus.APPROVED,
            amount=D(amount),
            drafted_by=drafter,
        )
        for h in households
    )
    return list(Application.objects.filter(household__in=households).order_by("pk"))


def paid_batch(dave, fund, applications, title="春节送温暖第一批") -> PaymentBatch:
    return payments.payment_batch_create(
        actor=dave, fund=fund, method="bank", applications=applications, title=title
    )


def amy(unit):
    """A caseworker of county A who had no hand in any payment."""
    return make_user("amy", unit, "caseworker", full_name="艾敏")
