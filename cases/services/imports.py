"""Importing household files from the template: all rows or none.

The whole sheet is checked first and every bad cell comes back with its row,
column and reason; a real import then writes every row in one transaction
and leaves one audit event with the count. The web pages, the background
jobs and `manage.py import_households` all come through here.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import tablib
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import has_action

from ..import_sheet import HEADERS, CellError, Sheet
from ..resources import HouseholdResource

Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    total: int  # data rows in the file
    valid: int  # rows without a problem
    imported: int = 0  # rows written (0 unless the whole file was good)
    errors: list[CellError] = field(default_factory=list)
    units: dict[str, int] = field(default_factory=dict)  # unit name → rows

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportRejected(ValidationError):
    """The file had problems; nothing was saved. `report.errors` lists them."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(_("导入文件有 %(n)s 处错误，未导入任何数据。") % {"n": len(report.errors)})
        self.report = report


def _column_order(error: CellError) -> tuple[int, int, str]:
    position = HEADERS.index(error.column) if error.column in HEADERS else len(HEADERS)
    return (error.row or 0, position, error.column)


def _run(
    *,
    actor: User | None,
    sheet: Sheet,
    unit_scope: Unit | None,
    dry_run: bool,
    progress: Progress | None,
) -> tuple[ImportReport, HouseholdResource]:
    resource = HouseholdResource(actor=actor, sheet=sheet, scope=unit_scope, progress=progress)
    # A file without a required column: its header problems are the answer
    # (not one "missing" per row), and no row can be written.
    rows = sheet.rows if sheet.usable else []
    dataset = tablib.Dataset(*rows, headers=sheet.headers)
    # The resource's own loop (no savepoint per row with bulk writes); the
    # transaction around it is the caller's, so a dry run holds no lock.
    result = resource.import_data_inner(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        using_transactions=not dry_run,
        collect_failed_rows=False,
    )
    errors = list(sheet.errors)
    for invalid in result.invalid_rows:
        excel_row = sheet.row_numbers[invalid.number - 1]
        for column, messages in invalid.error_dict.items():
            errors.extend(CellError(excel_row, column, m) for m in messages)
    for error_row in result.error_rows:
        excel_row = sheet.row_numbers[error_row.number - 1]
        errors.extend(
            CellError(excel_row, "", _("无法处理这一行：%(e)s") % {"e": e.error})
            for e in error_row.errors
        )
    for base in result.base_errors:
        if isinstance(base.error, IntegrityError):
            # Someone filed one of these people a moment ago, after the
            # check. Nothing stays; checking the file again names them.
            message = _("保存时数据库拒绝了部分档案（可能刚有人为同一人建档），请重新导入。")
        else:
            log.error("household import failed: %r", base.error)
            message = _("导入时发生系统错误：%(e)s") % {"e": base.error}
        errors.append(CellError(None, "", message))
    if progress is not None:
        progress(len(sheet.rows), len(sheet.rows))
    errors.sort(key=_column_order)
    names = dict(Unit.objects.filter(pk__in=resource.by_unit).values_list("pk", "name"))
    report = ImportReport(
        total=len(sheet.rows),
        valid=len(rows) - len(result.invalid_rows) - len(result.error_rows),
        errors=errors,
        units={names[pk]: n for pk, n in sorted(resource.by_unit.items(), key=lambda i: -i[1])},
    )
    return report, resource


def _common_unit(units: list[Unit]) -> Unit | None:
    """The lowest unit covering all of them: where the import's audit event
    belongs, so the auditors of that union see it."""
    if not units:
        return None
    prefix = units[0].path
    for unit in units[1:]:
        while not unit.path.startswith(prefix):
            prefix = prefix[: prefix.rstrip("/").rfind("/") + 1]
    return Unit.objects.filter(path=prefix).first() if prefix else None


def households_import(
    *,
    actor: User | None,
    rows: Sheet,
    unit_scope: Unit | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of `rows` and, unless `dry_run`, write them all.

    `actor` imports into the units where they may edit household files
    (None: a command-line import by the system, into any unit); `unit_scope`
    narrows that to one unit and the units below it. Raises ImportRejected
    (nothing written) when any cell is bad; a dry run returns the report
    with its errors instead.
    """
    if actor is not None and not has_action(actor, "household.edit"):
        raise PermissionDenied(_("您无权建立或修改家庭档案。"))
    if dry_run:
        report, _resource = _run(
            actor=actor, sheet=rows, unit_scope=unit_scope, dry_run=True, progress=progress
        )
        return report
    with transaction.atomic():
        report, resource = _run(
            actor=actor, sheet=rows, unit_scope=unit_scope, dry_run=False, progress=progress
        )
        if not report.ok:
            raise ImportRejected(report)
        report.imported = resource.created
        units = list(Unit.objects.filter(pk__in=resource.by_unit))
        audit_record(
            actor=actor,
            action="household.import",
            unit=_common_unit(units),
            changes={
                "imported": [None, report.imported],
                "file": [None, rows.filename],
                "units": [None, report.units],
            },
        )
    return report
