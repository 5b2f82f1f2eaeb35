"""No workbook the product writes holds a live formula, whatever people and
funds are called: a household named =HYPERLINK(...) paid in a batch stays
a name in the bank file, the ledger, the notice, the statistics and the
templates."""

import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.xlsx import FORMULA_STARTS, text_row
from funds.models import Fund
from programs.models import PaymentBatch, Program
from tests.programs.conftest import filed
from tests.programs.test_payments import approve, post_batch

EVIL = '=HYPERLINK("http://x","y")'


def formula_cells(content: bytes) -> list[tuple[str, str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for line in sheet.iter_rows()
        for cell in line
        if cell.data_type == "f"
    ]


def texts(content: bytes) -> set[object]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {c.value for s in book.worksheets for line in s.iter_rows() for c in line}


def test_every_start_a_spreadsheet_reads_as_a_formula_is_written_as_text():
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("t")
    values = [f"{start}SUM(1,2)" for start in FORMULA_STARTS]
    sheet.append(text_row(sheet, [*values, 3, "王秀兰"]))
    buffer = io.BytesIO()
    book.save(buffer)
    assert formula_cells(buffer.getvalue()) == []
    # XML reads a carriage return back as a line feed; the text is kept.
    assert {v.replace("\r", "\n") for v in values} <= texts(buffer.getvalue())


@pytest.mark.django_db
def test_a_household_named_like_a_formula_stays_text_in_every_workbook(
    as_user, alice, carol, dave, units, fund, festival
):
    Fund.objects.filter(pk=fund.pk).update(name="=SUM(1,2)")
    Program.objects.filter(pk=festival.pk).update(name="@SUM(3,4)")
    festival.refresh_from_db()
    app = approve(
        filed(units["a"], name=EVIL, bank_account="6222020200112233445", address="-1+1 路"),
        festival,
        drafter=alice,
        approver=carol,
    )
    finance = as_user(dave)
    assert post_batch(finance, [app], fund).status_code == 302
    batch = PaymentBatch.objects.get()

    workbooks = {
        "bank file": finance.get(reverse("programs:payment_batch_bank_file", args=[batch.pk])),
        "ledger": finance.get(
            reverse("reports:fund_disbursements", args=[fund.pk]), {"format": "xlsx"}
        ),
        "aid notice": finance.get(
            reverse("reports:aid_notice"), {"program": festival.pk, "format": "xlsx"}
        ),
        "statistics": as_user(carol).get(reverse("reports:statistics_xlsx")),
        "household template": as_user(alice).get(reverse("reports:import_template")),
        "register template": as_user(carol).get(reverse("reports:migrate_register_template")),
        "history template": as_user(carol).get(reverse("reports:migrate_history_template")),
    }
    for what, response in workbooks.items():
        assert response.status_code == 200, what
        assert formula_cells(response.content) == [], what
    assert EVIL in texts(workbooks["bank file"].content)
    assert EVIL in texts(workbooks["ledger"].content)
    assert "@SUM(3,4)" in texts(workbooks["aid notice"].content)
