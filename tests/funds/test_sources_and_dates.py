"""Every receipt names its source and its payer; payments and receipts carry
the date they happened, back-dated only within the union's window and with a
reason (funds.services.check_value_date, the one rule the forms, the
services and the screens use)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from funds import services
from funds.models import EntryKind, FinanceRules, IncomeSource, LedgerEntry
from programs.models import AidPayment, PaymentBatch
from tests.programs.conftest import filed
from tests.programs.test_payments import approve

TODAY = dt.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _june(db):
    clock.reset()
    clock.advance(TODAY - clock.today())


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def post_receipt(client, fund, **change):
    source = IncomeSource.objects.get(code="higher_grant")
    data = {
        "amount": "800", "source": source.pk, "payer_kind": "unit", "payer": "郑州市总工会",
        "occurred_on": TODAY.isoformat(), "date_reason": "", "memo": "上级拨款",
        "reference": "receipt:test", **change,
    }  # fmt: skip
    return client.post(reverse("funds:receipt_post", args=[fund.pk]), data)


# -- Sources and payers ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_receipt_from_the_form_keeps_its_source_payer_and_value_date(as_user, dave, fund):
    response = post_receipt(
        as_user(dave), fund, occurred_on=days_ago(3).isoformat(), date_reason="银行回单迟到"
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = LedgerEntry.objects.get(reference="receipt:test")
    assert (entry.source.code, entry.payer_kind, entry.payer) == (
        "higher_grant", "unit", "郑州市总工会",
    )  # fmt: skip
    assert (entry.occurred_on, entry.date_reason) == (days_ago(3), "银行回单迟到")
    page = as_user(dave).get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert "资金来源：上级拨款 · 缴款方：郑州市总工会（单位）" in page
    assert "补录理由：银行回单迟到" in page
    assert AuditEvent.objects.filter(action="ledger.receipt").count() == 2


@pytest.mark.django_db
def test_the_receipt_form_offers_only_active_sources(as_user, dave, fund):
    IncomeSource.objects.filter(code="enterprise").update(is_active=False)
    form = as_user(dave).get(reverse("funds:receipt_post", args=[fund.pk])).context["form"]
    names = [s.name for s in form.fields["source"].queryset]
    assert "企业注资" not in names and names[:2] == ["行政划拨", "上级拨款"]
    stale = IncomeSource.objects.get(code="enterprise")
    response = post_receipt(as_user(dave), fund, source=stale.pk)
    assert "资金来源：所选资金来源不存在或已停用" in response.content.decode()
    with pytest.raises(ValidationError) as info:
        services.receipt_post(
            actor=dave, fund=fund, amount="1", memo="x", source=stale, payer_kind="unit",
            payer="某企业",
        )  # fmt: skip
    assert "已停用" in info.value.message_dict["source"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": ""}, "资金来源：请选择资金来源。"),
        ({"payer": ""}, "缴款方：请填写缴款方（单位名称或个人姓名）。"),
        ({"payer": "长" * 101}, "缴款方："),
        ({"payer_kind": "robot"}, "缴款方类型："),
        ({"occurred_on": ""}, "到账日期：请填写到账日期。"),
        ({"occurred_on": "2026-13-01"}, "到账日期："),
        ({"occurred_on": "2026-06-16"}, "到账日期：到账日期不能晚于今天。"),
        ({"occurred_on": "2026-06-01"}, "补录理由：到账日期早于今天，须填写补录理由。"),
        (
            {"occurred_on": "2026-04-01", "date_reason": "补录"},
            "到账日期：到账日期 2026-04-01 超出可补录期限",
        ),
        ({"date_reason": "理" * 201, "occurred_on": "2026-06-01"}, "补录理由："),
    ],
)
def test_bad_receipt_input_names_the_field_and_saves_nothing(as_user, dave, fund, change, message):
    before = LedgerEntry.objects.count()
    response = post_receipt(as_user(dave), fund, **change)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert LedgerEntry.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": None}, "source"),
        ({"source": "lottery"}, "source"),
        ({"payer_kind": ""}, "payer_kind"),
        ({"payer": "  "}, "payer"),
    ],
)
def test_the_service_refuses_a_receipt_without_source_or_payer(dave, fund, change, field):
    fields = {"source": "donation", "payer_kind": "person", "payer": "张先生", **change}
    before = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as info:
        services.receipt_post(actor=dave, fund=fund, amount="10", memo="捐款", **fields)
    assert field in info.value.message_dict
    assert LedgerEntry.objects.count() == before


@pytest.mark.django_db
def test_the_database_refuses_a_receipt_without_a_source(dave, fund):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            fund=fund, kind=EntryKind.RECEIPT, direction=1, amount=D("1"), occurred_on=TODAY,
            memo="无来源", actor=dave,
        )  # fmt: skip


# -- The back-dating window ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_window_is_the_nearest_unions_rule_else_sixty_days(units):
    assert services.value_date_window(units["a1"]).earliest == days_ago(60)
    FinanceRules.objects.create(unit=units["city"], backdate_days=10)
    assert services.backdate_days(units["a1"]) == 10  # the city's, two levels up
    FinanceRules.objects.create(unit=units["a"], backdate_days=30)
    window = services.value_date_window(units["a1"])
    assert (window.days, window.earliest, window.latest) == (30, days_ago(30), TODAY)
    assert services.backdate_days(units["b"]) == 10


@pytest.mark.django_db
def test_back_dating_inside_and_outside_the_window(dave, units, fund):
    FinanceRules.objects.create(unit=units["a"], backdate_days=20)
    receipt = {"source": "other", "payer_kind": "unit", "payer": "区总工会", "memo": "拨款"}
    entry = services.receipt_post(
        actor=dave, fund=fund, amount="5", occurred_on=days_ago(20), date_reason="漏记", **receipt
    )
    assert entry.occurred_on == days_ago(20)
    with pytest.raises(ValidationError) as info:
        services.receipt_post(
            actor=dave, fund=fund, amount="5", occurred_on=days_ago(21), date_reason="漏记",
            **receipt,
        )  # fmt: skip
    assert "最近 20 天" in info.value.message_dict["occurred_on"][0]
    with pytest.raises(ValidationError) as info:
        services.payment_post(actor=dave, fund=fund, amount="5", memo="x", occurred_on=days_ago(1))
    assert "须填写补录理由" in info.value.message_dict["date_reason"][0]
    with pytest.raises(ValidationError) as info:
        services.payment_post(
            actor=dave, fund=fund, amount="5", memo="x", occurred_on=TODAY + dt.timedelta(days=1)
        )
    assert "不能晚于今天" in info.value.message_dict["occurred_on"][0]
    # Older dates only through the history import, which names its own reason.
    old = services.payment_post(
        actor=dave, fund=fund, amount="5", memo="2019 年发放", occurred_on=dt.date(2019, 1, 20),
        date_reason="发放记录迁移", allow_any_past_date=True,
    )  # fmt: skip
    assert (old.occurred_on, old.date_reason) == (dt.date(2019, 1, 20), "发放记录迁移")


# -- The pay forms take the paid-on date ------------------------------------------------------


@pytest.mark.django_db
def test_a_single_payment_back_dated_with_a_reason(
    as_user, alice, carol, dave, household, festival, fund
):
    app = approve(household, festival, drafter=alice, approver=carol)
    url = reverse("programs:aid_pay", args=[app.pk])
    form = as_user(dave).get(url).context["form"]
    assert form["paid_on"].value() == TODAY and "2026-04-16" in form.fields["paid_on"].help_text
    data = {"application": app.pk, "fund": fund.pk, "method": "bank",
            "paid_on": days_ago(5).isoformat(), "date_reason": "银行回单迟到"}  # fmt: skip
    response = as_user(dave).post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    payment = AidPayment.objects.get(application=app)
    assert payment.paid_on == payment.entry.occurred_on == days_ago(5)
    assert payment.entry.date_reason == "银行回单迟到"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"paid_on": ""}, "发放日期：请填写发放日期。"),
        ({"paid_on": "2026-06-16"}, "发放日期：发放日期不能晚于今天。"),
        ({"paid_on": "2026-06-10"}, "补录理由：发放日期早于今天，须填写补录理由。"),
        (
            {"paid_on": "2026-01-10", "date_reason": "补录"},
            "发放日期：发放日期 2026-01-10 超出可补录期限",
        ),
    ],
)
def test_bad_paid_on_dates_are_named_on_both_pay_forms(
    as_user,
    alice,
    carol,
    dave,
    household,
    festival,
    fund,
    change,
    message,
):
    app = approve(household, festival, drafter=alice, approver=carol)
    data = {"application": app.pk, "fund": fund.pk, "method": "bank",
            "paid_on": TODAY.isoformat(), **change}  # fmt: skip
    before = (AidPayment.objects.count(), LedgerEntry.objects.count())
    single = as_user(dave).post(reverse("programs:aid_pay", args=[app.pk]), data)
    assert single.status_code == 200 and message in single.content.decode()
    batch = as_user(dave).post(
        reverse("programs:payment_batch_create"), {**data, "applications": [app.pk]}
    )
    assert batch.status_code == 200 and message in batch.content.decode()
    assert (AidPayment.objects.count(), LedgerEntry.objects.count()) == before
    assert not PaymentBatch.objects.exists()


@pytest.mark.django_db
def test_a_batch_pays_every_line_on_its_paid_on_date(
    as_user, alice, carol, dave, units, festival, fund
):
    apps = [
        approve(filed(units["a"], name=n), festival, drafter=alice, approver=carol)
        for n in ("甲户", "乙户")
    ]
    data = {"applications": [a.pk for a in apps], "fund": fund.pk, "method": "bank",
            "paid_on": days_ago(2).isoformat(), "date_reason": "周末到账"}  # fmt: skip
    response = as_user(dave).post(reverse("programs:payment_batch_create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    paid = AidPayment.objects.filter(application__in=apps)
    assert {(p.paid_on, p.entry.occurred_on, p.entry.date_reason) for p in paid} == {
        (days_ago(2), days_ago(2), "周末到账")
    }


@pytest.mark.django_db
def test_the_admin_edits_the_source_list_but_never_deletes_a_source_in_use(rf, dave, fund):
    from django.contrib import admin

    from accounts.models import User

    admin_user = User.objects.create_superuser(username="root", password="x")
    request = rf.get("/")
    request.user = admin_user
    model_admin = admin.site._registry[IncomeSource]
    assert model_admin.has_change_permission(request) and model_admin.has_add_permission(request)
    new = IncomeSource.objects.create(name="福彩公益金", sort_order=20)
    assert model_admin.has_delete_permission(request, new)
    in_use = IncomeSource.objects.get(code="other")  # the fund's first receipt names it
    assert in_use.entries.exists() and not model_admin.has_delete_permission(request, in_use)
    assert not model_admin.has_delete_permission(request, IncomeSource.objects.get(code="premium"))
    # A ledger stays read-only in the admin.
    assert not admin.site._registry[LedgerEntry].has_change_permission(request)
