"""Moving in (建档迁移), as the web pages and the worker run it.

Two modes share one flow, the household import's (`reports.imports`):
upload → check (a job: every bad cell listed by sheet, row and column,
nothing written) → confirm (a second job: everything written in one
transaction, or nothing). Files above `background_rows()` rows go to the
background worker with a progress bar; smaller ones run in the request
through the same job kinds.

- register: the existing register as filed households
  (`cases.services.migration.register_import`);
- history: past aid paid (`programs.services.history.aid_history_import`).

Only a union's chair or administrator may run either. The upload waits in
private storage between check and confirmation, named in the check job's
parameters; the upload's id (the check job's) goes into `migrated_from` so
every migrated record says which upload it came from.
"""

import copy
import datetime
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import User
from cases import choices as c
from cases import idnumber
from cases.import_sheet import EXAMPLE_ID, MIGRATE_MAX_BYTES, probe
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
from cases.migrate_sheet import (
    HEADERS,
    MEMBER_HEADERS,
    MEMBER_REQUIRED,
    MEMBERS_SHEET,
    REQUIRED,
    SHEET_NAME,
    STATUS_EXITED,
    STATUS_FILED,
    SheetError,
    probe_register,
)
from cases.models import Cause, ExitKind, FileCategory, Tier
from cases.models.household import private_storage
from cases.services.migration import (
    migration_label,
    migration_units,
    register_import,
    require_migrator,
)

from .imports import (
    HINTS as HOUSEHOLD_HINTS,
)
from .imports import (
    WIDTHS as HOUSEHOLD_WIDTHS,
)
from .imports import (
    ImportUploadForm,
    claim_check,
    errors_book,
    example_household,
    read_head,
    record_run,
    refusal_messages,
    refused_output,
    start_job,
    store_upload,
    unit_labels,
)
from .imports import (
    job_summary as household_summary,
)
from .jobs import JobOutput, Progress, job_kind
from .models import Job

HISTORY_SHEET = "发放记录"


@dataclass(frozen=True)
class Mode:
    key: str
    check_kind: str
    run_kind: str
    title: Any  # what the pages call it
    template_name: Any  # the downloaded template's file name, without .xlsx
    done_message: Any  # "%(n)s" rows written


MODES = {
    "register": Mode(
        "register",
        "register_migrate_check",
        "register_migrate",
        gettext_lazy("迁移已有档案"),
        gettext_lazy("建档迁移模板"),
        gettext_lazy("已迁移 %(h)s 户档案、%(m)s 名家庭成员。"),
    ),
    "history": Mode(
        "history",
        "history_migrate_check",
        "history_migrate",
        gettext_lazy("迁移发放记录"),
        gettext_lazy("发放记录迁移模板"),
        gettext_lazy("已迁移 %(n)s 条发放记录。"),
    ),
}
KINDS = tuple(kind for m in MODES.values() for kind in (m.check_kind, m.run_kind))
CHECK_KINDS = frozenset(m.check_kind for m in MODES.values())


def mode_of(job: Job) -> Mode:
    return next(m for m in MODES.values() if job.kind in (m.check_kind, m.run_kind))


class MigrateUploadForm(ImportUploadForm):
    # Its own field: the parent's is shared by every subclass, so changing
    # its help text would change the household import's too.
    file = cast(forms.FileField, copy.deepcopy(ImportUploadForm.base_fields["file"]))
    file.help_text = gettext_lazy("使用下载的迁移模板填写，文件不超过 64 MB。")


# -- the two services behind one call ----------------------------------------------------


def _history_import(**kwargs: Any) -> Any:
    # Imported here: programs sits to the left of reports, but its history
    # service arrived with this issue and is not needed to render a page.
    from programs.services.history import aid_history_import

    return aid_history_import(**kwargs)


def _history_template(actor: User) -> bytes:
    from programs import history_sheet

    return history_sheet.history_template_xlsx(actor)


def _run_service(mode: Mode, **kwargs: Any) -> Any:
    if mode.key == "register":
        return register_import(**kwargs)
    return _history_import(**kwargs)


def errors_as_lists(errors: list[Any], default_sheet: str) -> list[list[Any]]:
    """[sheet, row, column, reason] for either service's errors: the history
    import reports plain `CellError`s of its one sheet."""
    found = []
    for error in errors:
        sheet = getattr(error, "sheet", None) or ""
        if not sheet and error.row is not None:
            sheet = default_sheet
        found.append([sheet, error.row, error.column, error.message])
    return found


# -- upload and confirm ------------------------------------------------------------------


def migrate_check_start(*, actor: User, upload: UploadedFile, mode: Mode) -> Job:
    """Accept an upload for checking: refuse at once what is not an .xlsx
    under the migration limit, keep it privately, and run (or queue) the check."""
    require_migrator(actor)
    name = read_head(upload, limit=MIGRATE_MAX_BYTES)
    # The register counts both its sheets; the history has one.
    rows = probe_register(upload) if mode.key == "register" else probe(upload)
    stored = store_upload(actor, upload)
    params = {"upload": stored, "filename": name[:200], "rows": rows, "mode": mode.key}
    title = _("检查%(what)s文件 %(name)s") % {"what": mode.title, "name": name[:150]}
    return start_job(actor=actor, kind=mode.check_kind, title=title, params=params)


def migrate_confirm(*, actor: User, check: Job) -> Job:
    """Write a checked file: once, only if the check found nothing wrong,
    only by the person who uploaded it. Every row is checked again."""
    require_migrator(actor)
    locked = claim_check(actor=actor, check=check, kinds=CHECK_KINDS)
    mode = mode_of(locked)
    params = {
        "upload": locked.params["upload"],
        "filename": locked.params.get("filename", ""),
        "rows": locked.result.get("total", 0),
        "check_job": locked.pk,
        "mode": mode.key,
    }
    title = _("%(what)s %(name)s") % {"what": mode.title, "name": params["filename"][:150]}
    run = start_job(actor=actor, kind=mode.run_kind, title=title, params=params)
    record_run(locked, run)
    return run


# -- the job kinds -----------------------------------------------------------------------


@contextmanager
def local_copy(storage: Storage, name: str) -> Iterator[Path]:
    """The stored upload as a file on this server's disk, which the workbook
    readers take: the stored file itself in a shared folder; from object
    storage, a temporary copy that is gone when the block ends."""
    try:
        local: Path | None = Path(storage.path(name))
    except NotImplementedError:
        local = None
    if local is not None and local.is_file():
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="hardship-import-") as folder:
        copy_path = Path(folder) / Path(name).name
        with storage.open(name, "rb") as source, copy_path.open("wb") as target:
            shutil.copyfileobj(source, target)
        yield copy_path


def _process(job: Job, progress: Callable[[int, int], None], *, check_only: bool) -> JobOutput:
    mode = mode_of(job)
    filename = job.params.get("filename", "")
    storage = private_storage()
    # The upload's id: the check job's, which the run job carries along.
    label = migration_label(filename, job.params.get("check_job") or job.pk)
    default_sheet = SHEET_NAME if mode.key == "register" else HISTORY_SHEET
    report = None
    try:
        with local_copy(storage, job.params["upload"]) as path:
            report = _run_service(
                mode,
                actor=job.created_by,
                path=path,
                source_label=label,
                check_only=check_only,
                progress=progress,
            )
    except (ValidationError, PermissionDenied) as exc:
        rejected = getattr(exc, "report", None)
        if rejected is not None:
            report = rejected
        else:
            storage.delete(job.params["upload"])
            errors = [["", None, "", m] for m in refusal_messages(exc)]
            return _output(job, mode, filename, {"total": 0, "valid": 0, "imported": 0},
                           errors, {}, {})  # fmt: skip
    errors = errors_as_lists(report.errors, default_sheet)
    if errors or not check_only:
        # Imported, or refused: either way it will not be confirmed, so the
        # personal data in it need not stay on the server.
        storage.delete(job.params["upload"])
    figures = {"total": report.total, "valid": report.valid, "imported": report.imported}
    counts = dict(getattr(report, "counts", {}) or {})
    return _output(job, mode, filename, figures, errors, report.units, counts)


def _output(
    job: Job,
    mode: Mode,
    filename: str,
    figures: dict[str, int],
    errors: list[list[Any]],
    units: dict[str, int],
    counts: dict[str, int],
) -> JobOutput:
    result = {
        "ok": not errors,
        **figures,
        "units": units,
        "counts": counts,
        "errors": errors,
        "filename": filename,
        "mode": mode.key,
    }
    if errors:
        return refused_output(filename, len(errors), errors_xlsx(errors), result)
    if job.kind == mode.run_kind:
        message = str(mode.done_message) % {
            "h": counts.get("households", 0),
            "m": counts.get("members", 0),
            "n": figures["imported"],
        }
    else:
        message = _("检查通过：%(n)s 行数据全部无误。") % {"n": figures["valid"]}
    return JobOutput(message=message, result=result)


def _register(mode: Mode) -> None:
    @job_kind(mode.check_kind)
    def check(job: Job, progress: Progress) -> JobOutput:
        return _process(job, progress, check_only=True)

    @job_kind(mode.run_kind)
    def run(job: Job, progress: Progress) -> JobOutput:
        return _process(job, progress, check_only=False)


for _mode in MODES.values():
    _register(_mode)


def errors_xlsx(errors: list[list[Any]]) -> bytes:
    return errors_book(
        [_("工作表"), _("行号"), _("列"), _("原因")],
        (12, 10, 16, 80),
        (
            [sheet_name or _("（整个文件）"), row, column or "", message]
            for sheet_name, row, column, message in errors
        ),
    )


def preview_errors(job: Job) -> list[SheetError]:
    return [SheetError(*entry) for entry in (job.result or {}).get("errors", [])]


def job_summary(job: Job) -> dict[str, Any]:
    return {
        **household_summary(job, check_kinds=CHECK_KINDS),
        "counts": (job.result or {}).get("counts") or {},
        "mode": mode_of(job).key,
    }


# -- the register template ---------------------------------------------------------------

HINTS: dict[str, Any] = {
    **HOUSEHOLD_HINTS,
    "所属工会": gettext_lazy(
        "必填。从下拉列表选择，或填写单位代码。只能填您任主席或管理员的工会。"
    ),
    "档案编号": gettext_lazy(
        "必填。原档案编号，按原样保留；同一工会内不能重复。以后新建档的编号接着最大的编号往后排。"
    ),
    "建档日期": gettext_lazy("必填。原建档日期，如 2021-03-15，不能晚于今天。"),
    "档案分类": gettext_lazy("可填多个，用“、”分隔，如：大病职工、帮扶助学。"),
    "档案状态": gettext_lazy("“在档”或“已退出”，不填视为在档。"),
    "退出日期": gettext_lazy("档案状态为“已退出”时必填，不能早于建档日期。"),
    "退出原因": gettext_lazy(
        "档案状态为“已退出”时必填，以退出类型开头，如“脱困：家庭收入连续六个月高于标准”。"
        "退出类型可选：脱困、解困（政府兜底保障）、迁出、死亡、本人申请退出、不再符合条件。"
    ),
    "最近走访日期": gettext_lazy("最近一次走访的日期，可不填。"),
    "帮扶人": gettext_lazy(
        "每人写成“姓名/职务/电话”（职务、电话可不填），多人用“、”分隔，第一位为第一帮扶人。"
        "按姓名和电话对应本工会的帮扶人名册，名册中没有的自动登记。"
    ),
}
MEMBER_HINTS: dict[str, Any] = {
    "户主身份证号": gettext_lazy("必填。该成员所在家庭户主的身份证号，须在“困难职工”表中。"),
    "姓名": gettext_lazy("必填。"),
    "与户主关系": gettext_lazy("必填。从下拉列表选择。"),
    "身份证号": gettext_lazy("可不填。填写时须为有效的 18 位身份证号，不能与其他人重复。"),
    "健康状况": gettext_lazy("从下拉列表选择，不填视为健康。"),
    "年收入": gettext_lazy("近 12 个月收入，单位元，最多两位小数。"),
    "就读学校": gettext_lazy("在学的填写学校名称。"),
    "年级": gettext_lazy("如：初二、大三。"),
}
WIDTHS = {
    **HOUSEHOLD_WIDTHS,
    "档案编号": 18, "建档日期": 12, "档案分类": 18, "档案状态": 10, "退出日期": 12,
    "退出原因": 28, "最近走访日期": 13, "帮扶人": 40,
}  # fmt: skip
TEXT_COLUMNS = ("身份证号", "联系电话", "银行账号", "档案编号")
MEMBER_TEXT_COLUMNS = ("户主身份证号", "身份证号")
DATE_FORMAT = "yyyy-mm-dd"
TEMPLATE_ROWS = 20_000


def _choice_labels(choices: Any) -> list[str]:
    from django.utils import translation

    with translation.override("zh-hans"):
        return [str(label) for value, label in choices if value]


def register_template_xlsx(user: User) -> bytes:
    """Both sheets with their headers (required ones in red, each with its
    hint), one example household and its member, and drop-downs for the
    person's units, the tiers, causes, categories, statuses and relations."""
    # The household import's `template_units` follows the caseworker's
    # units; here it is the units the person chairs or administers.
    units = list(migration_units(user).filter(is_active=True).order_by("path"))
    unit_names = unit_labels(units)
    tiers = list(Tier.objects.filter(is_active=True).values_list("name", flat=True))
    causes = list(Cause.objects.filter(is_active=True).values_list("name", flat=True))
    categories = list(FileCategory.objects.filter(is_active=True).values_list("name", flat=True))
    relations = _choice_labels(c.Relation.choices)
    health = _choice_labels(c.HealthStatus.choices)
    exits = _choice_labels(ExitKind.choices)
    today = datetime.date.today()

    book, (sheet, members), lists, guide = template_book(SHEET_NAME, MEMBERS_SHEET)
    write_headers(sheet, HEADERS, required=REQUIRED, hints=HINTS, widths=WIDTHS, hint_height=120)
    write_headers(members, MEMBER_HEADERS, required=MEMBER_REQUIRED, hints=MEMBER_HINTS,
                  widths=WIDTHS, hint_height=120)  # fmt: skip
    col = {name: get_column_letter(i) for i, name in enumerate(HEADERS, start=1)}
    mcol = {name: get_column_letter(i) for i, name in enumerate(MEMBER_HEADERS, start=1)}
    for name in TEXT_COLUMNS:
        sheet.column_dimensions[col[name]].number_format = "@"
    for name in MEMBER_TEXT_COLUMNS:
        members.column_dimensions[mcol[name]].number_format = "@"
    for name in ("建档日期", "退出日期", "最近走访日期"):
        sheet.column_dimensions[col[name]].number_format = DATE_FORMAT

    unit = units[0] if units else None
    example = {
        **example_household(unit_names, tiers, causes),
        "档案编号": f"{unit.code if unit else '410105'}-{today.year - 3}-0012",
        "建档日期": datetime.date(today.year - 3, 3, 15),
        "档案分类": "、".join(categories[:2]),
        "档案状态": STATUS_FILED,
        "退出日期": None,
        "退出原因": "",
        "最近走访日期": datetime.date(today.year - 1, 11, 20),
        "帮扶人": "李建国/车间主任/13911112222、赵敏/工会干事/13733334444",
    }
    dates = {name: DATE_FORMAT for name, v in example.items() if isinstance(v, datetime.date)}
    write_example(sheet, HEADERS, example, {**dates, **dict.fromkeys(TEXT_COLUMNS, "@")})
    child = idnumber.make("410105", datetime.date(2008, 6, 1), 125)
    member_example = {
        "户主身份证号": EXAMPLE_ID, "姓名": "李小明", "与户主关系": relations[1],
        "身份证号": child, "健康状况": health[0], "年收入": 0, "就读学校": "郑州市第九中学",
        "年级": "高二",
    }  # fmt: skip
    write_example(members, MEMBER_HEADERS, member_example, dict.fromkeys(MEMBER_TEXT_COLUMNS, "@"))

    columns = (
        ("所属工会", unit_names), ("困难类别", tiers), ("致困原因", causes),
        ("档案分类", categories), ("档案状态", [STATUS_FILED, STATUS_EXITED]),
        ("与户主关系", relations), ("健康状况", health), ("退出类型", exits),
    )  # fmt: skip
    write_lists(lists, columns)

    def source(index: int) -> str:
        return list_source(index, len(columns[index - 1][1]))

    def choice(
        ws: Any, letter: str, formula: str, *, strict: bool = True, prompt: str = ""
    ) -> None:
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        add_choice(ws, cells, formula, strict=strict, prompt=prompt)

    choice(sheet, col["所属工会"], source(1))
    choice(sheet, col["困难类别"], source(2))
    choice(sheet, col["主要致困原因"], source(3))
    choice(sheet, col["次要致困原因"], source(3), strict=False,
           prompt=_("可选一个，或填写多个并用“、”分隔。"))  # fmt: skip
    choice(sheet, col["档案分类"], source(4), strict=False,
           prompt=_("可选一个，或填写多个并用“、”分隔。"))  # fmt: skip
    choice(sheet, col["档案状态"], source(5))
    choice(sheet, col["退出原因"], source(8), strict=False,
           prompt=_("选择退出类型后，可在后面加“：”写明具体原因。"))  # fmt: skip
    choice(members, mcol["与户主关系"], source(6))
    choice(members, mcol["健康状况"], source(7))
    for name in ("建档日期", "退出日期", "最近走访日期"):
        rule = DataValidation(type="date", operator="lessThanOrEqual", formula1="TODAY()")
        rule.error, rule.errorTitle = _("请填写不晚于今天的日期，如 2021-03-15。"), name
        rule.add(f"{col[name]}2:{col[name]}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(rule)

    start_guide(guide, _("建档迁移模板 填写说明"))
    guide.append([_("“困难职工”表每行一户已建档家庭；“家庭成员”表每行一名成员（不含户主），"
                    "用户主身份证号对应到户。两表第 2 行都是示例，导入前请删除。")])  # fmt: skip
    guide.append([_("红色表头为必填；不要修改、删除或增加表头；不要使用公式；文件不超过 64 MB。")])
    guide.append([_("整个文件先全部检查，有任何错误都不会导入；请按错误清单（工作表、行号、列）"
                    "逐项修改后重新上传。")])  # fmt: skip
    guide.append([])
    for title, names, hints in ((SHEET_NAME, HEADERS, HINTS),
                                (MEMBERS_SHEET, MEMBER_HEADERS, MEMBER_HINTS)):  # fmt: skip
        guide.append([title])
        for name in names:
            guide.append([name, str(hints[name])])
        guide.append([])
    return workbook_bytes(book)


def template_xlsx(mode: Mode, user: User) -> bytes:
    require_migrator(user)
    if mode.key == "register":
        return register_template_xlsx(user)
    return _history_template(user)
