"""What a document is, apart from how it is drawn.

A generator names one report: its title, the scoping action that decides who
may have it, the options a person may set (a small form), and ONE selector
that produces its data: a `Table` whose rows stream from the database and
whose totals are Decimals added up by the database from the same rows. The
renderers (`reports/render/pdf.py`, `reports/render/xlsx.py`) only draw a
`Document`; they never compute a figure, so the PDF, the workbook and the
screen that reads the same ledger rows always agree.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.db.models import Model
from django.utils.translation import gettext as _

from accounts.models import Unit, User
from accounts.scoping import require_action

from ..pdf import document_number

TEXT = "text"
MONEY = "money"
ID = "id"  # ID numbers, account numbers, entry numbers: text, never a number
DATE = "date"
INT = "int"

PDF = "pdf"
XLSX = "xlsx"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT
    width: int = 12  # characters in the workbook; relative width in the PDF

    @property
    def numeric(self) -> bool:
        return self.kind in (MONEY, INT)


Row = tuple[Any, ...]


@dataclass
class Line:
    """A row outside the data: 期初余额, 合计, 期末余额. `values` by column key."""

    label: str
    values: dict[str, Decimal | int]


@dataclass
class Table:
    columns: list[Column]
    # A fresh iterator of rows (tuples in column order) on every call: the
    # rows are streamed from the database, never held as a list.
    rows: Callable[[], Iterator[Row]]
    count: int
    # Column key → the total of that column over every row.
    totals: dict[str, Decimal]
    sheet: str
    total_label: str = ""
    before: list[Line] = field(default_factory=list)  # lines above the data
    after: list[Line] = field(default_factory=list)  # lines below the totals
    # Amounts written out in Chinese capitals under the table.
    capitals: list[tuple[str, Decimal]] = field(default_factory=list)
    # Other figures the document states (counts), from the same selector.
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def lines_after(self) -> list[Line]:
        label = self.total_label or _("合计")
        return [Line(label, dict(self.totals)), *self.after] if self.totals else self.after


@dataclass
class Document:
    report: str  # the generator's name
    title: str
    number: str
    template: str
    filename: str  # without extension
    context: dict[str, Any] = field(default_factory=dict)
    table: Table | None = None
    obj: Model | None = None  # what the audit trail names
    unit: Unit | None = None
    landscape: bool = False
    # Facts printed above the table of the workbook (label, value).
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.table.count if self.table is not None else 0


class NoOptions(forms.Form):
    pass


class Generator:
    """One report. Subclasses set the class attributes and `build`."""

    name: ClassVar[str]
    prefix: ClassVar[str]  # document number prefix
    action: ClassVar[str]  # the scoping action that lets a person have it
    formats: ClassVar[tuple[str, ...]] = (PDF,)
    # The query keys that say "make it now" on a page without an object id;
    # without one of them the page shows the options form.
    required: ClassVar[tuple[str, ...]] = ()

    def target(self, user: User, pk: Any) -> Model | None:
        """The object the document is about (403 without the role, 404
        outside the user's units); None for documents chosen by options."""
        require_action(user, self.action)
        return None

    def options(self, user: User, target: Any, data: Mapping[str, Any] | None) -> forms.Form:
        return NoOptions(data)

    def ready(self, data: Mapping[str, Any]) -> bool:
        """Whether the request asks for the file (else: show the options)."""
        return not self.required or any(key in data for key in self.required)

    def build(self, user: User, target: Any, options: dict[str, Any]) -> Document:
        raise NotImplementedError

    def number(self, key: object) -> str:
        return document_number(self.prefix, key)


REGISTRY: dict[str, Generator] = {}


def register(cls: type[Generator]) -> type[Generator]:
    REGISTRY[cls.name] = cls()
    return cls


def period_text(date_from: Any, date_to: Any) -> str:
    if date_from and date_to:
        return _("%(a)s 至 %(b)s") % {"a": date_from, "b": date_to}
    if date_from:
        return _("%(a)s 起") % {"a": date_from}
    if date_to:
        return _("截至 %(b)s") % {"b": date_to}
    return _("全部")
