"""Import files for the tests, written the way a person's Excel would hold
them (write-only mode, so 10,000 rows take a second, not a minute)."""

import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from cases import idnumber

# DOMAIN.md, "The household import template", in its order.
DOMAIN_HEADERS = [
    "户主姓名", "身份证号", "联系电话", "所属工会", "工作单位", "家庭住址", "困难类别",
    "主要致困原因", "次要致困原因", "家庭人口", "家庭年收入", "年刚性支出", "开户银行",
    "银行账号", "备注",
]  # fmt: skip

_serial = iter(range(1, 10**6))


def new_id(*, male: bool = False, birth: datetime.date | None = None) -> str:
    n = next(_serial)
    birth = birth or datetime.date(1965, 1, 1) + datetime.timedelta(days=n % 12000)
    return idnumber.make("410105", birth, (n // 12000) * 2 + (1 if male else 0) + 500)


def good_row(**overrides: Any) -> dict[str, Any]:
    """A row that imports into county A (金水区总工会)."""
    row: dict[str, Any] = {
        "户主姓名": "孙桂英",
        "身份证号": new_id(),
        "联系电话": "13912345678",
        "所属工会": "410105",
        "工作单位": "郑州纺织厂",
        "家庭住址": "河南省郑州市金水区文化路街道黄河社区5号楼",
        "困难类别": "困难",
        "主要致困原因": "因病",
        "次要致困原因": "因残、收入低",
        "家庭人口": 3,
        "家庭年收入": "24000.50",
        "年刚性支出": 6000,
        "开户银行": "中国工商银行",
        "银行账号": "6222021234567890123",
        "备注": "",
    }
    row.update(overrides)
    return row


def xlsx(
    rows: Iterable[dict[str, Any] | Sequence[Any]],
    headers: Sequence[str] = DOMAIN_HEADERS,
    sheet: str = "困难职工",
) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(h) for h in headers] if isinstance(row, dict) else list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "困难职工.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
