"""The documents as a person gets them: each PDF read back with pypdf (title,
totals, capitals, page count, embedded fonts, rare characters), each
workbook read back with openpyxl (frozen header, formats, a totals row that
is the sum of the rows and of the ledger)."""

import re
from decimal import Decimal as D

import pytest
from django.db.models import Sum
from django.urls import reverse

from accounts.masking import mask_id_number
from accounts.models import AuditEvent
from funds.models import EntryKind, LedgerEntry
from funds.services import balance_of
from reports.amounts import rmb_upper
from reports.generators import payments as payments_generator
from tests.race import on_postgres, race
from tests.reports.documents_world import (
    RARE_NAMES,
    TODAY,
    build_world,
    bulk_payments,
    compact,
    fonts_embedded,
    pdf_pages,
    pdf_text,
    sheet_rows,
)


@pytest.fixture
def world(units, alice, carol, dave):
    return build_world(units, alice, carol, dave)


def _get(client, name, *args, **query):
    response = client.get(reverse(f"reports:{name}", args=args), query)
    assert response.status_code == 200, response.content[:2000]
    return response


def _check_pdf(content, title):
    """What every PDF must carry: its title, its number, page X of Y on every
    page, the generated time, and fonts embedded."""
    reader, pages = pdf_pages(content)
    first = compact(pages[0])
    assert compact(title) in first
    assert "编号" in first and "生成时间" in first
    for number, text in enumerate(pages, 1):
        assert f"第{number}页/共{len(pages)}页" in compact(text)
    assert fonts_embedded(reader)
    return reader, "\n".join(pages)


def _ledger_paid():
    """What the ledger says aid payments paid and reversals gave back."""
    paid = LedgerEntry.objects.filter(aid_payment__isnull=False).aggregate(s=Sum("amount"))["s"]
    back = LedgerEntry.objects.filter(reversed_aid_payment__isnull=False).aggregate(
        s=Sum("amount")
    )["s"]
    return D(paid or 0), D(back or 0)


# -- 家庭档案表 ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_household_card_in_full_for_the_caseworker(world, alice, as_user):
    household = world.households[0]
    response = _get(as_user(alice), "household_card", household.pk)
    assert response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"]
    _reader, text = _check_pdf(response.content, "困难职工家庭档案表")
    flat = compact(text)
    assert household.name in flat  # 王堃, intact
    assert household.id_number in flat
    assert household.file_number in flat
    assert "因病" in flat and "重大疾病" in flat
    assert "1,000.00" in flat and "壹仟元整" in flat  # received in 2026
    for label in ("户主（签字）", "工会主席（签字）", "盖章处"):
        assert label in flat
    event = AuditEvent.objects.get(action="export.household_card")
    assert (event.actor, event.object_id) == (alice, str(household.pk))


@pytest.mark.django_db
def test_household_card_is_masked_for_an_auditor_without_the_grant(world, erin, as_user):
    household = world.households[0]
    text = compact(pdf_text(_get(as_user(erin), "household_card", household.pk).content))
    assert household.name in text
    assert household.id_number not in text
    assert mask_id_number(household.id_number) in text
    assert "重大疾病" not in text and "胶质母细胞瘤" not in text


@pytest.mark.django_db
def test_rare_characters_come_out_intact(world, alice, as_user):
    for household in world.households:
        text = compact(pdf_text(_get(as_user(alice), "household_card", household.pk).content))
        assert household.name in text, household.name
    text = compact(pdf_text(_get(as_user(alice), "intake_notice", world.notice.pk).content))
    for name in RARE_NAMES:
        assert name in text


# -- 帮扶审批表 ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approval_form_shows_amount_trail_and_payment(world, carol, as_user):
    application = world.applications[0]
    response = _get(as_user(carol), "approval_form", application.pk)
    _reader, text = _check_pdf(response.content, "帮扶资金审批表")
    flat = compact(text)
    assert "2026年春节送温暖" in flat and world.households[0].name in flat
    assert "¥1,000.00" in flat and "壹仟元整" in flat
    assert "本级工会" in flat and "同意" in flat and "陈红" in flat  # carol decided
    assert "送温暖专项" in flat and "已发放" in flat
    assert "主席（签字）" in flat and "盖章处" in flat


@pytest.mark.django_db
def test_approval_form_of_a_reversed_payment_says_so(world, carol, as_user):
    application = world.reversed.application
    flat = compact(pdf_text(_get(as_user(carol), "approval_form", application.pk).content))
    assert "已冲正" in flat and "账号填错" in flat


# -- 发放台账 --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_fund_ledger_pdf_totals_agree_with_the_ledger(world, dave, as_user):
    response = _get(as_user(dave), "fund_disbursements", world.fund.pk)
    _reader, text = _check_pdf(response.content, "帮扶资金发放台账")
    flat = compact(text)
    paid, back = _ledger_paid()
    assert (paid, back) == (D("4000.00"), D("1000.00"))
    assert "4,000.00" in flat and "3,000.00" in flat  # paid, and net of the reversal
    assert rmb_upper(paid - back) in flat  # 叁仟元整
    assert "共4笔，其中已冲正1笔" in flat
    for name in RARE_NAMES:
        assert name in flat  # dave sees the names in full
    assert mask_id_number(world.households[0].id_number) in flat
    assert world.households[0].id_number not in flat


@pytest.mark.django_db
def test_fund_ledger_workbook(world, dave, as_user):
    response = _get(as_user(dave), "fund_disbursements", world.fund.pk, format="xlsx")
    assert "attachment" in response["Content-Disposition"]
    ws, rows = sheet_rows(response.content)
    assert rows[0][0] == "帮扶资金发放台账"
    assert ws.freeze_panes == "A4"
    header = list(rows[2])
    assert header[:4] == ["序号", "发放日期", "户主姓名", "身份证号"]
    col = {name: header.index(name) for name in ("发放金额", "冲正金额", "实发金额", "身份证号")}
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    assert len(data) == 4
    totals = next(r for r in rows if r[0] == "合计")
    paid, back = _ledger_paid()
    for key, expected in (("发放金额", paid), ("冲正金额", back), ("实发金额", paid - back)):
        column = col[key]
        assert D(str(totals[column])) == sum(D(str(r[column] or 0)) for r in data) == expected
    reversed_row = next(r for r in data if r[col["冲正金额"]])
    assert D(str(reversed_row[col["实发金额"]])) == 0
    # Money formatted as money, IDs kept as text and masked.
    cells = next(ws.iter_rows(min_row=4, max_row=4))
    assert cells[col["发放金额"]].number_format == "#,##0.00"
    assert cells[col["身份证号"]].number_format == "@"
    assert cells[col["身份证号"]].value == mask_id_number(world.households[0].id_number)
    assert ws.column_dimensions["D"].width > ws.column_dimensions["A"].width
    assert totals[0] == "合计" and ws.cell(row=rows.index(totals) + 1, column=1).font.b
    assert any(r[0] == f"实发金额合计（大写）：{rmb_upper(paid - back)}" for r in rows)
    assert AuditEvent.objects.filter(action="export.fund_disbursements").count() == 1


@pytest.mark.django_db
def test_fund_ledger_for_a_period(world, dave, as_user):
    before = TODAY.replace(day=1).isoformat()
    response = _get(
        as_user(dave), "fund_disbursements", world.fund.pk, date_to=before, format="xlsx"
    )
    _ws, rows = sheet_rows(response.content)
    assert not [r for r in rows[3:] if isinstance(r[0], int)]


@pytest.mark.django_db
def test_a_wrong_period_is_explained(world, dave, as_user):
    response = _get(
        as_user(dave), "fund_disbursements", world.fund.pk, date_from="2026-03-10",
        date_to="2026-03-01",
    )  # fmt: skip
    assert "截止日期不能早于起始日期" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="export.").exists()


@pytest.mark.django_db
def test_an_unknown_format_is_not_found(world, dave, as_user):
    url = reverse("reports:fund_disbursements", args=[world.fund.pk])
    assert as_user(dave).get(url, {"format": "docx"}).status_code == 404
    url = reverse("reports:household_card", args=[world.households[0].pk])
    assert as_user(dave).get(url, {"format": "xlsx"}).status_code == 404


@pytest.mark.django_db
def test_program_ledger_asks_for_a_program_then_lists_only_my_funds(
    world, dave, fay, units, as_user
):
    client = as_user(dave)
    page = client.get(reverse("reports:program_disbursements")).content.decode()
    assert 'id="document-options"' in page and "2026年春节送温暖" in page
    response = _get(client, "program_disbursements", program=world.program.pk, format="xlsx")
    _ws, rows = sheet_rows(response.content)
    assert len([r for r in rows[3:] if isinstance(r[0], int)]) == 4
    # County B's finance officer reads the same city program: none of county A's rows.
    response = _get(as_user(fay), "program_disbursements", program=world.program.pk)
    assert "共0笔" in compact(pdf_text(response.content))


@pytest.mark.django_db
def test_ledger_costs_the_same_queries_for_few_and_many_rows(
    world, dave, as_user, django_assert_max_num_queries
):
    client = as_user(dave)
    url = reverse("reports:fund_disbursements", args=[world.fund.pk])
    with django_assert_max_num_queries(14):
        client.get(url, {"format": "xlsx"})
    more = build_many_payments(world, 60)
    assert more == 60
    with django_assert_max_num_queries(14):
        response = client.get(url, {"format": "xlsx"})
    _ws, rows = sheet_rows(response.content)
    assert len([r for r in rows[3:] if isinstance(r[0], int)]) == 64


def build_many_payments(world, count):
    return bulk_payments(world.fund, world.program, world.households[0], count)


# -- 签收单 ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_signoff_sheet(world, dave, as_user):
    response = _get(as_user(dave), "batch_signoff", world.batch.pk)
    _reader, text = _check_pdf(response.content, "帮扶现金发放签收单")
    flat = compact(text)
    for household in world.households[2:]:
        assert household.name in flat
        assert mask_id_number(household.id_number) in flat
        assert household.id_number not in flat
    assert "领取人签名" in flat and "2,000.00" in flat and "贰仟元整" in flat
    for label in ("经办人（签字）", "审核人（签字）", "发放人（签字）", "盖章处"):
        assert label in flat
    _ws, rows = sheet_rows(
        _get(as_user(dave), "batch_signoff", world.batch.pk, format="xlsx").content
    )
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    assert len(data) == 2 and all(r[-2] is None for r in data)  # empty signature cells
    # Cash, goods (none here) and the whole, each totalled.
    totals = next(r for r in rows if r[0] == "合计")
    assert (totals[5], totals[7], totals[8]) == (2000, 0, 2000)


@pytest.mark.django_db
def test_signoff_for_approved_applications_before_paying(world, dave, carol, as_user):
    # The reversed payment put its application back in the queue: approved,
    # waiting to be paid (again), this time in cash or goods.
    waiting = world.reversed.application
    client = as_user(dave)
    page = client.get(reverse("reports:signoff")).content.decode()
    assert 'id="document-options"' in page and "2026年春节送温暖" in page
    response = _get(client, "signoff", program=world.program.pk, method="goods")
    _reader, text = _check_pdf(response.content, "帮扶物资发放签收单")
    flat = compact(text)
    assert waiting.household.name in flat and "折合金额" in flat
    assert "共1人" in flat and "1,000.00" in flat and "壹仟元整" in flat
    response = _get(client, "signoff", application=[waiting.pk], method="cash")
    assert "帮扶现金发放签收单" in compact(pdf_text(response.content))
    paid = world.applications[0]
    page = client.get(reverse("reports:signoff"), {"application": [paid.pk]}).content.decode()
    assert "不是待发放的已批准申请" in page
    assert as_user(carol).get(reverse("reports:signoff")).status_code == 403


# -- 公示 ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intake_notice_pdf_and_workbook(world, alice, as_user):
    response = _get(as_user(alice), "intake_notice", world.notice.pk)
    _reader, text = _check_pdf(response.content, world.notice.title)
    flat = compact(text)
    assert "金水区总工会公示栏" in flat and "共4户" in flat and "公示单位（盖章）" in flat
    for household in world.households:
        assert household.name in flat and mask_id_number(household.id_number) in flat
    _ws, rows = sheet_rows(
        _get(as_user(alice), "intake_notice", world.notice.pk, format="xlsx").content
    )
    header = list(rows[2])
    assert header == ["序号", "所属工会", "户主姓名", "身份证号", "困难类别", "致困原因"]
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    assert {r[2] for r in data} == set(RARE_NAMES)
    assert {r[5] for r in data} == {"因病"}


@pytest.mark.django_db
def test_aid_notice_by_program_and_by_batch(world, alice, dave, as_user):
    client = as_user(alice)
    page = client.get(reverse("reports:aid_notice")).content.decode()
    assert 'id="document-options"' in page
    response = _get(client, "aid_notice", program=world.program.pk)
    _reader, text = _check_pdf(response.content, "2026年春节送温暖帮扶情况公示")
    flat = compact(text)
    # The reversed payment was not received: three people, 3,000 yuan.
    assert "共3人次" in flat and "3,000.00" in flat and "叁仟元整" in flat
    assert world.reversed.application.household.name not in flat
    response = _get(as_user(dave), "aid_notice", batch=world.batch.pk, format="xlsx")
    _ws, rows = sheet_rows(response.content)
    header = list(rows[2])
    assert header == [
        "序号",
        "所属工会",
        "姓名",
        "身份证号",
        "困难类别",
        "致困原因",
        "帮扶项目",
        "现金",
        "实物内容",
        "实物折价",
        "合计金额",
    ]
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    total = next(r for r in rows if r[0] == "合计")
    assert len(data) == 2 and D(str(total[10])) == sum(D(str(r[10])) for r in data) == D("2000")
    assert D(str(total[7])) == D("2000") and D(str(total[9])) == 0


@pytest.mark.django_db
def test_aid_notice_without_a_choice_says_what_is_missing(world, alice, as_user):
    page = as_user(alice).get(reverse("reports:aid_notice"), {"program": ""}).content.decode()
    assert "请选择帮扶项目、发放批次或帮扶批次" in page


# -- 资金收支明细 ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_fund_statement_reconciles(world, dave, as_user):
    fund = world.fund
    start = TODAY.replace(day=2).isoformat()
    response = _get(as_user(dave), "fund_statement", fund.pk, date_from=start)
    _reader, text = _check_pdf(response.content, "资金收支明细表")
    flat = compact(text)
    # Before the 2nd: the allocation. In the period: the donation (in), the
    # transfer out, four payments out and one reversal back in.
    opening, total_in, total_out = D("100000.00"), D("6000.50"), D("6000.00")
    closing = opening + total_in - total_out
    assert closing == balance_of(fund)
    expected = (
        f"期初余额{opening:,.2f}+本期收入{total_in:,.2f}−本期支出{total_out:,.2f}"
        f"=期末余额{closing:,.2f}"
    )
    assert expected in flat
    assert rmb_upper(closing) in flat and rmb_upper(total_in) in flat
    assert "郑州爱心企业" in flat and "情暖金水" in flat and "金秋助学专项" in flat

    response = _get(as_user(dave), "fund_statement", fund.pk, date_from=start, format="xlsx")
    _ws, rows = sheet_rows(response.content)
    header = list(rows[2])
    c_in, c_out, c_bal = header.index("收入"), header.index("支出"), header.index("余额")
    assert rows[3][0] == "期初余额" and D(str(rows[3][c_bal])) == opening
    data = [r for r in rows[4:] if r[0] not in ("本期合计", "期末余额") and r[1]]
    assert len(data) == LedgerEntry.objects.filter(fund=fund, occurred_on__gte=start).count() == 7
    totals = next(r for r in rows if r[0] == "本期合计")
    assert D(str(totals[c_in])) == sum(D(str(r[c_in] or 0)) for r in data) == total_in
    assert D(str(totals[c_out])) == sum(D(str(r[c_out] or 0)) for r in data) == total_out
    end = next(r for r in rows if r[0] == "期末余额")
    assert D(str(end[c_bal])) == D(str(data[-1][c_bal])) == closing
    kinds = {r[header.index("类型")] for r in data}
    assert {"捐款收入", "调出", "支出", "冲正"} <= kinds
    assert not LedgerEntry.objects.filter(fund=fund, kind=EntryKind.TRANSFER_IN).exists()


@pytest.mark.django_db
def test_fund_statement_masks_names_for_an_auditor(world, erin, as_user):
    flat = compact(pdf_text(_get(as_user(erin), "fund_statement", world.fund.pk).content))
    assert world.households[0].name not in flat
    assert world.households[0].name[0] + "*" in flat


# -- PDF/A -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_archive_option_makes_pdf_a_3b(world, alice, as_user):
    response = _get(as_user(alice), "household_card", world.households[0].pk, archive="1")
    reader, _text = _check_pdf(response.content, "困难职工家庭档案表")
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp), xmp
    assert root["/OutputIntents"]
    event = AuditEvent.objects.get(action="export.household_card")
    assert event.changes["format"] == [None, "pdf/a-3b"]


@pytest.mark.django_db
def test_document_index_lists_what_each_role_may_print(world, alice, dave, erin, frank, as_user):
    page = as_user(dave).get(reverse("reports:documents")).content.decode()
    assert "发放台账" in page and "签收单" in page
    page = as_user(alice).get(reverse("reports:documents")).content.decode()
    assert "公示表" in page and "发放台账" not in page
    assert as_user(frank).get(reverse("reports:documents")).status_code == 403
    menu = as_user(erin).get(reverse("cases:household_list")).content.decode()
    assert reverse("reports:documents") in menu


@pytest.mark.django_db
def test_pages_link_to_their_documents(world, alice, dave, as_user):
    household, application = world.households[0], world.applications[0]
    pages = [
        (alice, reverse("cases:household_detail", args=[household.pk]),
         reverse("reports:household_card", args=[household.pk])),
        (alice, reverse("programs:application_detail", args=[application.pk]),
         reverse("reports:approval_form", args=[application.pk])),
        (alice, reverse("cases:notice_detail", args=[world.notice.pk]),
         reverse("reports:intake_notice", args=[world.notice.pk])),
        (dave, reverse("funds:fund_detail", args=[world.fund.pk]),
         reverse("reports:fund_statement", args=[world.fund.pk])),
        (dave, reverse("programs:payment_batch_detail", args=[world.batch.pk]),
         reverse("reports:batch_signoff", args=[world.batch.pk])),
    ]  # fmt: skip
    for user, page, document in pages:
        body = as_user(user).get(page).content.decode()
        assert 'id="document-links"' in body and document in body, page
    body = as_user(dave).get(reverse("funds:fund_detail", args=[world.fund.pk])).content.decode()
    assert reverse("reports:fund_disbursements", args=[world.fund.pk]) + "?format=xlsx" in body


@pytest.mark.django_db
def test_a_long_ledger_repeats_its_header_and_counts_its_pages(world, dave, as_user):
    bulk_payments(world.fund, world.program, world.households[0], 60)
    response = _get(as_user(dave), "fund_disbursements", world.fund.pk)
    reader, text = _check_pdf(response.content, "帮扶资金发放台账")
    pages = pdf_pages(response.content)[1]
    assert len(reader.pages) >= 2
    with_rows = [page for page in pages if TODAY.isoformat() in page]
    assert len(with_rows) >= 2
    for page in with_rows:
        assert "序号" in page and "实发金额" in page  # the header on every page
    flat = compact(text)
    assert "共64笔" in flat and rmb_upper(D("3000.00") + 60 * D("10.00")) in flat


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_made_while_the_ledger_is_written_does_not_split_it(
    seeded_lists, world, dave, as_user, monkeypatch
):
    """The totals (one query) and the rows (another) come from one snapshot:
    a payment committed between them shows in neither."""
    real = payments_generator.disbursements

    def paid_meanwhile(payments, unmask):
        table = real(payments, unmask)
        rows = table.rows

        def rows_after_a_payment():
            race(1, lambda _i: bulk_payments(world.fund, world.program, world.households[0], 1))
            yield from rows()

        table.rows = rows_after_a_payment
        return table

    monkeypatch.setattr(payments_generator, "disbursements", paid_meanwhile)
    response = _get(as_user(dave), "fund_disbursements", world.fund.pk, format="xlsx")
    _ws, rows = sheet_rows(response.content)
    header = list(rows[2])
    net = header.index("实发金额")
    data = [r for r in rows[3:] if isinstance(r[0], int)]
    total = next(r for r in rows if r[0] == "合计")
    assert len(data) == 4
    assert D(str(total[net])) == sum(D(str(r[net])) for r in data) == D("3000.00")
    monkeypatch.undo()
    response = _get(as_user(dave), "fund_disbursements", world.fund.pk, format="xlsx")
    assert len([r for r in sheet_rows(response.content)[1][3:] if isinstance(r[0], int)]) == 5
