"""Malformed import files, made from a seed.

`malformed(seed, target, context)` starts from a good file for one of the
four imports (`target`) and breaks it in the way the seed picks: its
headers, its cells, its sheets, or the file itself (random bytes, a cut-off
archive, a zip bomb, an old .xls under a new name). The same seed always
makes the same file, so a failure names what to replay.
"""

import datetime
import io
import random
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.formula import ArrayFormula

from cases import idnumber

TARGETS = ("households", "register", "history", "roster")

HOUSEHOLD_HEADERS = [
    "户主姓名", "身份证号", "联系电话", "所属工会", "工作单位", "家庭住址", "困难类别",
    "主要致困原因", "次要致困原因", "家庭人口", "家庭年收入", "年刚性支出", "开户银行",
    "银行账号", "备注",
]  # fmt: skip
REGISTER_HEADERS = [
    *HOUSEHOLD_HEADERS, "档案编号", "建档日期", "档案分类", "档案状态", "退出日期", "退出原因",
    "最近走访日期", "帮扶人",
]  # fmt: skip
MEMBER_HEADERS = [
    "户主身份证号", "姓名", "与户主关系", "身份证号", "健康状况", "年收入", "就读学校", "年级",
]  # fmt: skip
HISTORY_HEADERS = [
    "户主身份证号", "档案编号", "户主姓名", "帮扶项目", "发放日期", "金额", "实物内容",
    "实物折价", "资金", "发放方式", "备注",
]  # fmt: skip
ROSTER_HEADERS = ["姓名", "身份证号", "所属工会", "联系电话", "入会日期"]
SHEETS = {"households": "困难职工", "register": "困难职工", "history": "发放记录", "roster": "名册"}
HEADERS = {
    "households": HOUSEHOLD_HEADERS,
    "register": REGISTER_HEADERS,
    "history": HISTORY_HEADERS,
    "roster": ROSTER_HEADERS,
}
XLSX = "xlsx"


@dataclass
class Context:
    """What a good row of each import names: the fixtures' households,
    program and fund, and the day the history is paid on."""

    unit_code: str
    history_heads: list[tuple[str, str]]  # (ID number, name) of filed households
    program: str
    fund: str
    paid_on: datetime.date


@dataclass
class Book:
    """A workbook before it is saved: sheets of rows (the header first)."""

    sheets: list[tuple[str, list[list[Any]]]]
    merges: list[tuple[int, str]] = field(default_factory=list)  # (sheet index, range)
    hidden: set[int] = field(default_factory=set)

    def save(self) -> bytes:
        book = Workbook()
        book.remove(book.active)
        for index, (title, rows) in enumerate(self.sheets):
            ws = book.create_sheet(title)
            for row in rows:
                ws.append(row)
            if index in self.hidden:
                ws.sheet_state = "hidden"
        if all(ws.sheet_state == "hidden" for ws in book.worksheets):
            book.create_sheet("说明").append(["Excel 总留一张看得见的表"])
        for index, cells in self.merges:
            book.worksheets[index].merge_cells(cells)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


@dataclass
class Case:
    seed: int
    target: str
    mutation: str
    content: bytes
    name: str = "导入.xlsx"

    def __str__(self) -> str:
        return f"seed={self.seed} target={self.target} mutation={self.mutation}"


# -- good files ------------------------------------------------------------------------------


def _person(rng: random.Random, male: bool | None = None) -> str:
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15000))
    sequence = rng.randrange(500) * 2 + (rng.randrange(2) if male is None else int(male))
    return idnumber.make("410105", birth, sequence)


def _household(rng: random.Random, ctx: Context) -> dict[str, Any]:
    return {
        "户主姓名": rng.choice(["孙桂英", "李建国", "王秀兰", "赵敏"]),
        "身份证号": _person(rng),
        "联系电话": "139" + "".join(rng.choice("0123456789") for _ in range(8)),
        "所属工会": ctx.unit_code,
        "工作单位": "郑州纺织厂",
        "家庭住址": "河南省郑州市金水区文化路街道黄河社区5号楼",
        "困难类别": "困难",
        "主要致困原因": "因病",
        "次要致困原因": "因残",
        "家庭人口": rng.randint(1, 6),
        "家庭年收入": rng.choice(["24000.50", 18000, 9600.25]),
        "年刚性支出": rng.choice([0, 6000, "1200"]),
        "开户银行": "中国工商银行",
        "银行账号": "6222021234567890" + str(rng.randrange(100, 999)),
        "备注": "",
    }


def _register(rng: random.Random, ctx: Context) -> dict[str, Any]:
    row = _household(rng, ctx)
    row.update(
        {
            "档案编号": f"FZ-{rng.randrange(10**6):06d}",
            "建档日期": datetime.date(2021, rng.randint(1, 12), rng.randint(1, 28)),
            "档案分类": "",
            "档案状态": "在档",
            "退出日期": None,
            "退出原因": "",
            "最近走访日期": datetime.date(2023, 11, 20),
            "帮扶人": "",
        }
    )
    return row


def _member(rng: random.Random, head: str) -> dict[str, Any]:
    return {
        "户主身份证号": head,
        "姓名": "李小明",
        "与户主关系": "子女",
        "身份证号": _person(rng),
        "健康状况": "健康",
        "年收入": 0,
        "就读学校": "郑州市第九中学",
        "年级": "高二",
    }


def _history(rng: random.Random, ctx: Context) -> dict[str, Any]:
    number, name = rng.choice(ctx.history_heads)
    return {
        "户主身份证号": number,
        "档案编号": None,
        "户主姓名": name,
        "帮扶项目": ctx.program,
        "发放日期": ctx.paid_on,
        "金额": rng.choice([100, 250.5, "300"]),
        "实物内容": None,
        "实物折价": None,
        "资金": ctx.fund,
        "发放方式": rng.choice(["银行转账", "现金"]),
        "备注": None,
    }


def _roster(rng: random.Random, ctx: Context) -> dict[str, Any]:
    return {
        "姓名": rng.choice(["张三", "李四", "王五"]),
        "身份证号": _person(rng),
        "所属工会": ctx.unit_code,
        "联系电话": "13800000000",
        "入会日期": "2024-03-01",
    }


MAKERS: dict[str, Callable[[random.Random, Context], dict[str, Any]]] = {
    "households": _household,
    "register": _register,
    "history": _history,
    "roster": _roster,
}


def good_book(rng: random.Random, target: str, ctx: Context) -> Book:
    headers = HEADERS[target]
    records = [MAKERS[target](rng, ctx) for _ in range(rng.randint(1, 3))]
    rows = [list(headers)] + [[r.get(h) for h in headers] for r in records]
    sheets = [(SHEETS[target], rows)]
    if target == "register":
        members = [_member(rng, r["身份证号"]) for r in records if rng.random() < 0.7]
        sheets.append(
            ("家庭成员", [MEMBER_HEADERS] + [[m.get(h) for h in MEMBER_HEADERS] for m in members])
        )
    return Book(sheets)


# -- what breaks them ------------------------------------------------------------------------


def _data(book: Book) -> list[list[Any]]:
    """The data sheet's rows, each as wide as the header (so a column can
    be picked on any of them)."""
    rows = book.sheets[0][1]
    if not rows:
        rows.append(["户主姓名"])
    width = max(len(row) for row in rows)
    for row in rows:
        row.extend([None] * (width - len(row)))
    return rows


def _column(rng: random.Random, book: Book) -> int:
    return rng.randrange(len(_data(book)[0]))


def _drop_columns(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    gone = set(rng.sample(range(len(rows[0])), rng.randint(1, len(rows[0]) - 1)))
    for index, row in enumerate(rows):
        rows[index] = [v for i, v in enumerate(row) if i not in gone]


def _one_header_only(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    keep = rng.choice(["工作单位", *rows[0]]) if "工作单位" in rows[0] else rng.choice(rows[0])
    position = rows[0].index(keep)
    for index, row in enumerate(rows):
        rows[index] = [row[position]]


def _unknown_header(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    word = rng.choice(["性别", "Name", "身份证", "户主姓名 ", "ID", "=A1", "１２３", "备注*"])
    if rng.random() < 0.5:
        rows[0][_column(rng, book)] = word
    else:
        rows[0].append(word)
        for row in rows[1:]:
            row.append(rng.choice(["x", 1, None]))


def _duplicate_header(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    position = _column(rng, book)
    for row in rows:
        row.insert(rng.randrange(len(row) + 1), row[position])


def _empty_header_cells(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    for _ in range(rng.randint(1, 3)):
        rows[0][_column(rng, book)] = rng.choice([None, "", "   "])
    if rng.random() < 0.5:  # a column of data with no header at all, at the end
        rows[0].extend([None, None])
        for row in rows[1:]:
            row.extend([None, "孤立数据"])


def _header_below(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    for _ in range(rng.randint(1, 3)):
        rows.insert(0, [rng.choice(["困难职工名单", None, "2024年", "单位：元"])])


def _merged_header(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    start = _column(rng, book)
    end = min(start + rng.randint(1, 3), len(rows[0]) - 1)
    if rng.random() < 0.5:  # a title merged across the top, headers below it
        rows.insert(0, ["困难职工花名册"])
        book.merges.append((0, f"A1:{_letter(len(rows[1]) - 1)}1"))
    else:
        book.merges.append((0, f"{_letter(start)}1:{_letter(max(end, start + 1))}1"))


def _shuffle_headers(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    order = list(range(len(rows[0])))
    rng.shuffle(order)
    for index, row in enumerate(rows):
        rows[index] = [row[i] if i < len(row) else None for i in order]


def _formula(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    row = rng.randrange(len(rows))
    column = _column(rng, book)
    if rng.random() < 0.3:
        rows[row][column] = ArrayFormula(f"{_letter(column)}{row + 1}", "=SUM(A1:B2)")
    else:
        rows[row][column] = rng.choice(
            ["=SUM(K2:K3)", '=HYPERLINK("http://x","y")', "=1/0", "=A1", "=TODAY()"]
        )


def _huge_cell(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    text = rng.choice(["王", "9", "a", "、"]) * rng.choice([40_000, 32_768, 5_000])
    rows[rng.randrange(len(rows))][_column(rng, book)] = text


WRONG_VALUES: list[Any] = [
    datetime.date(2024, 3, 1),
    datetime.datetime(1900, 1, 1, 0, 0),
    datetime.time(12, 30),
    datetime.timedelta(days=3),
    45000,
    45000.5,
    -1,
    -0.0,
    -250.75,
    0,
    1e300,
    -1e300,
    1e-9,
    123456789012345678,
    True,
    False,
    "",
    " ",
    "1e30",
    "-5",
    "NaN",
    "Infinity",
    "9" * 5000,
    "٣٤٥",
    "１２３",
    "2024-02-30",
    "00000000",
    "\u200b",
    "😀" * 3,
    "<b>x</b>",
    "x" * 101,
    "1e30",
    10**20,
    -(10**20),
    "0." + "1" * 60,
    "9" * 40,
    "2024/13/45",
    "20240229",
    "１９９９年１月１日",
    "已退出",
    "实物（签收）",
]


# Columns that hold a number, a date or a code: where a wrong type does harm.
TYPED = {
    "身份证号", "户主身份证号", "联系电话", "银行账号", "家庭人口", "家庭年收入", "年刚性支出",
    "年收入", "金额", "实物折价", "建档日期", "退出日期", "最近走访日期", "发放日期", "入会日期",
    "档案编号", "档案状态", "发放方式",
}  # fmt: skip


def _wrong_types(rng: random.Random, book: Book) -> None:
    for sheet in range(len(book.sheets) if rng.random() < 0.3 else 1):
        rows = book.sheets[sheet][1] if sheet else _data(book)
        if len(rows) < 2:
            continue
        typed = [i for i, name in enumerate(rows[0]) if name in TYPED] or [0]
        for _ in range(rng.randint(1, 6)):
            row = rows[rng.randrange(1, len(rows))]
            column = rng.choice(typed) if rng.random() < 0.8 else rng.randrange(len(rows[0]))
            row.extend([None] * (column + 1 - len(row)))
            row[column] = rng.choice(WRONG_VALUES)


def _blank_rows(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    width = len(rows[0])
    for _ in range(rng.randint(1, 5)):
        blank = rng.choice([[None] * width, [""] * width, ["  "] * width, []])
        rows.insert(rng.randrange(1, len(rows) + 1), list(blank))


def _merged_cells(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    column = _column(rng, book)
    last = max(2, len(rows))
    book.merges.append((0, f"{_letter(column)}2:{_letter(column)}{last}"))


def _far_cells(rng: random.Random, book: Book) -> None:
    rows = _data(book)
    row = rows[rng.randrange(len(rows))]
    row.extend([None] * rng.choice([50, 300, 2000]) + ["远处的值"])


def _extra_sheets(rng: random.Random, book: Book) -> None:
    extra = ("说明", [["这是说明页"], ["第二行"]])
    if rng.random() < 0.5:
        book.sheets.insert(0, extra)
        if rng.random() < 0.3:
            book.hidden.add(0)
    else:
        book.sheets.append(extra)
    if rng.random() < 0.3:
        book.sheets.append(("Sheet3", []))


def _renamed_sheet(rng: random.Random, book: Book) -> None:
    title, rows = book.sheets[0]
    book.sheets[0] = (rng.choice(["Sheet1", title + " ", "困难职工(2)"]), rows)
    if rng.random() < 0.4:  # and the only other sheet comes first
        book.sheets.insert(0, ("说明", [["说明"]]))
    if len(book.sheets) > 2 and rng.random() < 0.5:
        del book.sheets[-1]  # the register without its 家庭成员


def _missing_sheet(rng: random.Random, book: Book) -> None:
    if len(book.sheets) > 1 and rng.random() < 0.5:
        del book.sheets[1]
    else:
        book.sheets[0] = (book.sheets[0][0], [])  # the sheet is there, empty
        if rng.random() < 0.5:
            book.hidden.add(0)


def _header_only(rng: random.Random, book: Book) -> None:
    del _data(book)[1:]


BOOK_MUTATIONS: dict[str, Callable[[random.Random, Book], None]] = {
    "drop_columns": _drop_columns,
    "one_header_only": _one_header_only,
    "unknown_header": _unknown_header,
    "duplicate_header": _duplicate_header,
    "empty_header_cells": _empty_header_cells,
    "header_below_row_1": _header_below,
    "merged_header": _merged_header,
    "shuffled_headers": _shuffle_headers,
    "formula": _formula,
    "huge_cell": _huge_cell,
    "wrong_types": _wrong_types,
    "blank_rows": _blank_rows,
    "merged_cells": _merged_cells,
    "far_cells": _far_cells,
    "extra_sheets": _extra_sheets,
    "renamed_sheet": _renamed_sheet,
    "missing_sheet": _missing_sheet,
    "header_only": _header_only,
}


# -- broken files --------------------------------------------------------------------------


def _random_bytes(rng: random.Random, good: bytes) -> bytes:
    start = rng.choice([b"", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0"])
    return start + rng.randbytes(rng.randint(0, 3000))


def _truncated(rng: random.Random, good: bytes) -> bytes:
    return good[: rng.randrange(8, len(good) - 1)]


def _flipped_bytes(rng: random.Random, good: bytes) -> bytes:
    data = bytearray(good)
    for _ in range(rng.randint(1, 20)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _other_zip(rng: random.Random, good: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        name = rng.choice(
            ["readme.txt", "word/document.xml", "xl/workbook.xml", "[Content_Types].xml"]
        )
        archive.writestr(name, rng.choice([b"hello", b"<x/>", b"<workbook"]))
    return out.getvalue()


def _xls_renamed(rng: random.Random, good: bytes) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randint(0, 600))


def _csv_renamed(rng: random.Random, good: bytes) -> bytes:
    lines = ["户主姓名,身份证号,所属工会", "王秀兰,410105197503081248,410105"]
    return "\n".join(lines).encode(rng.choice(["utf-8", "gbk", "utf-16"]))


def _empty_file(rng: random.Random, good: bytes) -> bytes:
    return b""


def _rezip(good: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The workbook with some parts changed (None: left out)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = change(info.filename, source.read(info))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


@cache
def _bomb() -> bytes:
    """A workbook of about 30 KB whose sheet unpacks to about 25 MB of rows
    (made once: deflating it is the slow part)."""
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + row * 400_000 + b"</sheetData></worksheet>"
    )
    book = Book([("困难职工", [["户主姓名"], ["王秀兰"]])]).save()
    return _rezip(book, lambda name, data: sheet if name.startswith("xl/worksheets/") else data)


def _zip_bomb(rng: random.Random, good: bytes) -> bytes:
    """A small file whose sheet unpacks to about 25 MB, or one whose parts
    say they unpack to gigabytes."""
    if rng.random() < 0.5:
        return _bomb()
    return _declared_size(good, rng.choice([2**31, 2**32 - 1, 50 * 2**20]))


def _declared_size(good: bytes, size: int) -> bytes:
    """The archive with every part's size in its directory set to `size`."""
    data = bytearray(good)
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        struct.pack_into("<I", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def _lying_size(rng: random.Random, good: bytes) -> bytes:
    """Parts that unpack to more than the directory says (a bomb that hides)."""
    return _declared_size(good, rng.randint(1, 200))


def _encrypted(rng: random.Random, good: bytes) -> bytes:
    """Every part marked as encrypted (zipfile then wants a password)."""
    data = bytearray(good)
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(magic)
        while position >= 0:
            flags = struct.unpack_from("<H", data, position + offset)[0]
            struct.pack_into("<H", data, position + offset, flags | 1)
            position = data.find(magic, position + 4)
    return bytes(data)


def _strange_method(rng: random.Random, good: bytes) -> bytes:
    """Parts compressed by a method nobody reads (99: AES)."""
    data = bytearray(good)
    method = rng.choice([99, 1, 97])
    for magic, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        position = data.find(magic)
        while position >= 0:
            struct.pack_into("<H", data, position + offset, method)
            position = data.find(magic, position + 4)
    return bytes(data)


def _bad_xml(rng: random.Random, good: bytes) -> bytes:
    """A part of the package replaced or removed: broken XML, entity
    expansion (billion laughs), a shared string that is not there, a date
    serial no calendar holds, a sheet that says it is one cell big."""
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
        )
        + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&i;</t></si></sst>"
    )
    choice = rng.randrange(7)

    def change(name: str, data: bytes) -> bytes | None:
        if choice == 0 and name == "xl/workbook.xml":
            return data[: len(data) // 2]
        if choice == 1 and name == "xl/_rels/workbook.xml.rels":
            return None
        if choice == 2 and name.startswith("xl/worksheets/sheet"):
            return laughs.replace(b"<sst", b"<worksheet").replace(b"</sst>", b"</worksheet>")
        if choice == 3 and name == "xl/sharedStrings.xml":
            return laughs
        if choice == 4 and name.startswith("xl/worksheets/sheet"):
            return data.replace(b"<v>0</v>", b"<v>999999</v>").replace(
                b't="s"><v>1<', b't="s"><v>-7<'
            )
        if choice == 5 and name.startswith("xl/worksheets/sheet"):
            # A number styled as a date far beyond any calendar.
            return data.replace(b"<v>", b"<v>9", 3)
        if choice == 6 and name.startswith("xl/worksheets/sheet"):
            return data.replace(b"<dimension", b'<dimension ref="A1"/><x', 1)
        return data

    return _rezip(good, change)


FILE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "random_bytes": _random_bytes,
    "truncated_zip": _truncated,
    "flipped_bytes": _flipped_bytes,
    "non_xlsx_zip": _other_zip,
    "xls_renamed": _xls_renamed,
    "csv_renamed": _csv_renamed,
    "empty_file": _empty_file,
    "zip_bomb": _zip_bomb,
    "lying_sizes": _lying_size,
    "encrypted_parts": _encrypted,
    "unknown_compression": _strange_method,
    "broken_parts": _bad_xml,
}
MUTATIONS = (*BOOK_MUTATIONS, *FILE_MUTATIONS)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def malformed(seed: int, ctx: Context) -> Case:
    """The file for `seed`: its target import and its mutation go round in
    turn, so every (target, mutation) pair is met in each 4 × len(MUTATIONS)
    seeds; the details (which column, which value) are the seed's."""
    rng = random.Random(seed)
    target = TARGETS[seed % len(TARGETS)]
    mutation = MUTATIONS[(seed // len(TARGETS)) % len(MUTATIONS)]
    book = good_book(rng, target, ctx)
    if mutation in BOOK_MUTATIONS:
        BOOK_MUTATIONS[mutation](rng, book)
        # A second, different problem now and then.
        if rng.random() < 0.25:
            other = rng.choice([m for m in BOOK_MUTATIONS if m != mutation])
            BOOK_MUTATIONS[other](rng, book)
            mutation = f"{mutation}+{other}"
        content = book.save()
    else:
        content = FILE_MUTATIONS[mutation](rng, book.save())
    name = "导入.xlsx"
    if mutation == "csv_renamed" and rng.random() < 0.3:
        name = "导入.csv"
    return Case(seed, target, mutation, content, name)
