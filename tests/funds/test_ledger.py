"""The append-only ledger and its balances."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from funds import services
from funds.models import EntryKind, LedgerEntry, Restriction
from tests.builders import make_household, make_user
from tests.race import on_postgres
from tests.race import race as _race


@pytest.fixture
def treasurer(units):
    return make_user("tina", units["a"], "finance", full_name="田娜")


@pytest.fixture
def fund(treasurer, units):
    return services.fund_create(actor=treasurer, unit=units["a"], name="送温暖专项", year=2026)


def recomputed(fund):
    """The balance a clerk would get by adding up the ledger by hand."""
    return sum((e.amount * e.direction for e in LedgerEntry.objects.filter(fund=fund)), D("0"))


@pytest.mark.django_db
def test_receipts_and_payments_move_the_balance(fund, treasurer, units):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="10000.00",
        memo="区总工会拨款",
    )
    household = make_household(units["a1"])
    services.payment_post(
        actor=treasurer, fund=fund, amount="800", memo="送温暖", household=household
    )
    assert services.balance_of(fund) == D("9200.00") == recomputed(fund)


@pytest.mark.django_db
def test_overdraft_is_refused_and_changes_nothing(fund, treasurer):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="500",
        memo="拨款",
    )
    with pytest.raises(ValidationError, match=r"资金余额不足：可用 500\.00 元"):
        services.payment_post(actor=treasurer, fund=fund, amount="500.01", memo="超支")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0", "-5", "1.005", "abc", "NaN", "1e13"])
def test_bad_amounts_are_refused(fund, treasurer, amount):
    with pytest.raises(ValidationError) as info:
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=treasurer,
            fund=fund,
            amount=amount,
            memo="x",
        )
    assert "amount" in info.value.message_dict
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_reversal_restores_the_balance_and_keeps_both_rows(fund, treasurer):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    paid = services.payment_post(actor=treasurer, fund=fund, amount="300", memo="误付")
    reversal = services.entry_reverse(actor=treasurer, entry=paid, reason="重复发放")
    assert services.balance_of(fund) == D("1000.00") == recomputed(fund)
    assert LedgerEntry.objects.filter(pk__in=[paid.pk, reversal.pk]).count() == 2
    assert reversal.reverses_id == paid.pk and reversal.direction == 1
    with pytest.raises(ValidationError, match="已冲正"):
        services.entry_reverse(actor=treasurer, entry=paid, reason="再次")
    with pytest.raises(ValidationError, match="不能再次冲正"):
        services.entry_reverse(actor=treasurer, entry=reversal, reason="反冲")


@pytest.mark.django_db
def test_a_repeated_submit_returns_the_first_entry(fund, treasurer):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    first = services.payment_post(
        actor=treasurer, fund=fund, amount="100", memo="a", reference="pay-1"
    )
    again = services.payment_post(
        actor=treasurer, fund=fund, amount="100", memo="a", reference="pay-1"
    )
    assert first.pk == again.pk
    assert services.balance_of(fund) == D("900.00")


@pytest.mark.django_db
def test_a_fund_for_one_household_refuses_every_other_use(treasurer, units):
    sick_child = make_household(units["a1"], name="刘小宝")
    other = make_household(units["a1"], name="陈大山")
    fund = services.fund_create(
        actor=treasurer, unit=units["a"], name="为刘小宝募捐", year=2026,
        restriction=Restriction.HOUSEHOLD, restricted_household=sick_child,
    )  # fmt: skip
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="5000",
        memo="捐款",
        donor="爱心企业",
    )
    with pytest.raises(ValidationError, match="限定用于指定家庭"):
        services.payment_post(actor=treasurer, fund=fund, amount="100", memo="x", household=other)
    services.payment_post(
        actor=treasurer, fund=fund, amount="100", memo="医疗", household=sick_child
    )
    assert services.balance_of(fund) == D("4900.00")


@pytest.mark.django_db
def test_donations_keep_donor_and_campaign(fund, treasurer):
    entry = services.receipt_post(source="other", payer_kind="unit", payer="区总工会",
        actor=treasurer, fund=fund, amount="2000", memo="捐款", donor="张先生",
        campaign="情暖冬日", receipt_number="JZ-0001",
    )  # fmt: skip
    assert entry.kind == EntryKind.DONATION
    assert (entry.donor, entry.campaign, entry.receipt_number) == ("张先生", "情暖冬日", "JZ-0001")


@pytest.mark.django_db
def test_transfer_moves_money_between_funds(fund, treasurer, units):
    target = services.fund_create(actor=treasurer, unit=units["a"], name="金秋助学", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    services.transfer_post(actor=treasurer, source=fund, target=target, amount="400", memo="调剂")
    assert services.balance_of(fund) == D("600.00") and services.balance_of(target) == D("400.00")


@pytest.mark.django_db
def test_only_finance_of_the_unit_moves_money(fund, alice, units):
    with pytest.raises(PermissionDenied):
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=alice,
            fund=fund,
            amount="1",
            memo="x",
        )
    other_finance = make_user("owen", units["b"], "finance")
    with pytest.raises(PermissionDenied):
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=other_finance,
            fund=fund,
            amount="1",
            memo="x",
        )


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_a_ledger_row(fund, treasurer):
    entry = services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="100",
        memo="拨款",
    )
    for statement in (
        "UPDATE funds_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM funds_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == D("100.00")


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_payments_against_a_fund_for_ten_pay_exactly_ten(fund, treasurer, units):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    household = make_household(units["a1"])
    refused = _race(
        20,
        lambda i: services.payment_post(
            actor=treasurer, fund=fund, amount="100", memo=f"第{i}笔", household=household
        ),
    )
    assert len(refused) == 10
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 10
    assert services.balance_of(fund) == D("0.00") == recomputed(fund)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_submits_of_one_payment_pay_once(fund, treasurer):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    refused = _race(
        20,
        lambda i: services.payment_post(
            actor=treasurer, fund=fund, amount="100", memo="同一笔", reference="application-7"
        ),
    )
    assert not refused
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert services.balance_of(fund) == D("900.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"restriction": "anything"}, "restriction"),
        ({"name": "   "}, "name"),
        ({"name": "长" * 101}, "name"),
        ({"year": 1999}, "year"),
        ({"restriction": "purpose", "restricted_purpose": "用" * 201}, "restricted_purpose"),
    ],
)
def test_a_fund_with_bad_settings_is_refused(treasurer, units, change, field):
    fields = {"name": "新资金", "year": 2026, **change}
    with pytest.raises(ValidationError) as info:
        services.fund_create(actor=treasurer, unit=units["a"], **fields)
    assert field in info.value.message_dict
    assert not LedgerEntry.objects.exists() and not services.Fund.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("memo", "摘" * 201), ("donor", "捐" * 101), ("campaign", "活" * 101),
     ("receipt_number", "9" * 51)],
)  # fmt: skip
def test_text_too_long_for_its_column_is_refused_by_name(fund, treasurer, field, value):
    """PostgreSQL would refuse the row with a server error; the service says
    which field is too long instead."""
    data = {"memo": "拨款", field: value}
    with pytest.raises(ValidationError) as info:
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=treasurer,
            fund=fund,
            amount="1",
            **data,
        )
    assert field in info.value.message_dict
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_reversal_reason_must_fit_the_memo(fund, treasurer):
    entry = services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="10",
        memo="拨款",
    )
    with pytest.raises(ValidationError) as info:
        services.entry_reverse(actor=treasurer, entry=entry, reason="因" * 151)
    assert "reason" in info.value.message_dict
    reversal = services.entry_reverse(actor=treasurer, entry=entry, reason="因" * 150)
    assert reversal.memo == "冲正：" + "因" * 150


@pytest.mark.django_db
def test_reversing_a_transfer_reverses_both_legs(fund, treasurer, units):
    target = services.fund_create(actor=treasurer, unit=units["a1"], name="基层", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    out, into = services.transfer_post(
        actor=treasurer, source=fund, target=target, amount="300", memo="调剂"
    )
    services.entry_reverse(actor=treasurer, entry=out, reason="调错")
    assert services.balance_of(fund) == D("1000.00") == recomputed(fund)
    assert services.balance_of(target) == D("0.00") == recomputed(target)
    assert {e.reverses_id for e in LedgerEntry.objects.filter(kind=EntryKind.REVERSAL)} == {
        out.pk,
        into.pk,
    }
    with pytest.raises(ValidationError, match="已冲正"):
        services.entry_reverse(actor=treasurer, entry=into, reason="再冲")


@pytest.mark.django_db
def test_a_transfer_whose_money_was_spent_cannot_be_reversed(fund, treasurer, units):
    target = services.fund_create(actor=treasurer, unit=units["a"], name="金秋助学", year=2026)
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="1000",
        memo="拨款",
    )
    out, _into = services.transfer_post(
        actor=treasurer, source=fund, target=target, amount="300", memo="调剂"
    )
    services.payment_post(actor=treasurer, fund=target, amount="200", memo="已支出")
    with pytest.raises(ValidationError, match="金秋助学"):
        services.entry_reverse(actor=treasurer, entry=out, reason="调错")
    assert services.balance_of(fund) == D("700.00") and services.balance_of(target) == D("100.00")


@pytest.mark.django_db
def test_a_repeated_receipt_reference_needs_the_right_to_the_fund(fund, treasurer, units):
    services.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=treasurer,
        fund=fund,
        amount="5",
        memo="拨款",
        reference="r-1",
    )
    outsider = make_user("owen", units["b"], "finance")
    with pytest.raises(PermissionDenied):
        services.receipt_post(
            source="other",
            payer_kind="unit",
            payer="区总工会",
            actor=outsider,
            fund=fund,
            amount="5",
            memo="拨款",
            reference="r-1",
        )
