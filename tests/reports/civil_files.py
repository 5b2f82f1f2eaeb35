"""Households and answer files for the 民政数据比对 tests."""

import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from cases import clock
from cases.models import Attachment, Household

ANSWER_HEADERS = ["身份证号", "姓名", "民政状态", "月保障金额", "核对收入", "核对日期"]


def answer_row(id_number: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "身份证号": id_number,
        "姓名": "",
        "民政状态": "无",
        "月保障金额": None,
        "核对收入": None,
        "核对日期": (clock.today() - datetime.timedelta(days=3)).isoformat(),
    }
    row.update(overrides)
    return row


def answer_xlsx(
    rows: Iterable[dict[str, Any]], headers: Sequence[str] = ANSWER_HEADERS, sheet: str = "比对结果"
) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def answer_upload(content: bytes, name: str = "比对结果.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def give_consent(households: Iterable[Household], *, signed: bool = True) -> None:
    """A consent on file for each household (the stored file itself is not
    read by the round trip, so no bytes are written)."""
    day = clock.today() - datetime.timedelta(days=30)
    Attachment.objects.bulk_create(
        [
            Attachment(
                household=h,
                kind="consent",
                file=f"households/{h.pk}/consent.pdf",
                original_name="授权书.pdf",
                content_type="application/pdf",
                size=100,
                sha256="0" * 64,
                signed_on=day if signed else None,
            )
            for h in households
        ]
    )
