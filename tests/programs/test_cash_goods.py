"""One handout of cash and goods (现金加实物): the application takes the cash
part, what the goods are and their value, and stores the whole as the
amount; batches, payments, the ledger, the aid notice and the sign-off sheet
show one line with both parts and totals for each. Caps count the whole."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from programs.models import (
    AidPayment,
    Application,
    ApprovalThreshold,
    Batch,
    Program,
    StandardAmount,
)
from programs.services import applications as apps
from programs.services import payments
from tests.programs.conftest import filed
from tests.reports.documents_world import compact, pdf_text, sheet_rows

RICE = "大米10公斤、食用油5升"


@pytest.fixture
def warmth(units, fund, tier):
    """送温暖 in cash and goods: a 1000-yuan standard for the first tier."""
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖（现金加实物）", category="festival", kind="cash_goods"
    )
    program.funds.add(fund)
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    ApprovalThreshold.objects.create(program=program, unit_kind="county", amount=D("2000"))
    return program


def _apply(client, household, program, **data):
    return client.post(
        reverse("programs:application_create", args=[household.pk]),
        {"program": program.pk, **data},
    )


@pytest.mark.django_db
def test_cash_and_goods_application_stores_both_parts_and_shows_them(
    as_user, alice, household, warmth
):
    client = as_user(alice)
    form = client.get(
        reverse("programs:application_create", args=[household.pk]), {"program": warmth.pk}
    ).content.decode()
    assert 'name="cash"' in form and 'name="goods_value"' in form
    assert 'name="goods_description"' in form and 'name="amount"' not in form
    response = _apply(
        client, household, warmth, cash="600", goods_description=RICE, goods_value="400"
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert (application.amount, application.goods_value) == (D("1000.00"), D("400.00"))
    assert application.goods_description == RICE
    page = client.get(response["Location"]).content.decode()
    assert "600.00" in page and RICE in page and "400.00" in page and "1000.00" in page


@pytest.mark.django_db
def test_cash_left_empty_is_the_standard_less_the_goods(as_user, alice, household, warmth):
    client = as_user(alice)
    _apply(client, household, warmth, goods_description=RICE, goods_value="250")
    application = Application.objects.get()
    assert (application.amount, application.goods_value) == (D("1000.00"), D("250.00"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"goods_value": "-5", "goods_description": RICE}, "实物折价（元）：金额不能为负数。"),
        ({"goods_value": "abc", "goods_description": RICE}, "实物折价（元）：金额格式不正确。"),
        (
            {"goods_value": "1500", "goods_description": RICE},
            "实物折价（元）：实物折价 1500.00 元超过本次帮扶总额 1000.00 元。",
        ),
        ({"goods_value": "400"}, "实物内容：请填写发放的实物内容（品名、数量）。"),
        (
            {"cash": "x", "goods_value": "400", "goods_description": RICE},
            "现金金额（元）：金额格式不正确。",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_goods_value_names_the_field_and_saves_nothing(
    as_user, alice, household, warmth, data, message
):
    response = _apply(as_user(alice), household, warmth, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_goods_program_takes_the_goods_value_as_the_amount(as_user, alice, household, units, fund):
    program = Program.objects.create(
        unit=units["city"], name="慰问品发放", category="festival", kind="goods"
    )
    program.funds.add(fund)
    client = as_user(alice)
    _apply(client, household, program, goods_description="棉被2床", goods_value="300")
    application = Application.objects.get()
    assert (application.amount, application.goods_value) == (D("300.00"), D("300.00"))


@pytest.mark.django_db
def test_caps_count_the_whole_handout(alice, household, warmth):
    warmth.cap_rule = "fixed"
    warmth.cap_amount = D("1200")
    warmth.save()
    apps.application_draft(
        actor=alice, household=household, program=warmth, cash="600", goods_value="400",
        goods_description=RICE,
    )  # fmt: skip
    # 1000 used; another 300 of goods alone would pass a cash-only cap.
    with pytest.raises(ValidationError, match="1200"):
        apps.application_draft(
            actor=alice, household=household, program=warmth, cash="0", goods_value="300",
            goods_description=RICE, amount_reason="补发",
        )  # fmt: skip
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_batch_lines_carry_the_batch_goods(as_user, alice, units, warmth):
    filed(units["a"], name="甲户")
    filed(units["a"], name="乙户")
    client = as_user(alice)
    bad = client.post(
        reverse("programs:batch_create"),
        {"unit": units["a"].pk, "program": warmth.pk, "title": "春节送温暖", "goods_value": "-1",
         "goods_description": RICE},
    )  # fmt: skip
    assert "每户实物折价（元）：金额不能为负数。" in bad.content.decode()
    assert not Batch.objects.exists() and not Application.objects.exists()
    response = client.post(
        reverse("programs:batch_create"),
        {"unit": units["a"].pk, "program": warmth.pk, "title": "春节送温暖", "goods_value": "400",
         "goods_description": RICE},
    )  # fmt: skip
    batch = Batch.objects.get()
    assert response.status_code == 302
    lines = list(batch.lines.all())
    assert len(lines) == 2
    assert all((a.amount, a.goods_value, a.goods_description) == (1000, 400, RICE) for a in lines)
    page = client.get(response["Location"]).content.decode()
    assert f"现金 600.00 + {RICE}（400.00）" in page
    assert "2 户，2000.00 元" in page and "其中现金 1200.00 元，实物折价 800.00 元" in page
    # A line's goods above its amount is refused on the goods field.
    line = lines[0]
    amend = client.post(
        reverse("programs:batch_line_amend", args=[line.pk]),
        {"amount": "300", "amount_reason": "调整", "goods_value": ""},
        headers={"HX-Request": "true"},
    )
    assert (
        "实物折价（元）：实物折价 400.00 元超过本次帮扶总额 300.00 元。" in amend.content.decode()
    )
    line.refresh_from_db()
    assert line.amount == 1000


def _paid(alice, carol, dave, units, warmth, fund):
    """Three households: two cash-and-goods handouts and one all cash."""
    rows = [("甲户", "600", "400"), ("乙户", "700", "300"), ("丙户", "1000", "0")]
    paid = []
    for name, cash, goods in rows:
        household = filed(units["a"], name=name)
        application = apps.application_draft(
            actor=alice, household=household, program=warmth, cash=cash, goods_value=goods,
            goods_description=RICE if goods != "0" else "",
        )  # fmt: skip
        apps.application_decide(actor=carol, application=application, approve=True)
        application.refresh_from_db()
        paid.append(payments.aid_pay(actor=dave, application=application, fund=fund, method="bank"))
    return paid


@pytest.mark.django_db
def test_payment_copies_the_goods_and_the_ledger_shows_one_line_with_both_parts(
    as_user, alice, carol, dave, units, warmth, fund
):
    _paid(alice, carol, dave, units, warmth, fund)
    assert sorted(AidPayment.objects.values_list("goods_value", flat=True)) == [0, 300, 400]
    assert AidPayment.objects.filter(goods_description=RICE).count() == 2
    client = as_user(dave)
    url = reverse("reports:program_disbursements")
    xlsx = client.get(url, {"program": warmth.pk, "format": "xlsx"})
    _ws, rows = sheet_rows(xlsx.content)
    header = list(rows[2])
    col = {k: header.index(k) for k in ("现金", "实物内容", "实物折价", "发放金额", "户主姓名")}
    data = {r[col["户主姓名"]]: r for r in rows[3:] if isinstance(r[0], int)}
    one = data["甲户"]
    assert (one[col["现金"]], one[col["实物内容"]], one[col["实物折价"]], one[col["发放金额"]]) == (
        600, RICE, 400, 1000,
    )  # fmt: skip
    totals = next(r for r in rows if r[0] == "合计")
    for key in ("现金", "实物折价", "发放金额"):
        assert D(str(totals[col[key]])) == sum(D(str(r[col[key]])) for r in data.values())
    assert (totals[col["现金"]], totals[col["实物折价"]], totals[col["发放金额"]]) == (
        2300,
        700,
        3000,
    )
    text = compact(pdf_text(client.get(url, {"program": warmth.pk}).content))
    assert RICE in text and "2,300.00" in text and "700.00" in text and "3,000.00" in text


@pytest.mark.django_db
def test_aid_notice_and_signoff_show_both_parts_with_totals(
    as_user, alice, carol, dave, units, warmth, fund
):
    _paid(alice, carol, dave, units, warmth, fund)
    client = as_user(alice)
    xlsx = client.get(reverse("reports:aid_notice"), {"program": warmth.pk, "format": "xlsx"})
    _ws, rows = sheet_rows(xlsx.content)
    header = list(rows[2])
    assert header[-4:] == ["现金", "实物内容", "实物折价", "合计金额"]
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    totals = next(r for r in rows if r[0] == "合计")
    assert [D(str(totals[i])) for i in (7, 9, 10)] == [D("2300"), D("700"), D("3000")]
    assert all(D(str(r[7])) + D(str(r[9])) == D(str(r[10])) for r in data)
    text = compact(
        pdf_text(client.get(reverse("reports:aid_notice"), {"program": warmth.pk}).content)
    )
    assert RICE in text and "3,000.00" in text

    # The sheet signed before paying: approved, not yet paid.
    household = filed(units["a"], name="丁户")
    application = apps.application_draft(
        actor=alice, household=household, program=warmth, cash="500", goods_value="500",
        goods_description=RICE,
    )  # fmt: skip
    apps.application_decide(actor=carol, application=application, approve=True)
    sheet = as_user(dave).get(
        reverse("reports:signoff"), {"program": warmth.pk, "method": "cash", "format": "xlsx"}
    )
    _ws, rows = sheet_rows(sheet.content)
    line = next(r for r in rows[3:] if isinstance(r[0], int))
    assert (line[5], line[6], line[7], line[8]) == (500, RICE, 500, 1000)


@pytest.mark.django_db
def test_aid_notice_of_an_aid_batch(as_user, alice, carol, dave, units, warmth, fund):
    filed(units["a"], name="甲户")
    filed(units["a"], name="乙户")
    from programs.services import batches

    batch, _skipped = batches.batch_create(
        actor=alice, unit=units["a"], program=warmth, title="春节送温暖第一批",
        goods_description=RICE, goods_value="400",
    )  # fmt: skip
    batches.batch_submit(actor=alice, batch=batch)
    batches.batch_decide(actor=carol, batch=batch, approve=True)
    for line in batch.lines.all():
        payments.aid_pay(actor=dave, application=line, fund=fund, method="bank")
    xlsx = as_user(alice).get(
        reverse("reports:aid_notice"), {"aid_batch": batch.pk, "format": "xlsx"}
    )
    _ws, rows = sheet_rows(xlsx.content)
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    assert len(data) == 2 and all((r[7], r[8], r[9], r[10]) == (600, RICE, 400, 1000) for r in data)


@pytest.mark.django_db
def test_aid_notice_of_five_thousand_households_goes_to_background_jobs(
    as_user, alice, dave, units, warmth, fund
):
    """The aid notice is chosen by a filter (program, payment batch, aid
    batch, period): 5,000 households are one short query string."""
    from cases import clock
    from cases.models import Household
    from funds.models import EntryKind, LedgerEntry
    from funds.summary import paying_for
    from tests.cases.test_notice_scale import evaluated

    households = evaluated(units["a"], 5000)
    Household.objects.filter(pk__in=[h.pk for h in households]).update(status="filed")
    today = clock.today()
    applications = Application.objects.bulk_create(
        Application(
            program=warmth, household=h, year=today.year, status="paid", amount=D("1000"),
            goods_value=D("400"), goods_description=RICE, drafted_by=dave,
        )
        for h in households
    )  # fmt: skip
    entries = LedgerEntry.objects.bulk_create(
        paying_for(LedgerEntry(
            fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=D("1000"),
            occurred_on=today, memo="送温暖", household=h, actor=dave,
        ), warmth.pk)
        for h in households
    )  # fmt: skip
    AidPayment.objects.bulk_create(
        AidPayment(
            application=a, fund=fund, entry=e, method="bank", amount=D("1000"),
            goods_value=D("400"), goods_description=RICE, paid_on=today, paid_by=dave,
        )
        for a, e in zip(applications, entries, strict=True)
    )  # fmt: skip
    client = as_user(alice)
    for fmt in ("pdf", "xlsx"):
        response = client.get(reverse("reports:aid_notice"), {"program": warmth.pk, "format": fmt})
        assert response.status_code == 302 and "/jobs/" in response["Location"]
        job = client.get(response["Location"]).content.decode()
        assert "帮扶情况公示" in job


@pytest.mark.django_db
def test_a_cap_refusal_on_the_whole_is_shown_on_the_cash_and_goods_form(
    as_user, alice, household, warmth
):
    warmth.cap_rule = "fixed"
    warmth.cap_amount = D("800")
    warmth.save()
    response = _apply(
        as_user(alice), household, warmth, cash="500", goods_description=RICE, goods_value="400",
        amount_reason="加发实物",
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_amount_error"' in page and "申请金额（元）：" in page and "800" in page
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_an_aid_batch_of_another_union_is_refused(as_user, alice, bob, units, warmth):
    from programs.services import batches

    filed(units["a"], name="甲户")
    batch, _skipped = batches.batch_create(
        actor=alice, unit=units["a"], program=warmth, title="春节送温暖第一批"
    )
    page = as_user(bob).get(reverse("reports:aid_notice"), {"aid_batch": batch.pk})
    assert page.status_code == 200
    assert "帮扶批次：所选内容不存在或不在您的范围内。" in page.content.decode()
