"""Every import file gets an answer.

Seeded malformed workbooks (tests/reports/fuzz_files.py: wrong, missing,
extra, repeated, blank, merged and displaced headers; formulas, 40,000-
character cells, values of the wrong type, blank rows, extra and missing
sheets; random bytes, cut-off and non-workbook archives, zip bombs, .xls
and .csv under an .xlsx name) go through all four imports: the household
import, the register migration, the aid history and a cooperative's member
roster. Each import's check (what the upload page runs) must answer with a
message or a list of errors, never an exception; the import the file was
made for is then run for real, and writes everything (a file that passed
its check) or nothing at all. A sample goes through the web pages too.

A failure names the seed and the mutation: `malformed(seed, context)`
makes the same file again.
"""

import datetime
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock, idnumber
from cases.import_sheet import (
    MIGRATE_MAX_BYTES,
    check_upload,
    probe,
    read_sheet,
)
from cases.migrate_sheet import probe_register
from cases.models import Household, HouseholdStatus, Member
from cases.services.imports import households_import
from cases.services.migration import register_import
from funds import services as ledger
from funds.models import IncomeSource, LedgerEntry
from programs.models import AidPayment, Application, Cooperative, CoopMember, Program
from programs.services import roster_import as roster
from programs.services.history import aid_history_import
from reports.models import Job, JobStatus
from tests.builders import make_household
from tests.reports.fuzz_files import MUTATIONS, TARGETS, Case, Context, malformed

pytestmark = pytest.mark.django_db

FILES = 520  # every (import, mutation) pair at least four times
SEEDS = range(FILES)
CHUNK = 40
CHUNKS = [SEEDS[i : i + CHUNK] for i in range(0, len(SEEDS), CHUNK)]
COUNTED = (Household, Member, Application, AidPayment, LedgerEntry, CoopMember, AuditEvent)
# What an answer must never read like: the inside of the program.
LEAK = re.compile(r"Error\b|Exception|Traceback|object at 0x|\bNone\b")
PAID_ON = datetime.date(clock.today().year - 1, 2, 1)


class World:
    """The people and records every fuzzed file is checked against."""

    def __init__(self, units: dict, alice, carol, dave, tmp_path: Path) -> None:
        self.alice, self.carol, self.tmp = alice, carol, tmp_path
        heads = []
        for position, name in enumerate(("王秀兰", "李建国")):
            number = idnumber.make("410105", datetime.date(1970, 5, 1 + position), 300 + position)
            make_household(
                units["a1"], name=name, id_number=number, status=HouseholdStatus.FILED,
                filed_on=datetime.date(2020, 1, 1), file_number=f"JS-000{position}",
                bank_name="中国工商银行", bank_account="6222020200112233445",
            )  # fmt: skip
            heads.append((number, name))
        program = Program.objects.create(
            unit=units["city"], name="春节送温暖", category="festival", kind="cash_goods"
        )
        fund = ledger.fund_create(actor=dave, unit=units["a"], name="帮扶资金", year=PAID_ON.year)
        LedgerEntry.objects.create(
            fund=fund, kind="receipt", direction=1, amount=Decimal("100000"),
            occurred_on=datetime.date(PAID_ON.year, 1, 1), memo="财政拨款", actor=dave,
            source=IncomeSource.objects.filter(code="admin_allocation").first(),
        )  # fmt: skip
        mutual_fund = ledger.fund_create(
            actor=dave, unit=units["a"], name="职工医疗互助金", year=clock.today().year
        )
        mutual_program = Program.objects.create(
            unit=units["a"], name="职工医疗互助", category="mutual_medical", kind="cash"
        )
        self.coop = Cooperative.objects.create(
            unit=units["a"], name="金水区职工医疗互助会", fund=mutual_fund,
            program=mutual_program, first_premium=Decimal("120"), yearly_premium=Decimal("60"),
        )  # fmt: skip
        self.context = Context(
            unit_code="410105",
            history_heads=heads,
            program=program.name,
            fund=fund.name,
            paid_on=PAID_ON,
        )

    def path(self, case: Case) -> Path:
        path = self.tmp / f"{case.seed}-{case.name}"
        path.write_bytes(case.content)
        return path


@pytest.fixture
def world(units, alice, carol, dave, tmp_path):
    return World(units, alice, carol, dave, tmp_path)


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in COUNTED)


# -- each import as its upload page runs it ------------------------------------------------
#
# (passed, messages). The request refuses a file that is not a small .xlsx
# and counts its rows; the check job reads it and checks every row. Only a
# refusal with a message (ValidationError, which ImportRejected and
# RosterRefused are) is an answer; any other exception is a crash.


def _messages(errors: list) -> list[str]:
    return [str(e) for e in errors]


def _refusal(exc: ValidationError) -> list[str]:
    """An ImportRejected's errors, else the refusal's own messages."""
    report = getattr(exc, "report", None)
    return _messages(report.errors) if report is not None else exc.messages


def households(world: World, case: Case, *, write: bool) -> tuple[bool, list[str]]:
    source = io.BytesIO(case.content)
    try:
        check_upload(case.name, len(case.content), case.content[:8])
        probe(source)
        sheet = read_sheet(source, filename=case.name)
        report = households_import(actor=world.alice, rows=sheet, dry_run=not write)
    except ValidationError as exc:
        return False, _refusal(exc)
    return report.ok, _messages(report.errors)


def register(world: World, case: Case, *, write: bool) -> tuple[bool, list[str]]:
    path = world.path(case)
    try:
        check_upload(case.name, len(case.content), case.content[:8], limit=MIGRATE_MAX_BYTES)
        with path.open("rb") as source:
            probe_register(source)
        report = register_import(
            actor=world.carol, path=path, source_label=str(case), check_only=not write
        )
    except ValidationError as exc:
        return False, exc.messages
    return report.ok, _messages(report.errors)


def history(world: World, case: Case, *, write: bool) -> tuple[bool, list[str]]:
    path = world.path(case)
    try:
        check_upload(case.name, len(case.content), case.content[:8], limit=MIGRATE_MAX_BYTES)
        with path.open("rb") as source:
            probe(source)
        report = aid_history_import(
            actor=world.carol, path=path, source_label=str(case), check_only=not write
        )
    except ValidationError as exc:
        return False, _refusal(exc)
    return report.ok, _messages(report.errors)


def members(world: World, case: Case, *, write: bool) -> tuple[bool, list[str]]:
    upload = SimpleUploadedFile(case.name, case.content)
    try:
        rows = roster.read_roster(upload)
        checked = roster.roster_check(actor=world.alice, cooperative=world.coop, roster=rows)
        if write and not checked.errors:
            roster.roster_import(actor=world.alice, cooperative=world.coop, roster=rows)
    except roster.RosterRefused as exc:
        return False, _messages(exc.cells)
    except ValidationError as exc:
        return False, exc.messages
    return not checked.errors, _messages(checked.errors)


IMPORTS: dict[str, Callable[..., tuple[bool, list[str]]]] = {
    "households": households,
    "register": register,
    "history": history,
    "roster": members,
}


def _answered(case: Case, target: str, passed: bool, messages: list[str]) -> None:
    where = f"{case} on the {target} import"
    assert passed or messages, f"{where}: refused without saying why"
    for message in messages:
        assert message.strip(), f"{where}: an empty message"
        assert not LEAK.search(message), f"{where}: {message[:300]}"


def _run(world: World, case: Case) -> str:
    """Every import's check, then the real import of the file's own one."""
    for target, run in IMPORTS.items():
        try:
            passed, messages = run(world, case, write=False)
        except PermissionDenied as exc:  # pragma: no cover - the personas may import
            raise AssertionError(f"{case} on {target}: {exc}") from exc
        except Exception as exc:
            raise AssertionError(f"{case} crashed the {target} check: {exc!r}") from exc
        _answered(case, target, passed, messages)
        if target == case.target:
            own = passed
    before = counts()
    with transaction.atomic():
        try:
            written, messages = IMPORTS[case.target](world, case, write=True)
        except Exception as exc:
            raise AssertionError(f"{case} crashed the {case.target} import: {exc!r}") from exc
        after = counts()
        transaction.set_rollback(True)  # the next file meets the same records
    _answered(case, case.target, written, messages)
    assert written == own, f"{case}: the check said {own}, the import did {written}"
    if written:
        assert after != before, f"{case}: passed but wrote nothing"
    else:
        assert after == before, f"{case}: refused but wrote {before} → {after}"
    return "imported" if written else "refused"


@pytest.mark.parametrize("seeds", CHUNKS, ids=[f"seeds_{c.start}-{c.stop - 1}" for c in CHUNKS])
def test_every_malformed_file_gets_an_answer_and_writes_all_or_nothing(world, seeds):
    outcomes = [_run(world, malformed(seed, world.context)) for seed in seeds]
    assert outcomes.count("refused") > len(seeds) // 2


def test_the_fuzz_covers_at_least_500_files_and_every_kind_of_damage():
    assert len(SEEDS) >= 500
    made = {(seed % len(TARGETS), (seed // len(TARGETS)) % len(MUTATIONS)) for seed in SEEDS}
    assert len(made) == len(TARGETS) * len(MUTATIONS)
    assert {"zip_bomb", "huge_cell", "merged_header", "header_below_row_1"} <= set(MUTATIONS)


def test_a_file_is_made_again_from_its_seed(world):
    for seed in (7, 130, 481):
        first, again = malformed(seed, world.context), malformed(seed, world.context)
        assert (first.target, first.mutation) == (again.target, again.mutation)
        if first.mutation not in ("zip_bomb", "random_bytes") and "+" not in first.mutation:
            assert len(first.content) == len(again.content)


# -- through the web pages -------------------------------------------------------------------

WEB_SEEDS = range(0, len(SEEDS), 11)  # a sample: every import, many mutations
STARTS = {
    "households": "reports:import_start",
    "register": "reports:migrate_register_start",
    "history": "reports:migrate_history_start",
}


def _post(client, world: World, case: Case):
    upload = SimpleUploadedFile(case.name, case.content)
    if case.target == "roster":
        url = reverse("programs:roster_import", args=[world.coop.pk])
    else:
        url = reverse(STARTS[case.target])
    return client.post(url, {"file": upload})


def test_a_sample_through_the_upload_pages_gets_a_page_not_an_error(client, world):
    untouched = [Household, Member, Application, AidPayment, LedgerEntry, CoopMember]
    before = [model.objects.count() for model in untouched]
    seen = set()
    for seed in WEB_SEEDS:
        case = malformed(seed, world.context)
        seen.add(case.target)
        actor = world.alice if case.target in ("households", "roster") else world.carol
        client.force_login(actor)
        response = _post(client, world, case)
        assert response.status_code in (200, 302), case
        page = response.content.decode()
        if response.status_code == 302:
            page = client.get(response["Location"]).content.decode()
        assert "检查通过" in page or "错误" in page or "errorlist" in page, case
        assert not Job.objects.filter(status=JobStatus.FAILED).exists(), (
            case,
            Job.objects.filter(status=JobStatus.FAILED).values_list("message", flat=True).first(),
        )
    assert seen == set(TARGETS)
    assert [model.objects.count() for model in untouched] == before


def test_a_header_of_one_known_column_names_every_missing_one(world):
    """The file that used to stop the household import with KeyError: None."""
    from tests.reports.import_files import xlsx

    content = xlsx([["郑州纺织厂"]], headers=["工作单位"])
    case = Case(0, "households", "one_header_only", content)
    passed, messages = households(world, case, write=False)
    assert not passed
    assert any("「户主姓名」：缺少这一列" in m for m in messages)
    assert any("「所属工会」：缺少这一列" in m for m in messages)
    assert not any("工作单位" in m for m in messages)


# -- header layouts, named on every import ---------------------------------------------------

ROWS = {
    "households": ["孙桂英", "410105"],
    "register": ["孙桂英", "410105"],
    "history": ["王秀兰", "春节送温暖"],
    "roster": ["张三", "410105"],
}
FIRST_TWO = {
    "households": ["户主姓名", "所属工会"],
    "register": ["户主姓名", "所属工会"],
    "history": ["户主姓名", "帮扶项目"],
    "roster": ["姓名", "所属工会"],
}


def _sheet(rows, title="困难职工", merge=None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("target", TARGETS)
def test_a_wrong_header_names_the_missing_and_the_unknown_columns(world, target):
    known = FIRST_TWO[target]
    # Two of the template's columns, one it does not have, one repeated,
    # and a column of data under an empty header cell.
    header = [*known, "性别", known[0], None]
    content = _sheet([header, [*ROWS[target], "女", "x", "无表头的数据"]])
    case = Case(0, target, "header", content)
    passed, messages = IMPORTS[target](world, case, write=False)
    assert not passed
    text = "\n".join(messages)
    assert "「性别」：模板中没有这一列（C 列）" in text
    assert "表头重复（D 列）" in text
    assert "这一列有数据但没有表头" in text or target in ("history", "roster")
    missing = {"households": "身份证号", "register": "档案编号", "history": "金额",
               "roster": "身份证号"}[target]  # fmt: skip
    assert f"「{missing}」：缺少这一列" in text
    # The rows are not judged against a header this wrong: no "必填" per row.
    assert not any("第 2 行" in m for m in messages)


@pytest.mark.parametrize("target", TARGETS)
def test_a_title_above_the_header_says_where_the_header_is(world, target):
    from tests.reports.fuzz_files import HEADERS

    headers = HEADERS[target]
    content = _sheet(
        [["困难职工花名册"], [], list(headers), ["x"] * len(headers)],
        merge=f"A1:{chr(64 + min(len(headers), 26))}1",
    )
    passed, messages = IMPORTS[target](world, Case(0, target, "title", content), write=False)
    assert not passed
    assert any("表头在第 3 行" in m and "删除第 1 行到第 2 行" in m for m in messages), messages


@pytest.mark.parametrize("target", TARGETS)
def test_a_zip_bomb_is_refused_before_it_is_unpacked(world, target, monkeypatch):
    """The archive's directory says what it unpacks to; nothing is read
    from a file that claims gigabytes, or that unpacks a thousandfold."""
    import zipfile

    from tests.reports.fuzz_files import _bomb, _declared_size

    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k)
    )
    good = _sheet([FIRST_TWO[target], ROWS[target]])
    for content in (_bomb(), _declared_size(good, 2**32 - 1)):
        assert len(content) < 100_000
        opened.clear()
        passed, messages = IMPORTS[target](world, Case(0, target, "bomb", content), write=False)
        assert not passed
        assert any("解压后" in m for m in messages), messages
        assert not opened  # refused on the archive's directory alone
