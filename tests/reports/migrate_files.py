"""Register migration workbooks (建档迁移) for the tests, written the way a
person's Excel would hold them: real dates in the date columns, text in the
rest, two sheets joined on the head's ID number."""

import datetime
import io
from collections.abc import Iterable, Sequence
from itertools import count
from typing import Any

from openpyxl import Workbook

from tests.reports.import_files import DOMAIN_HEADERS, good_row, new_id

# The user guide's 迁移已有档案 chapter, in its order.
REGISTER_HEADERS = [
    *DOMAIN_HEADERS, "档案编号", "建档日期", "档案分类", "档案状态", "退出日期", "退出原因",
    "最近走访日期", "帮扶人",
]  # fmt: skip
MEMBER_HEADERS = [
    "户主身份证号", "姓名", "与户主关系", "身份证号", "健康状况", "年收入", "就读学校", "年级",
]  # fmt: skip

_numbers = count(1)


def register_row(**overrides: Any) -> dict[str, Any]:
    """A filed household of county A (金水区总工会) with a legacy number."""
    row = good_row()
    row.update(
        {
            "档案编号": f"JS-{next(_numbers):05d}",
            "建档日期": datetime.date(2021, 3, 15),
            "档案分类": "",
            "档案状态": "在档",
            "退出日期": None,
            "退出原因": "",
            "最近走访日期": datetime.date(2023, 11, 20),
            "帮扶人": "",
        }
    )
    row.update(overrides)
    return row


def member_row(head_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "户主身份证号": head_id,
        "姓名": "李小明",
        "与户主关系": "子女",
        "身份证号": new_id(),
        "健康状况": "健康",
        "年收入": 0,
        "就读学校": "郑州市第九中学",
        "年级": "高二",
    }
    row.update(overrides)
    return row


def register_xlsx(
    households: Iterable[dict[str, Any]],
    members: Iterable[dict[str, Any]] = (),
    *,
    headers: Sequence[str] = REGISTER_HEADERS,
    member_headers: Sequence[str] | None = MEMBER_HEADERS,
) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("困难职工")
    sheet.append(list(headers))
    for row in households:
        sheet.append([row.get(h) for h in headers])
    if member_headers is not None:
        sheet = book.create_sheet("家庭成员")
        sheet.append(list(member_headers))
        for row in members:
            sheet.append([row.get(h) for h in member_headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
