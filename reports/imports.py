"""The household import, as the web pages and the worker run it.

Upload → check (a job: every bad cell listed, nothing written) → confirm
(a second job: everything written in one transaction, or nothing). The
uploaded file waits in private storage between the two, named in the check
job's parameters; it never travels in the session. Files above
`background_rows()` rows are checked and imported by the background worker
with a progress bar; smaller ones run inside the request through the same
job kinds (`job_run_now`), so there is one code path.

The template (`template_xlsx`) is built here too: the exact headers of
`cases.import_sheet.HEADERS`, an example row, drop-down lists for the
person's units, the tiers and the causes, and a hidden sheet holding them.
"""

import io
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Unit, User
from accounts.scoping import has_action, units_for
from accounts.xlsx import text_row
from cases.import_sheet import (
    EXAMPLE_ID,
    HEADERS,
    MAX_BYTES,
    REQUIRED,
    SECONDARY_SEPARATOR,
    SHEET_NAME,
    CellError,
    check_upload,
    probe,
    read_sheet,
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
from cases.models import Cause, Tier
from cases.models.household import private_storage
from cases.services.imports import ImportRejected, households_import

from .jobs import JobOutput, Progress, job_kind, job_run_now, job_start
from .models import Job, JobStatus

CHECK_KIND = "household_import_check"
RUN_KIND = "household_import"
KINDS = (CHECK_KIND, RUN_KIND)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Data validations and text formats reach this far down the sheet.
TEMPLATE_ROWS = 100_000


def background_rows() -> int:
    """Files with more data rows than this go to the background worker."""
    return int(getattr(settings, "IMPORT_BACKGROUND_ROWS", 3000))


class ImportUploadForm(forms.Form):
    # An empty file gets the import's own message, not the form's generic one.
    file = forms.FileField(
        allow_empty_file=True,
        label=gettext_lazy("导入文件（.xlsx）"),
        help_text=gettext_lazy("使用下载的导入模板填写，每行一户，文件不超过 10 MB。"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


# -- upload and confirm ------------------------------------------------------------------


def _require_editor(actor: User) -> None:
    if not has_action(actor, "household.edit"):
        raise PermissionDenied(_("您无权建立或修改家庭档案。"))


def store_upload(actor: User, upload: UploadedFile) -> str:
    """Keep an upload privately until its check is confirmed or refused."""
    storage = private_storage()
    upload.seek(0)
    return storage.save(f"imports/{actor.pk}/{uuid.uuid4().hex}.xlsx", upload)


def read_head(upload: UploadedFile, *, limit: int = MAX_BYTES) -> str:
    """Refuse at once what is not an .xlsx under `limit`; the upload's name."""
    head = upload.read(8)
    upload.seek(0)
    name = upload.name or ""
    check_upload(name, upload.size or 0, head, limit=limit)
    return name


def start_job(*, actor: User, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Queue a file of more than `background_rows()` rows for the worker;
    run a smaller one in the request, through the same job kind."""
    if params["rows"] > background_rows():
        return job_start(actor=actor, kind=kind, title=title, params=params)
    return job_run_now(actor=actor, kind=kind, title=title, params=params)


def claim_check(*, actor: User, check: Job, kinds: Collection[str]) -> Job:
    """The check job, locked and marked as confirmed: once, only if it found
    nothing wrong, only by the person who uploaded the file."""
    with transaction.atomic():
        locked = Job.objects.select_for_update(no_key=True).get(pk=check.pk)
        if locked.created_by_id != actor.pk or locked.kind not in kinds:
            raise PermissionDenied
        if locked.status != JobStatus.DONE:
            raise ValidationError(_("文件还在检查中，请等检查完成后再确认导入。"))
        if not locked.result.get("ok"):
            raise ValidationError(_("文件检查未通过，不能导入。请修改后重新上传。"))
        if locked.result.get("run_job"):
            raise ValidationError(_("该文件已经确认导入过，不能重复导入。"))
        locked.result["run_job"] = -1  # claimed; the real id follows below
        locked.save(update_fields=["result"])
    return locked


def record_run(check: Job, run: Job) -> None:
    """Note on the check job which job imported its file."""
    check.result["run_job"] = run.pk
    Job.objects.filter(pk=check.pk).update(result=check.result)


def import_check_start(*, actor: User, upload: UploadedFile) -> Job:
    """Accept an upload for checking: refuse what is not an .xlsx under
    10 MB at once, keep the file privately, and run (or queue) the check."""
    _require_editor(actor)
    name = read_head(upload)
    rows = probe(upload)
    stored = store_upload(actor, upload)
    params = {"upload": stored, "filename": name[:200], "rows": rows}
    title = _("检查导入文件 %(name)s") % {"name": name[:150]}
    return start_job(actor=actor, kind=CHECK_KIND, title=title, params=params)


def import_confirm(*, actor: User, check: Job) -> Job:
    """Import a checked file: once, only if the check found nothing wrong,
    only by the person who uploaded it. The import checks every row again:
    the files on record may have changed since."""
    _require_editor(actor)
    locked = claim_check(actor=actor, check=check, kinds=(CHECK_KIND,))
    params = {
        "upload": locked.params["upload"],
        "filename": locked.params.get("filename", ""),
        "rows": locked.result.get("total", 0),
        "check_job": locked.pk,
    }
    title = _("导入家庭档案 %(name)s") % {"name": params["filename"][:150]}
    run = start_job(actor=actor, kind=RUN_KIND, title=title, params=params)
    record_run(locked, run)
    return run


# -- the job kinds -----------------------------------------------------------------------


def _progress_phases(progress: Progress, estimate: int) -> tuple[Any, Any]:
    """Reading counts for the first half of the bar, checking (and writing)
    for the second."""
    state = {"rows": max(estimate, 1)}

    def reading(done: int) -> None:
        state["rows"] = max(state["rows"], done)
        progress(done, 2 * state["rows"])

    def checking(done: int, total: int) -> None:
        progress(total + done, 2 * total)

    return reading, checking


def _process(job: Job, progress: Progress, *, dry_run: bool) -> JobOutput:
    actor = job.created_by
    filename = job.params.get("filename", "")
    reading, checking = _progress_phases(progress, int(job.params.get("rows") or 0))
    storage = private_storage()
    report = None
    try:
        with storage.open(job.params["upload"], "rb") as source:
            sheet = read_sheet(source, filename=filename, progress=reading)
        report = households_import(actor=actor, rows=sheet, dry_run=dry_run, progress=checking)
    except ImportRejected as exc:
        report = exc.report
    except (ValidationError, PermissionDenied) as exc:
        storage.delete(job.params["upload"])
        errors = [CellError(None, "", m) for m in refusal_messages(exc)]
        return _output(job, filename, total=0, valid=0, imported=0, errors=errors, units={})
    if not report.ok or not dry_run:
        # Imported, or refused: either way it will not be confirmed, so the
        # personal data in it need not stay on the server.
        storage.delete(job.params["upload"])
    return _output(
        job,
        filename,
        total=report.total,
        valid=report.valid,
        imported=report.imported,
        errors=report.errors,
        units=report.units,
    )


def refusal_messages(exc: ValidationError | PermissionDenied) -> list[str]:
    """What a job says of a file it cannot read or a person it refuses."""
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc) or _("无权导入。")]


def _output(
    job: Job,
    filename: str,
    *,
    total: int,
    valid: int,
    imported: int,
    errors: list[CellError],
    units: dict[str, int],
) -> JobOutput:
    result = {
        "ok": not errors,
        "total": total,
        "valid": valid,
        "imported": imported,
        "units": units,
        "errors": [e.as_list() for e in errors],
        "filename": filename,
    }
    if errors:
        return refused_output(filename, len(errors), errors_xlsx(errors), result)
    if job.kind == RUN_KIND:
        message = _("已导入 %(n)s 户家庭档案。") % {"n": imported}
    else:
        message = _("检查通过：可导入 %(n)s 户。") % {"n": valid}
    return JobOutput(message=message, result=result)


@job_kind(CHECK_KIND)
def import_check_job(job: Job, progress: Progress) -> JobOutput:
    return _process(job, progress, dry_run=True)


@job_kind(RUN_KIND)
def import_run_job(job: Job, progress: Progress) -> JobOutput:
    return _process(job, progress, dry_run=False)


def refused_output(filename: str, count: int, content: bytes, result: dict[str, Any]) -> JobOutput:
    """A check or import that found errors: the message, and the error list
    as a workbook named after the upload."""
    message = _("发现 %(n)s 处错误，未导入任何数据。请按错误清单修改后重新上传。") % {"n": count}
    stem = filename.rsplit(".", 1)[0] or "import"
    return JobOutput(
        filename=f"{stem}_错误清单.xlsx",
        content=content,
        content_type=XLSX,
        message=message,
        result=result,
    )


def errors_book(headers: list[str], widths: tuple[int, ...], rows: Iterable[list[Any]]) -> bytes:
    """An error list as a sheet the person can work through."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("错误清单"))
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append(text_row(sheet, headers))
    for row in rows:
        sheet.append(text_row(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def errors_xlsx(errors: list[CellError]) -> bytes:
    """Every error of a check as a sheet the person can work through."""
    return errors_book(
        [_("行号"), _("列"), _("原因")],
        (10, 16, 80),
        ([e.row, e.column or _("（整个文件）"), e.message] for e in errors),
    )


# -- the template ------------------------------------------------------------------------

HINTS = {
    "户主姓名": gettext_lazy("必填。与身份证一致。"),
    "身份证号": gettext_lazy(
        "必填。18 位居民身份证号，末位可为 X；出生日期和性别由号码自动得出。"
        "请保持“文本”格式，否则 Excel 会把末几位变成 0。"
    ),
    "联系电话": gettext_lazy("手机或固定电话，7 到 12 位数字。"),
    "所属工会": gettext_lazy("必填。从下拉列表选择，或填写单位代码。只能填您有建档权限的工会。"),
    "工作单位": gettext_lazy("不超过 100 字。"),
    "家庭住址": gettext_lazy("必填。不超过 200 字。"),
    "困难类别": gettext_lazy("从下拉列表选择。"),
    "主要致困原因": gettext_lazy("从下拉列表选择。"),
    "次要致困原因": gettext_lazy(
        "可填多个，用“、”分隔，如：因残、收入低。不能与主要致困原因相同。"
    ),
    "家庭人口": gettext_lazy("必填。含户主在内的人数，1 到 99 的整数。"),
    "家庭年收入": gettext_lazy("必填。近 12 个月家庭总收入，单位元，最多两位小数，不能为负数。"),
    "年刚性支出": gettext_lazy(
        "近 12 个月刚性支出（医疗、残疾、非义务教育、住房等）合计，单位元，最多两位小数。"
    ),
    "开户银行": gettext_lazy("实名银行卡的开户银行。"),
    "银行账号": gettext_lazy("12 到 30 位数字。请保持“文本”格式。"),
    "备注": gettext_lazy("不超过 2000 字。"),
}
WIDTHS = {
    "户主姓名": 12, "身份证号": 22, "联系电话": 15, "所属工会": 22, "工作单位": 20,
    "家庭住址": 36, "困难类别": 10, "主要致困原因": 13, "次要致困原因": 18, "家庭人口": 9,
    "家庭年收入": 12, "年刚性支出": 12, "开户银行": 16, "银行账号": 24, "备注": 24,
}  # fmt: skip
TEXT_COLUMNS = ("身份证号", "联系电话", "银行账号")
MONEY_COLUMNS = ("家庭年收入", "年刚性支出")


def template_units(user: User) -> list[str]:
    """How each of the person's units is entered in 所属工会."""
    return unit_labels(
        list(units_for(user, "household.edit").filter(is_active=True).order_by("path"))
    )


def unit_labels(units: list[Unit]) -> list[str]:
    """How each unit is entered in 所属工会: its name, or its code where
    another unit anywhere bears the same name."""
    shared = set(
        Unit.objects.filter(name__in=[u.name for u in units])
        .values("name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("name", flat=True)
    )
    return [u.code if u.name in shared else u.name for u in units]


def example_household(units: list[str], tiers: list[str], causes: list[str]) -> dict[str, Any]:
    """The template's example row (the register template's starts from it),
    given the drop-downs' values."""
    return {
        "户主姓名": "王秀兰",
        "身份证号": EXAMPLE_ID,
        "联系电话": "13812345678",
        "所属工会": units[0] if units else "",
        "工作单位": "郑州纺织厂",
        "家庭住址": "河南省郑州市金水区文化路街道黄河社区3号楼2单元501",
        "困难类别": tiers[1] if len(tiers) > 1 else (tiers[0] if tiers else ""),
        "主要致困原因": causes[0] if causes else "",
        "次要致困原因": SECONDARY_SEPARATOR.join(causes[1:3]),
        "家庭人口": 3,
        "家庭年收入": 24000,
        "年刚性支出": 3000,
        "开户银行": "中国工商银行",
        "银行账号": "6222021234567890123",
        "备注": _("示例行：导入前请删除本行"),
    }


def template_xlsx(user: User) -> bytes:
    units = template_units(user)
    tiers = list(Tier.objects.filter(is_active=True).values_list("name", flat=True))
    causes = list(Cause.objects.filter(is_active=True).values_list("name", flat=True))

    book, (sheet,), lists, guide = template_book(SHEET_NAME)
    column = {name: get_column_letter(i) for i, name in enumerate(HEADERS, start=1)}
    write_headers(sheet, HEADERS, required=REQUIRED, hints=HINTS, widths=WIDTHS)
    formats = {**dict.fromkeys(TEXT_COLUMNS, "@"), **dict.fromkeys(MONEY_COLUMNS, "0.00")}
    for name, number_format in formats.items():
        sheet.column_dimensions[column[name]].number_format = number_format

    example = example_household(units, tiers, causes)
    write_example(sheet, HEADERS, example, formats)

    # The lists the drop-downs read, on a sheet the person does not see.
    write_lists(lists, (("所属工会", units), ("困难类别", tiers), ("致困原因", causes)))

    last = TEMPLATE_ROWS + 1

    def rows_of(name: str) -> str:
        return f"{column[name]}2:{column[name]}{last}"

    add_choice(sheet, rows_of("所属工会"), list_source(1, len(units)))
    add_choice(sheet, rows_of("困难类别"), list_source(2, len(tiers)))
    add_choice(sheet, rows_of("主要致困原因"), list_source(3, len(causes)))
    # Several causes go in one cell, so the list only suggests.
    add_choice(
        sheet,
        rows_of("次要致困原因"),
        list_source(3, len(causes)),
        strict=False,
        prompt=_("可选一个，或填写多个并用“、”分隔。"),
        prompt_title="次要致困原因",
    )
    size = DataValidation(type="whole", operator="between", formula1="1", formula2="99")
    size.error, size.errorTitle = _("家庭人口应为 1 到 99 的整数。"), _("家庭人口")
    size.add(rows_of("家庭人口"))
    sheet.add_data_validation(size)
    for name in MONEY_COLUMNS:
        money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        money.error, money.errorTitle = _("金额应为不小于 0 的数字，最多两位小数。"), name
        money.add(rows_of(name))
        sheet.add_data_validation(money)

    start_guide(guide, _("困难职工家庭档案导入模板 填写说明"))
    guide.append([_("每行一户，从第 2 行起填写；第 2 行是示例，导入前请删除。红色表头为必填。")])
    guide.append([_("不要修改、删除或增加表头；不要使用公式；文件不超过 %(mb)s MB。")
                  % {"mb": MAX_BYTES // (1024 * 1024)}])  # fmt: skip
    guide.append([_("整个文件先全部检查，有任何错误都不会导入；请按错误清单逐项修改后重新上传。")])
    guide.append([])
    guide.append([_("列"), _("填写要求")])
    for name in HEADERS:
        guide.append([name, str(HINTS[name])])
    return workbook_bytes(book)


def preview_errors(job: Job) -> list[CellError]:
    return [CellError(*entry) for entry in job.result.get("errors", [])]


def job_summary(job: Job, *, check_kinds: Collection[str] = (CHECK_KIND,)) -> dict[str, Any]:
    """What the preview page says about a finished import job."""
    result = job.result or {}
    return {
        "ok": bool(result.get("ok")),
        "total": result.get("total", 0),
        "valid": result.get("valid", 0),
        "imported": result.get("imported", 0),
        "units": sorted((result.get("units") or {}).items(), key=lambda i: -i[1]),
        "confirmed": bool(result.get("run_job")),
        "run_job": result.get("run_job") if (result.get("run_job") or 0) > 0 else None,
        "is_check": job.kind in check_kinds,
        "filename": result.get("filename") or job.params.get("filename", ""),
    }
