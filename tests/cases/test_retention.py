"""Retention: a closed file past its retention date is anonymised by the
daily sweep. The people in it can no longer be found (names, ID numbers,
phones, addresses, bank details, notes, files), while the statistics and
the fund statements come out exactly as before."""

import datetime as dt
import hashlib
import io
import json
from dataclasses import astuple
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from accounts.audit import audit_record, diff
from accounts.models import AuditEvent, Unit
from cases import clock
from cases.models import Attachment, Household, Member, StatusChange, Visit, VisitPhoto
from cases.services import lifecycle, retention
from cases.services.retention import household_anonymise, households_due
from funds.models import Fund, LedgerEntry
from funds.selectors import fund_period_summary
from funds.services import balance_of
from programs.models import (
    AidPayment,
    ApplicationStatusChange,
    Claim,
    ClaimVote,
    CoopMember,
    Decision,
    Program,
)
from programs.services import applications, mutual, payments
from programs.services.loans import repayment_record
from reports.stats import Scope, statistics
from tests.builders import make_household, make_id
from tests.programs.conftest import cathy, festival, filed, fund, tier  # noqa: F401
from tests.programs.test_loans import approved_loan, disburse
from tests.programs.test_mutual import coop, fang, mutual_fund, submit, top_up  # noqa: F401
from tests.reports.test_statistics import TODAY, pay
from tests.reports.test_statistics import world as world  # the fixture

PAST = TODAY - dt.timedelta(days=1)


def _stored(field) -> Path:
    return Path(field.storage.path(field.name))


def _attach(household: Household, content: bytes = b"%PDF-1.4 id card") -> Attachment:
    attachment = Attachment(
        household=household,
        kind="id_card",
        original_name=f"{household.name}身份证.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.file.save("id.pdf", ContentFile(content), save=False)
    attachment.save()
    return attachment


def _figures() -> tuple:
    """Every statistics table and every fund's statement, as shown."""
    city = Unit.objects.get(code="410100")
    stats = statistics(Scope(unit=city, date_from=dt.date(2025, 1, 1), date_to=TODAY))
    tables = [
        (t.key, [[c.text for c in row] for row in t.page_rows], [c.text for c in t.page_total])
        for t in stats.tables
    ]
    statements = []
    for each in Fund.objects.order_by("pk"):
        summary = fund_period_summary(each, dt.date(2026, 1, 1), TODAY)
        statements.append(
            (each.pk, summary.opening, summary.closing, [astuple(x) for x in summary.lines])
        )
    return tables, statements


@pytest.fixture
def closed(world, alice, dave):
    """Two closed files past their date (counties A and B) full of personal
    data, one closed file still within its date, and one file that was
    closed past its date and then filed again."""
    h = world["h"]
    due, due_b = h["a1_gone"], h["b_gone"]
    Household.objects.filter(pk__in=[due.pk, due_b.pk]).update(retention_until=PAST)
    # Filed again: its old retention date no longer applies.
    Household.objects.filter(pk=h["a1_back"].pk).update(retention_until=PAST)
    kept = make_household(
        due.unit, name="李长青", id_number=make_id(), status="exited",
        exited_on=dt.date(2026, 1, 2), retention_until=dt.date(2036, 1, 2),
        phone="13900000000",
    )  # fmt: skip
    Household.objects.filter(pk=due.pk).update(
        phone="13812345678", address="金水路 1 号 3 单元", bank_account="6222020200112233445",
        bank_name="工行", note="丈夫 2025 年工伤", employer="郑州纺织厂",
    )  # fmt: skip
    due.refresh_from_db()
    Member.objects.create(
        household=due, name="王小明", relation="child", id_number=make_id(dt.date(2012, 5, 6)),
        birth_date=dt.date(2012, 5, 6), school="郑州市第八中学", school_stage="junior",
        grade="初二",
    )  # fmt: skip
    files = [_attach(due), _attach(kept)]
    visit = Visit.objects.create(
        household=due, visitor=alice, visited_on=dt.date(2026, 3, 1),
        seen_health="王秀兰肺癌晚期", needs="医药费",
    )  # fmt: skip
    photo = VisitPhoto(visit=visit, content_type="image/jpeg", size=3)
    photo.file.save("door.jpg", ContentFile(b"jpg"), save=False)
    photo.save()
    payment = pay(due, world["festival"], world["fund_a"], "800", dt.date(2026, 2, 1))
    coop_member = CoopMember.objects.create(
        cooperative=CoopMember.objects.first().cooperative, name=due.name,
        id_number=due.id_number, unit=due.unit, phone="13812345678", household=due,
        joined_on=dt.date(2025, 1, 1), created_by=dave,
    )  # fmt: skip
    return {
        "due": due, "due_b": due_b, "kept": kept, "back": h["a1_back"], "files": files,
        "photo": photo, "payment": payment, "coop_member": coop_member,
    }  # fmt: skip


def _sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("retention_sweep", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_sweep_removes_the_people_and_keeps_every_figure(
    closed, django_capture_on_commit_callbacks
):
    due = closed["due"]
    names = {due.name, closed["due_b"].name}
    before = _figures()
    ledger_before = list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "memo"))
    files = [_stored(a.file) for a in closed["files"]] + [_stored(closed["photo"].file)]
    assert all(f.exists() for f in files)

    with django_capture_on_commit_callbacks(execute=True):
        output = _sweep()
    assert "2 file(s) anonymised." in output
    assert "王秀兰" not in output

    due.refresh_from_db()
    assert (due.name, due.phone, due.address, due.bank_account, due.note, due.employer) == (
        "已匿名", "", "已匿名", "", "", "",
    )  # fmt: skip
    assert due.id_number == f"匿名{due.pk}"
    assert due.birth_date.month == due.birth_date.day == 1
    member = due.members.get()
    assert (member.name, member.id_number, member.school) == ("已匿名", "", "")
    assert (member.school_stage, member.grade) == ("junior", "初二")  # 助学 counts stay
    assert member.birth_date == dt.date(2012, 1, 1)
    assert not Attachment.objects.filter(household=due).exists()
    assert not VisitPhoto.objects.filter(visit__household=due).exists()
    assert not files[0].exists() and not files[2].exists()
    visit = Visit.objects.get(household=due)
    assert (visit.seen_health, visit.needs, visit.visited_on) == ("", "", dt.date(2026, 3, 1))
    payment = AidPayment.objects.get(pk=closed["payment"].pk)
    assert (payment.account_name, payment.bank_account, payment.amount) == ("", "", D("800"))
    roster = CoopMember.objects.get(pk=closed["coop_member"].pk)
    assert (roster.name, roster.phone) == ("已匿名", "") and not roster.id_number.isdigit()
    assert Household.objects.get(pk=closed["due_b"].pk).name == "已匿名"

    # Not yet past its date, or filed again: untouched, files and all.
    kept = Household.objects.get(pk=closed["kept"].pk)
    assert (kept.name, kept.phone) == ("李长青", "13900000000")
    assert files[1].exists() and Attachment.objects.filter(household=kept).exists()
    assert Household.objects.get(pk=closed["back"].pk).name == closed["back"].name

    # The figures, the fund statements and the ledger's amounts are what they
    # were; only the swept files' entries lose the name in their memo.
    assert _figures() == before
    swept = {due.pk, closed["due_b"].pk}
    after = list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "memo"))
    assert [row[:2] for row in after] == [row[:2] for row in ledger_before]
    owners = LedgerEntry.objects.order_by("pk").values_list("household", flat=True)
    for (_pk, _amount, memo), (_, _, memo_before), household_id in zip(
        after, ledger_before, owners, strict=True
    ):
        if household_id in swept:
            assert not any(name in memo for name in names)
        else:
            assert memo == memo_before

    # One audit row per file, by the system, naming nobody.
    events = AuditEvent.objects.filter(action="household.anonymise").order_by("object_id")
    assert sorted(e.object_id for e in events) == sorted([str(due.pk), str(closed["due_b"].pk)])
    assert all(e.actor_id is None and e.object_repr == "已匿名" for e in events)


@pytest.mark.django_db
def test_the_dry_run_lists_and_changes_nothing(closed, django_capture_on_commit_callbacks):
    rows = lambda: list(Household.objects.order_by("pk").values())  # noqa: E731
    before, audit = rows(), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        output = _sweep("--dry-run")
    assert "2 file(s) would be anonymised." in output
    assert str(closed["due"].pk) in output and closed["due"].name not in output
    assert rows() == before and AuditEvent.objects.count() == audit
    assert all(_stored(a.file).exists() for a in closed["files"])
    assert Member.objects.filter(name="王小明").exists()


@pytest.mark.django_db
def test_running_the_sweep_again_is_harmless(closed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _sweep()
    rows = list(Household.objects.order_by("pk").values())
    audit = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert "0 file(s) anonymised." in _sweep()
    household_anonymise(actor=None, household=closed["due"])
    assert list(Household.objects.order_by("pk").values()) == rows
    assert AuditEvent.objects.count() == audit
    assert not households_due().exists()


@pytest.mark.django_db
def test_a_file_within_its_date_cannot_be_anonymised(closed):
    with pytest.raises(ValueError, match="kept until"):
        household_anonymise(actor=None, household=closed["kept"])
    assert Household.objects.get(pk=closed["kept"].pk).name == "李长青"
    assert Claim.objects.exists()  # the world is intact


# -- the append-only records of a swept file ----------------------------------

# The people of the `lived` file, and what was once said about them.
HEAD, CHILD, OLD_NAME, HUSBAND = "赵桂英", "刘小军", "赵桂芬", "刘建国"
PHONE, OLD_PHONE = "13700002222", "13700001111"
PROTECTED = [AuditEvent, StatusChange, ApplicationStatusChange, Decision, ClaimVote, LedgerEntry]


@pytest.fixture
def lived(alice, carol, cathy, dave, units, festival, fund, coop, mutual_fund):  # noqa: F811
    """A closed file with a whole life behind it, written by the services:
    edits and looks in the audit trail, its notice and exit, an aid payment
    reversed and paid again, a loan and a repayment, a mutual-aid membership
    with a premium and a paid claim, committee votes and a chair's note, all
    naming the head. A second household is paid from the same fund."""
    head_id, child_id = make_id(dt.date(1975, 8, 1)), make_id(dt.date(2010, 3, 4))
    household = filed(
        units["a"], name=HEAD, id_number=head_id, phone=PHONE, address="金水区文化路 8 号 2 单元"
    )
    Member.objects.create(
        household=household, name=CHILD, relation="child", id_number=child_id,
        birth_date=dt.date(2010, 3, 4),
    )  # fmt: skip
    audit_record(
        actor=alice, action="household.update", obj=household, unit=household.unit,
        changes=diff(
            {"name": OLD_NAME, "phone": OLD_PHONE, "note": "", "housing_area": "40"},
            {"name": HEAD, "phone": PHONE, "note": f"丈夫{HUSBAND}工伤", "housing_area": "45"},
        ),
    )  # fmt: skip
    audit_record(actor=carol, action="household.view", obj=household, unit=household.unit)
    notice = f"公示期 {clock.today()} 至 {clock.today()}。"
    StatusChange.objects.create(
        household=household, from_status="evaluated", to_status="noticed", actor=carol,
        at=clock.now(), reason=notice,
    )  # fmt: skip

    app = applications.application_draft(
        actor=alice, household=household, program=festival, reason=f"{HEAD}患病"
    )
    applications.application_decide(
        actor=carol, application=app, approve=True, note=f"{HEAD}家庭困难属实"
    )
    first = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    payments.aid_payment_reverse(actor=dave, payment=first, reason=f"{HEAD}账号错误")
    payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    lending = Program.objects.create(
        unit=units["city"], name="困难职工无息借款", category="loan", kind="loan"
    )
    lending.funds.add(fund)
    loan = disburse(dave, approved_loan(alice, carol, household, lending), fund)
    repayment_record(actor=dave, loan=loan, amount="500")

    member = mutual.member_enroll(actor=alice, cooperative=coop, household=household)
    mutual.premium_record(actor=dave, member=member, kind="first", year=clock.today().year)
    top_up(dave, mutual_fund, "5000")
    claim = submit(alice, member)
    mutual.claim_vote(actor=carol, claim=claim, approve=True, note=f"{HEAD}住院属实")
    mutual.claim_vote(actor=cathy, claim=claim, approve=True)
    mutual.claim_pay(actor=dave, claim=claim)

    other = filed(units["a"], name="钱多多")
    other_app = applications.application_draft(actor=alice, household=other, program=festival)
    applications.application_decide(actor=carol, application=other_app, approve=True)
    payments.aid_pay(actor=dave, application=other_app, fund=fund, method="bank")

    lifecycle.household_exit(
        actor=carol, household=household, kind="unqualified",
        reason=f"{HEAD}已再就业，{CHILD}已工作", exited_on=clock.today(),
    )  # fmt: skip
    Household.objects.filter(pk=household.pk).update(
        retention_until=clock.today() - dt.timedelta(days=1)
    )
    return {
        "household": household, "other": other, "notice": notice,
        "words": [HEAD, CHILD, OLD_NAME, HUSBAND, PHONE, OLD_PHONE, head_id, child_id],
    }  # fmt: skip


def _texts(model) -> str:
    """Every row of a protected table, as one text to search."""
    return json.dumps(list(model.objects.order_by("pk").values()), ensure_ascii=False, default=str)


def _figures_of_record() -> dict:
    """What the protected records say besides their text: who, when, from,
    to, how much, and every fund's balance and statement."""
    statements = {
        each.pk: (balance_of(each), fund_period_summary(each, None, None))
        for each in Fund.objects.all()
    }
    history = ("from_status", "to_status", "actor")
    return {
        "statements": statements,
        LedgerEntry: list(
            LedgerEntry.objects.order_by("pk").values_list(
                "pk",
                "fund",
                "kind",
                "direction",
                "amount",
                "occurred_on",
                "household",
                "reverses",
                "counterpart",
                "source",
                "actor",
                "reference",
                "created_at",
            )
        ),
        StatusChange: list(
            StatusChange.objects.order_by("pk").values_list("pk", "household", *history, "at")
        ),
        AuditEvent: list(
            AuditEvent.objects.order_by("pk").values_list(
                "pk", "actor", "action", "object_type", "object_id", "unit", "created_at"
            )
        ),
        Decision: list(
            Decision.objects.order_by("pk").values_list(
                "pk", "application", "level", "approved", "actor", "decided_at"
            )
        ),
        ApplicationStatusChange: list(
            ApplicationStatusChange.objects.order_by("pk").values_list(
                "pk", "application", *history, "at"
            )
        ),
        ClaimVote: list(
            ClaimVote.objects.order_by("pk").values_list(
                "pk", "claim", "voter", "approve", "voted_at"
            )
        ),
    }


@pytest.mark.django_db
def test_the_sweep_removes_the_people_from_the_records_nobody_may_edit(
    lived, django_capture_on_commit_callbacks
):
    household = lived["household"]
    for model in PROTECTED:
        assert HEAD in _texts(model), model.__name__  # the file's life is on record
    before = _figures_of_record()
    other_memos = list(LedgerEntry.objects.filter(household=lived["other"]).values_list("memo"))

    with django_capture_on_commit_callbacks(execute=True):
        assert "1 file(s) anonymised." in _sweep()

    for model in PROTECTED:
        text = _texts(model)
        found = [word for word in lived["words"] if word in text]
        assert found == [], model.__name__
    # Every row, figure, date, status and actor is where it was.
    assert _figures_of_record() == {
        **before,
        AuditEvent: before[AuditEvent] + [_last_event(household)],
    }

    # What the system wrote keeps its wording; what a person typed is gone.
    reasons = list(household.status_changes.order_by("pk").values_list("reason", flat=True))
    assert reasons == [lived["notice"], "不再符合条件：已匿名"]
    memos = set(LedgerEntry.objects.filter(household=household).values_list("memo", flat=True))
    assert memos == {
        "2026年春节送温暖 已匿名", "冲正：已匿名", "困难职工无息借款 已匿名", "借款还款 已匿名",
        f"金水区职工医疗互助会 {clock.today().year}年度首次缴费 已匿名",
        "金水区职工医疗互助会 疾病医疗互助金 已匿名",
    }  # fmt: skip
    notes = Decision.objects.filter(application__household=household).values_list("note")
    assert set(notes) == {("已匿名",), ("",)}  # the festival's note; the loan had none
    assert "已匿名" in ClaimVote.objects.order_by("pk").values_list("note", flat=True)
    update = AuditEvent.objects.get(action="household.update", object_id=str(household.pk))
    assert update.object_repr == "已匿名"
    assert update.changes["housing_area"] == ["40", "45"]
    # Another household's records are untouched.
    assert (
        list(LedgerEntry.objects.filter(household=lived["other"]).values_list("memo"))
        == other_memos
    )
    assert other_memos == [("2026年春节送温暖 钱多多",)]

    # The file's audit row says how many protected rows were rewritten.
    changes = AuditEvent.objects.get(action="household.anonymise").changes
    assert changes["redacted_ledger_entries"] == [
        7,
        0,
    ]  # 2 paid, 1 reversed, loan, repaid, premium, claim
    assert changes["redacted_status_changes"] == [1, 0]  # the notice's row stays as written
    assert changes["redacted_decisions"][0] >= 1 and changes["redacted_claim_votes"] == [1, 0]
    assert changes["redacted_audit_events"][0] >= 5


def _last_event(household: Household) -> tuple:
    event = AuditEvent.objects.get(action="household.anonymise", object_id=str(household.pk))
    target = ("cases.household", str(household.pk))
    return (event.pk, None, event.action, *target, event.unit_id, event.created_at)


@pytest.mark.django_db
def test_a_sweep_that_fails_leaves_the_records_as_they_were(lived, monkeypatch):
    """One file, one transaction: the rewritten records come back with the
    rest when anything fails before the end."""
    before = {model: _texts(model) for model in PROTECTED}

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "audit_record", broken)
    with pytest.raises(RuntimeError):
        _sweep()
    assert {model: _texts(model) for model in PROTECTED} == before
    assert Household.objects.get(pk=lived["household"].pk).name == HEAD


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db
def test_outside_the_sweep_the_rewritten_records_stay_protected(
    lived, django_capture_on_commit_callbacks
):
    """The sweep lifts the protection for its own statements only: once it
    is done, the database refuses to change the same rows again."""
    with django_capture_on_commit_callbacks(execute=True):
        _sweep()
    household = lived["household"]
    rows = {
        LedgerEntry: ("memo", LedgerEntry.objects.filter(household=household)),
        StatusChange: ("reason", household.status_changes.all()),
        AuditEvent: ("action", AuditEvent.objects.filter(object_id=str(household.pk))),
        Decision: ("note", Decision.objects.filter(application__household=household)),
    }
    for model, (column, of_household) in rows.items():
        ids = list(of_household.values_list("pk", flat=True))
        if model is AuditEvent:
            ids = list(
                of_household.filter(object_type="cases.household").values_list("pk", flat=True)
            )
        assert ids
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model._default_manager.filter(pk__in=ids).update(**{column: HEAD})
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # Raw SQL: the ORM's own checks would refuse a ledger delete first.
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id = ANY(%s)", [ids])  # noqa: S608
    assert HEAD not in _texts(LedgerEntry)


@pytest.mark.parametrize(
    ("language", "written", "kept"),
    [
        ("zh-hans", "公示期 2026-01-05 至 2026-01-09。", "公示期 2026-01-05 至 2026-01-09。"),
        ("zh-hans", "评定为“特困”。", "评定为“特困”。"),
        ("zh-hans", f"评定为“特困”。 {HEAD}丈夫瘫痪", "评定为“特困”。 已匿名"),
        ("en", f"Evaluated as “Severe”. {HEAD} lives alone", "Evaluated as “Severe”. 已匿名"),
        ("zh-hans", f"公示异议成立：邻居反映{HEAD}有车", "公示异议成立：已匿名"),
        ("zh-hans", f"不再符合条件：{HEAD}再就业", "不再符合条件：已匿名"),
        ("en", f"No longer eligible: {HEAD} found work", "No longer eligible: 已匿名"),
        # A colon alone does not make a text the system's.
        ("zh-hans", f"材料不全：{HEAD}的诊断书", "已匿名"),
        (
            "zh-hans",
            "迁移建档：张丽 从 2019台账.xlsx 导入。",
            "迁移建档：张丽 从 2019台账.xlsx 导入。",
        ),
        ("zh-hans", f"请补充{CHILD}的在校证明", "已匿名"),
        ("zh-hans", "", ""),
    ],
)
def test_a_reason_keeps_the_system_s_wording_and_loses_what_a_person_typed(language, written, kept):
    redactor = retention.Redactor()
    redactor.add(HEAD, CHILD)
    with translation.override(language):
        assert redactor.free_text(written, retention.STATUS_TEXTS) == kept


def test_names_and_numbers_are_replaced_wherever_they_stand():
    redactor = retention.Redactor()
    head_id = "41010519750801123x"
    redactor.add(HEAD, head_id, PHONE, "", "王")  # nothing, or one character: too little to match
    assert redactor.text(f"节日慰问 {HEAD}") == "节日慰问 已匿名"
    assert redactor.text(f"{head_id.upper()}，{PHONE}") == "已匿名，已匿名"
    assert redactor.text("王建国") == "王建国"
    changes = {
        "name": [OLD_NAME, HEAD], "members_added": [None, [CHILD, "刘小红"]],
        "tier": ["困难", "特困"], "household_size": [3, 2], "reason": [None, f"{HEAD}搬家"],
    }  # fmt: skip
    assert redactor.changes(changes) == {
        "name": ["已匿名", "已匿名"], "members_added": [None, ["已匿名", "已匿名"]],
        "tier": ["困难", "特困"], "household_size": [3, 2], "reason": [None, "已匿名"],
    }  # fmt: skip
