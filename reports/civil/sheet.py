"""The comparison file civil affairs sends back (比对结果).

One row per ID number: 身份证号, 民政状态 (低保, 特困, 低保边缘 or 无), 月保障金额,
核对收入 (the household's monthly income as civil affairs checked it) and
核对日期; 姓名 may be there too and is not used. The file rules are the
imports' (`cases.import_sheet`: size and type, the archive's declared
sizes, headers, no formulas); every bad cell is listed with its row, column
and reason, and nothing is written unless there are none.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases import clock
from cases.import_sheet import (
    CellError,
    _not_a_workbook,
    check_headers,
    header_row_below,
    no_header,
    open_sheet,
    row_values,
)
from cases.migrate_sheet import date_value
from cases.resources import Money, normalized_text, read_id_number

from ..models import CivilStatus

SHEET_NAME = "比对结果"
HEADERS = ("身份证号", "姓名", "民政状态", "月保障金额", "核对收入", "核对日期")
REQUIRED = frozenset({"身份证号", "民政状态", "核对日期"})
# Columns the file must have (姓名 may be left out).
NEEDED = frozenset(HEADERS) - {"姓名"}
MAX_ROWS = 200_000
EARLIEST = datetime.date(2000, 1, 1)

STATUS_WORDS = {
    "低保": CivilStatus.DIBAO,
    "低保户": CivilStatus.DIBAO,
    "低保对象": CivilStatus.DIBAO,
    "特困": CivilStatus.TEKUN,
    "特困人员": CivilStatus.TEKUN,
    "特困供养": CivilStatus.TEKUN,
    "低保边缘": CivilStatus.EDGE,
    "低保边缘户": CivilStatus.EDGE,
    "低保边缘家庭": CivilStatus.EDGE,
    "无": CivilStatus.NONE,
    "否": CivilStatus.NONE,
    "非低保": CivilStatus.NONE,
}


@dataclass(frozen=True)
class Answer:
    """One good row of the comparison file."""

    row: int
    id_number: str
    status: str
    amount: Decimal | None
    income: Decimal | None
    checked_on: datetime.date


@dataclass
class Comparison:
    answers: list[Answer]
    errors: list[CellError]
    total: int


_text = normalized_text
read_id = read_id_number


def read_status(value: Any) -> str:
    text = _text(value).replace(" ", "")
    status = STATUS_WORDS.get(text)
    if status is None:
        raise ValueError(
            _("民政状态应为 低保、特困、低保边缘 或 无，现为“%(v)s”。") % {"v": text[:20]}
        )
    return str(status)


def read_money(value: Any) -> Decimal | None:
    if value is None or _text(value) == "":
        return None
    amount: Decimal = Money().clean(value)
    return amount


def read_date(value: Any, *, today: datetime.date | None = None) -> datetime.date:
    day = date_value(value)
    today = today or clock.today()
    if day > today:
        raise ValueError(_("核对日期 %(d)s 晚于今天。") % {"d": day.isoformat()})
    if day < EARLIEST:
        raise ValueError(_("核对日期 %(d)s 早于 2000 年，请检查。") % {"d": day.isoformat()})
    return day


READERS: dict[str, Callable[[Any], Any]] = {
    "身份证号": read_id,
    "民政状态": read_status,
    "月保障金额": read_money,
    "核对收入": read_money,
    "核对日期": read_date,
}


def read_comparison(source: IO[bytes]) -> Comparison:
    """Every row of the answer, each as an `Answer` or as the reasons it is
    refused. Raises ValidationError only for a file with nothing to check."""
    ws = open_sheet(source, SHEET_NAME)
    rows_iter = ws.iter_rows()
    errors: list[CellError] = []
    answers: list[Answer] = []
    seen: dict[str, int] = {}
    total = 0
    today = clock.today()
    try:
        header_cells = next(rows_iter, None)
        if header_cells is None:
            raise ValidationError(_("工作表是空的：没有表头，也没有数据行。"))
        found, problems = check_headers(header_cells, HEADERS, needed=NEEDED, required=REQUIRED)
        if not found.headers:
            numbered = ((n, [c.value for c in cells]) for n, cells in enumerate(rows_iter, 2))
            raise no_header(found, HEADERS, header_row_below(numbered, HEADERS))
        errors += [CellError(1, name, message) for name, message in problems]
        if not found.usable:
            return Comparison([], errors, 0)
        for excel_row, cells in enumerate(rows_iter, start=2):
            values, flagged, blank = row_values(
                cells, found.headers, found.positions, ("核对日期",)
            )
            if blank:
                continue
            total += 1
            if total > MAX_ROWS:
                raise ValidationError(
                    _("数据行超过 %(n)s 行，请分成几个文件导入。") % {"n": f"{MAX_ROWS:,}"}
                )
            number, answer = _read_row(
                excel_row, dict(zip(found.headers, values, strict=True)), flagged, errors, today
            )
            # A repeated number is refused even when the row it repeats has
            # other problems: both need fixing.
            first = seen.get(number) if number else None
            if first is not None:
                errors.append(
                    CellError(
                        excel_row,
                        "身份证号",
                        _("与第 %(r)s 行的身份证号重复，每个身份证号只能有一行。") % {"r": first},
                    )
                )
                continue
            if number:
                seen[number] = excel_row
            if answer is not None:
                answers.append(answer)
    except ValidationError:
        raise
    except Exception as exc:  # a damaged archive fails while streaming rows
        raise _not_a_workbook() from exc
    finally:
        ws.parent.close()
    if not total and not errors:
        raise ValidationError(_("没有数据行：表头以下是空的。请在第 2 行起每行填写一个身份证号。"))
    return Comparison(answers, errors, total)


def _read_row(
    excel_row: int,
    values: dict[str, Any],
    flagged: dict[str, str],
    errors: list[CellError],
    today: datetime.date,
) -> tuple[str, Answer | None]:
    """The row's ID number when it reads ("" if not), and the row when
    every cell does."""
    read: dict[str, Any] = {}
    bad = False
    for header in HEADERS:
        if header == "姓名":
            continue
        if header in flagged:
            errors.append(CellError(excel_row, header, flagged[header]))
            bad = True
            continue
        value = values.get(header)
        if value is None or (isinstance(value, str) and not value.strip()):
            if header in REQUIRED:
                errors.append(CellError(excel_row, header, _("必填，不能为空。")))
                bad = True
            read[header] = None
            continue
        try:
            if header == "核对日期":
                read[header] = read_date(value, today=today)
            else:
                read[header] = READERS[header](value)
        except ValueError as exc:
            errors.append(CellError(excel_row, header, str(exc)))
            bad = True
    number = read.get("身份证号") or ""
    if bad:
        return number, None
    return number, Answer(
        row=excel_row,
        id_number=read["身份证号"],
        status=read["民政状态"],
        amount=read.get("月保障金额"),
        income=read.get("核对收入"),
        checked_on=read["核对日期"],
    )
