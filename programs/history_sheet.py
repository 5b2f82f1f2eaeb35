"""The aid-history file (发放记录迁移): its sheet, headers and cell readers.

A union moving in brings the aid it paid in past years as one sheet
`发放记录`, one handout a row. This module only reads the file and turns each
cell into a value or a reason in Chinese; what the values must match
(households, programs, funds) and the writing are in
`programs.services.history`. The file rules (an .xlsx of at most 64 MB, no
formulas, every bad cell named with its row and column) are the household
import's, reused from `cases.import_sheet`.
"""

import datetime
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Unit, User
from accounts.scoping import unit_q
from cases import clock
from cases.import_sheet import (
    EXAMPLE_ID,
    MIGRATE_MAX_BYTES,
    CellError,
    Sheet,
    _not_a_workbook,
    check_headers,
    header_row_below,
    no_header,
    open_sheet,
    row_values,
)
from cases.import_template import (
    add_choice,
    list_source,
    start_guide,
    template_book,
    workbook_bytes,
    write_example,
    write_headers,
    write_lists,
)
from cases.migrate_sheet import date_value
from cases.resources import Money, Text, normalized_text, read_id_number
from funds.models import Fund

from .models import PaymentMethod
from .models.config import Program

SHEET_NAME = "发放记录"
# The template's columns, in order. A household is named by the head's ID
# number or, when the old books kept none, by its file number.
HEADERS = (
    "户主身份证号", "档案编号", "户主姓名", "帮扶项目", "发放日期", "金额", "实物内容",
    "实物折价", "资金", "发放方式", "备注",
)  # fmt: skip
REQUIRED = frozenset({"户主姓名", "帮扶项目", "发放日期", "金额", "资金", "发放方式"})
# Columns a file may leave out altogether (at least one of the two keys must be there).
OPTIONAL = frozenset({"户主身份证号", "档案编号", "实物内容", "实物折价", "备注"})
KEYS = ("户主身份证号", "档案编号")

# What 发放方式 accepts: the template's three words and the labels the
# product shows, so a sheet exported from it comes back in.
METHOD_WORDS = {
    "银行转账": PaymentMethod.BANK,
    "银行": PaymentMethod.BANK,
    "转账": PaymentMethod.BANK,
    "现金": PaymentMethod.CASH,
    "现金（签收）": PaymentMethod.CASH,
    "实物": PaymentMethod.GOODS,
    "实物（签收）": PaymentMethod.GOODS,
}
METHOD_CHOICES = ("银行转账", "现金", "实物")

# Older than this is not a date the product's funds can have paid from.
EARLIEST = datetime.date(2000, 1, 1)

HINTS = {
    "户主身份证号": gettext_lazy(
        "户主的 18 位身份证号（与档案编号至少填一项）。请保持“文本”格式，以免 Excel 改掉末尾数字。"
    ),
    "档案编号": gettext_lazy("原档案编号；未填身份证号时按档案编号查找家庭。"),
    "户主姓名": gettext_lazy("必填。须与系统中该家庭的户主姓名一致，用于核对。"),
    "帮扶项目": gettext_lazy("必填。从下拉列表选择本工会或上级工会设立的帮扶项目。"),
    "发放日期": gettext_lazy("必填。实际发放（到账或签收）的日期，如 2024-01-20；不能晚于今天。"),
    "金额": gettext_lazy("必填。本次发放的总额（现金加实物折价），单位元，大于 0，最多两位小数。"),
    "实物内容": gettext_lazy("发放实物时填写，如“米面油”。"),
    "实物折价": gettext_lazy("金额中以实物发放的部分，单位元，不能超过金额；"
        "实物发放可不填（按全额计）。"),
    "资金": gettext_lazy("必填。支出的资金名称；同名资金有多个年度时写成“名称（年度）”。"),
    "发放方式": gettext_lazy("必填。银行转账、现金或实物。"),
    "备注": gettext_lazy("不超过 300 字。"),
}  # fmt: skip
WIDTHS = {
    "户主身份证号": 22, "档案编号": 14, "户主姓名": 12, "帮扶项目": 22, "发放日期": 12,
    "金额": 11, "实物内容": 16, "实物折价": 11, "资金": 24, "发放方式": 11, "备注": 24,
}  # fmt: skip
TEXT_COLUMNS = ("户主身份证号", "档案编号")


# -- the cells -------------------------------------------------------------------------------


_text = normalized_text
read_id = read_id_number


def read_file_number(value: Any) -> str:
    return Text(max_length=30).clean(_text(value))


def read_name(value: Any) -> str:
    return Text(max_length=50, required=True).clean(value)


def read_program_name(value: Any) -> str:
    return Text(max_length=100, required=True).clean(value)


def read_fund_name(value: Any) -> str:
    return Text(max_length=120, required=True).clean(value)


def read_note(value: Any) -> str:
    return Text(max_length=300).clean(value)


def read_goods_description(value: Any) -> str:
    return Text(max_length=200).clean(value)


def read_amount(value: Any) -> Decimal:
    amount: Decimal = Money(required=True).clean(value)
    if amount <= 0:
        raise ValueError(_("金额必须大于 0。"))
    return amount


def read_goods_value(value: Any) -> Decimal | None:
    """实物折价: None when empty (a goods handout then counts in full)."""
    if value is None:
        return None
    goods: Decimal = Money().clean(value)
    return goods


def read_method(value: Any) -> str:
    text = _text(value).replace("(", "（").replace(")", "）")
    method = METHOD_WORDS.get(text)
    if method is None:
        raise ValueError(
            _("发放方式应为 %(c)s 之一，现为“%(v)s”。")
            % {"c": "、".join(METHOD_CHOICES), "v": text[:20]}
        )
    return str(method)


def read_date(value: Any, *, today: datetime.date | None = None) -> datetime.date:
    """发放日期: a date (cases.migrate_sheet.date_value); never after
    today, never before 2000."""
    day = date_value(value)
    today = today or clock.today()
    if day > today:
        raise ValueError(
            _("发放日期 %(d)s 晚于今天（%(t)s），历史发放记录只能是已经发生的。")
            % {"d": day.isoformat(), "t": today.isoformat()}
        )
    if day < EARLIEST:
        raise ValueError(
            _("发放日期 %(d)s 早于 %(e)s，无法导入。")
            % {"d": day.isoformat(), "e": EARLIEST.isoformat()}
        )
    return day


READERS: dict[str, Callable[[Any], Any]] = {
    "户主身份证号": read_id,
    "档案编号": read_file_number,
    "户主姓名": read_name,
    "帮扶项目": read_program_name,
    "发放日期": read_date,
    "金额": read_amount,
    "实物内容": read_goods_description,
    "实物折价": read_goods_value,
    "资金": read_fund_name,
    "发放方式": read_method,
    "备注": read_note,
}


# -- the file --------------------------------------------------------------------------------


def read_history_sheet(source: IO[bytes], *, filename: str = "") -> Sheet:
    """Every non-blank row of `发放记录` with header problems and refused
    cells noted, as `cases.import_sheet.read_sheet` does for the register.
    A date is what 发放日期 holds, so only that column takes date cells."""
    ws = open_sheet(source, SHEET_NAME)
    rows_iter = ws.iter_rows()
    sheet = Sheet(headers=[], rows=[], row_numbers=[], filename=filename)
    try:
        header_cells = next(rows_iter, None)
        if header_cells is None:
            raise ValidationError(_("工作表是空的：没有表头，也没有数据行。"))
        # A column without a header is passed over here.
        found, problems = check_headers(header_cells, HEADERS, needed=REQUIRED, required=REQUIRED)
        if not found.headers:
            numbered = ((n, [c.value for c in cells]) for n, cells in enumerate(rows_iter, 2))
            raise no_header(found, HEADERS, header_row_below(numbered, HEADERS))
        sheet.headers, positions = found.headers, found.positions
        sheet.errors += [CellError(1, name, message) for name, message in problems]
        keyed = any(key in found.seen for key in KEYS)
        if not keyed:
            sheet.errors.append(
                CellError(1, KEYS[0], _("缺少“户主身份证号”或“档案编号”列，至少需要其中一列。"))
            )
        sheet.usable = found.usable and keyed
        for excel_row, cells in enumerate(rows_iter, start=2):
            values, flagged, blank = row_values(cells, sheet.headers, positions, ("发放日期",))
            if blank:
                continue
            sheet.add_row(values, excel_row, flagged)
    except ValidationError:
        raise
    except Exception as exc:  # a damaged archive fails while streaming rows
        raise _not_a_workbook() from exc
    finally:
        ws.parent.close()
    if not sheet.rows:
        raise ValidationError(_("没有数据行：表头以下是空的。请在第 2 行起每行填写一笔发放。"))
    return sheet


# -- the template ----------------------------------------------------------------------------

TEMPLATE_ROWS = 50_000


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[: i + 1]) for i in range(len(parts))]


def template_choices(actor: User) -> tuple[list[str], list[str]]:
    """The programs and funds the person's rows may name, as the cells take
    them: programs set up by their unions or the unions above (the ones a
    household of theirs may receive), funds of their unions (a name shared
    by several years written as “名称（年度）”)."""
    # Here, not at the top: the service imports this module's readers.
    from .services.history import history_runners

    units = [m.unit for m in history_runners(actor)]
    if not units:
        return [], []
    paths = [u.path for u in units]
    above = {p for path in paths for p in _ancestor_paths(path)}
    program_units = Unit.objects.filter(unit_q(paths) | Q(path__in=above))
    programs = sorted(
        set(
            Program.objects.filter(unit__in=program_units, is_active=True)
            .exclude(kind="loan")
            .values_list("name", flat=True)
        )
    )
    funds = list(
        Fund.objects.filter(unit__in=Unit.objects.filter(unit_q(paths))).order_by("-year", "name")
    )
    shared = Counter(f.name for f in funds)
    labels = [f.name if shared[f.name] == 1 else str(f) for f in funds]
    return programs, list(dict.fromkeys(labels))


def history_template_xlsx(actor: User) -> bytes:
    """The 发放记录 template: headers with their hints, one example row (the
    register template's example ID number, refused if left in), and
    drop-downs of the person's programs, funds and the payment methods."""
    programs, funds = template_choices(actor)
    book, (sheet,), lists, guide = template_book(SHEET_NAME)
    column = {name: get_column_letter(i) for i, name in enumerate(HEADERS, start=1)}
    write_headers(sheet, HEADERS, required=REQUIRED, hints=HINTS, widths=WIDTHS)

    today = clock.today()
    example = {
        "户主身份证号": EXAMPLE_ID,
        "档案编号": "",
        "户主姓名": "王秀兰",
        "帮扶项目": programs[0] if programs else "",
        "发放日期": datetime.date(today.year - 1, 1, 20),
        "金额": 1500,
        "实物内容": "米面油",
        "实物折价": 300,
        "资金": funds[0] if funds else "",
        "发放方式": METHOD_CHOICES[0],
        "备注": _("示例行：导入前请删除本行"),
    }
    formats = {
        **dict.fromkeys(TEXT_COLUMNS, "@"),
        "发放日期": "yyyy-mm-dd",
        **dict.fromkeys(("金额", "实物折价"), "0.00"),
    }
    write_example(sheet, HEADERS, {name: v or None for name, v in example.items()}, formats)

    write_lists(
        lists, (("帮扶项目", programs), ("资金", funds), ("发放方式", list(METHOD_CHOICES)))
    )

    last = TEMPLATE_ROWS + 1

    def rows_of(name: str) -> str:
        return f"{column[name]}2:{column[name]}{last}"

    add_choice(sheet, rows_of("帮扶项目"), list_source(1, len(programs)))
    add_choice(sheet, rows_of("资金"), list_source(2, len(funds)))
    add_choice(sheet, rows_of("发放方式"), list_source(3, len(METHOD_CHOICES)))
    for name in ("金额", "实物折价"):
        money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        money.error, money.errorTitle = _("金额应为不小于 0 的数字，最多两位小数。"), name
        money.add(rows_of(name))
        sheet.add_data_validation(money)
    for name in TEXT_COLUMNS:
        sheet.column_dimensions[column[name]].number_format = "@"

    start_guide(guide, _("帮扶发放记录迁移模板 填写说明"))
    guide.append(
        [
            _(
                "每行一笔已经发放的帮扶，从第 2 行起填写；第 2 行是示例，导入前请删除。"
                "红色表头为必填。"
            )
        ]
    )
    guide.append(
        [_("家庭按户主身份证号（或档案编号）在本工会的在档、已退出档案中查找；户主姓名用于核对。")]
    )
    guide.append(
        [_("每笔记入所填资金在发放日期的支出；任何一天资金余额不能低于零，请先补录当时的收入。")]
    )
    guide.append([_("不要修改、删除或增加表头；不要使用公式；文件不超过 %(mb)s MB。")
                  % {"mb": MIGRATE_MAX_BYTES // (1024 * 1024)}])  # fmt: skip
    guide.append([_("整个文件先全部检查，有任何错误都不会导入；请按错误清单逐项修改后重新上传。")])
    guide.append([])
    guide.append([_("列"), _("填写要求")])
    for name in HEADERS:
        guide.append([name, str(HINTS[name])])
    return workbook_bytes(book)
