"""Must show: a union moves in with its books.

A register of 2,000 households (with members and helpers) comes in through
the register import, then two past years of aid and this year's first
handouts through the history import; the statistics of each year, this
year's caps and the fund statements must then agree with sums recomputed
here from the rows that went in. Sized to run in well under 30 s on SQLite
(speed itself is measured by bench/outputs_import.py, not here).
"""

import datetime as dt
import io
from collections import Counter, defaultdict
from decimal import Decimal as D

import pytest
from openpyxl import Workbook

from cases import clock
from cases.migrate_sheet import HEADERS as REGISTER_HEADERS
from cases.migrate_sheet import MEMBER_HEADERS
from cases.models import Cause, Helper, Household, Member, Tier
from cases.services.migration import register_import
from funds.models import Fund
from funds.selectors import fund_period_summary
from funds.services import balance_of, receipt_post
from programs.history_sheet import HEADERS, SHEET_NAME
from programs.models import AidPayment, Application, Program
from programs.services import rules
from programs.services.history import aid_history_import
from reports.stats import Scope, statistics
from tests.builders import make_id

HOUSEHOLDS = 2000
TODAY = clock.today()
Y1, Y2, Y3 = TODAY.year - 2, TODAY.year - 1, TODAY.year
# This year's handouts: early in the year, never in the future.
THIS_YEAR_DAY = max(dt.date(Y3, 1, 2), TODAY - dt.timedelta(days=3))
EXIT_DAY = dt.date(Y2, 6, 30)


def _save(book: Workbook, path):
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def register_workbook(path, units):
    """困难职工 and 家庭成员 sheets: half the files in county A, half in its
    factory union; every tenth has exited; each has one child at school and
    two helpers."""
    tiers = list(Tier.objects.filter(is_active=True).order_by("sort_order"))
    causes = list(Cause.objects.filter(is_active=True).order_by("sort_order"))
    book = Workbook(write_only=True)
    heads = book.create_sheet("困难职工")
    heads.append(list(REGISTER_HEADERS))
    members = book.create_sheet("家庭成员")
    members.append(list(MEMBER_HEADERS))
    people = []
    for n in range(HOUSEHOLDS):
        number = make_id(dt.date(1970, 1, 1) + dt.timedelta(days=n * 3))
        unit = units["a"] if n % 2 else units["a1"]
        exited = n % 10 == 0
        name = f"户主{n:04d}"
        row = {
            "户主姓名": name,
            "身份证号": number,
            "联系电话": "13812345678",
            "所属工会": unit.code,
            "工作单位": "郑州纺织厂",
            "家庭住址": "河南省郑州市金水区文化路街道黄河社区",
            "困难类别": tiers[n % len(tiers)].name,
            "主要致困原因": causes[n % len(causes)].name,
            "次要致困原因": None,
            "家庭人口": 3,
            "家庭年收入": 18000,
            "年刚性支出": 2000,
            "开户银行": "中国工商银行",
            "银行账号": f"62220212{n:011d}",
            "备注": None,
        }
        row.update(
            {
                "档案编号": f"JS-{n:05d}",
                "建档日期": dt.date(Y1 - 3, 3, 1).isoformat(),
                "档案分类": None,
                "档案状态": "已退出" if exited else "在档",
                "退出日期": EXIT_DAY.isoformat() if exited else None,
                "退出原因": "脱困：收入连续六个月高于标准" if exited else None,
                "最近走访日期": None,
                "帮扶人": "张建华/副厂长/13900000001、李红/工会干事",
            }
        )
        heads.append([row.get(h) for h in REGISTER_HEADERS])
        child = make_id(dt.date(2012, 1, 1) + dt.timedelta(days=n))
        member = {
            "户主身份证号": number, "姓名": f"子女{n:04d}", "与户主关系": "子女",
            "身份证号": child, "健康状况": "健康", "年收入": 0, "就读学校": "郑州市第一中学",
            "年级": "初二",
        }  # fmt: skip
        members.append([member.get(h) for h in MEMBER_HEADERS])
        people.append({"id": number, "name": name, "unit": unit, "exited": exited, "n": n})
    return _save(book, path), people


def history_workbook(path, rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_NAME)
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([row.get(h) for h in HEADERS])
    return _save(book, path)


def _fund(unit, name, year, actor):
    # Built directly: the funds app is changing how a fund is created.
    return Fund.objects.create(unit=unit, name=name, year=year, created_by=actor)


def _receive(fund, amount, on, actor):
    return receipt_post(
        actor=actor, fund=fund, amount=amount, memo="期初资金", source="admin_allocation",
        payer_kind="unit", payer="金水区财政局", occurred_on=on, date_reason="迁移期初余额",
        allow_any_past_date=True,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_union_moves_in_with_its_register_and_two_years_of_aid(tmp_path, units, carol, dave):

    # -- the register ----------------------------------------------------------------
    path, people = register_workbook(tmp_path / "档案.xlsx", units)
    report = register_import(
        actor=carol, path=path, source_label="档案.xlsx（上传 #1）", check_only=False
    )
    assert report.ok, report.errors[:5]
    assert Household.objects.filter(migrated_from__startswith="档案.xlsx").count() == HOUSEHOLDS
    assert (
        Member.objects.filter(household__unit__in=[units["a"], units["a1"]]).count() == HOUSEHOLDS
    )
    assert Helper.objects.count() >= HOUSEHOLDS
    by_id = {h.id_number: h for h in Household.objects.all()}

    # -- the money and the programs --------------------------------------------------
    relief = _fund(units["a"], "帮扶资金", Y1, dave)
    school_fund = _fund(units["a"], "助学资金", Y2, dave)
    current = _fund(units["a"], "帮扶资金", Y3, dave)
    receipts = {
        relief.pk: [(D("2500000"), dt.date(Y1, 1, 5)), (D("2600000"), dt.date(Y2, 1, 5))],
        school_fund.pk: [(D("600000"), dt.date(Y2, 8, 1))],
        current.pk: [(D("800000"), dt.date(Y3, 1, 1))],
    }
    for fund in (relief, school_fund, current):
        for amount, on in receipts[fund.pk]:
            _receive(fund, amount, on, dave)
    Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash_goods"
    )
    Program.objects.create(unit=units["city"], name="金秋助学", category="school", kind="cash")
    living = Program.objects.create(
        unit=units["a"], name="生活救助", category="living", kind="cash",
        cap_rule="fixed", cap_amount=D("3000"),
    )  # fmt: skip

    # -- two years of history, and this year's first handouts ------------------------
    files: dict[int, list[dict]] = defaultdict(list)
    for p in people:
        n = p["n"]
        goods = D("200") if n % 3 == 0 else D("0")
        base = {"户主身份证号": p["id"], "户主姓名": p["name"], "发放方式": "银行转账"}
        files[Y1].append(
            {**base, "帮扶项目": "春节送温暖", "发放日期": dt.date(Y1, 1, 20), "金额": D("1000"),
             "资金": f"帮扶资金（{Y1}）", "实物内容": "米面油" if goods else None,
             "实物折价": goods or None}
        )  # fmt: skip
        files[Y2].append(
            {**base, "帮扶项目": "春节送温暖", "发放日期": dt.date(Y2, 1, 25), "金额": D("1200"),
             "资金": f"帮扶资金（{Y1}）", "实物内容": "米面油" if goods else None,
             "实物折价": goods or None}
        )  # fmt: skip
        if n % 5 == 1 and not p["exited"]:
            files[Y2].append(
                {**base, "帮扶项目": "金秋助学", "发放日期": dt.date(Y2, 9, 1),
                 "金额": D("1500"), "资金": "助学资金", "发放方式": "现金"}
            )  # fmt: skip
        if n % 4 == 1 and not p["exited"]:
            files[Y3].append(
                {**base, "帮扶项目": "生活救助", "发放日期": THIS_YEAR_DAY, "金额": D("1000"),
                 "资金": f"帮扶资金（{Y3}）"}
            )  # fmt: skip
    for year, rows in files.items():
        history = history_workbook(tmp_path / f"发放{year}.xlsx", rows)
        done = aid_history_import(
            actor=carol, path=history, source_label=f"发放{year}.xlsx", check_only=False
        )
        assert done.ok and done.imported == len(rows), done.errors[:5]
    all_rows = [row for rows in files.values() for row in rows]
    assert Application.objects.exclude(migrated_from="").count() == len(all_rows)
    assert AidPayment.objects.count() == len(all_rows)

    # -- the statistics of each year, against the rows -------------------------------
    stats = statistics(Scope(units["a"], dt.date(Y1, 1, 1), dt.date(Y2, 12, 31)))
    grants, goods_table = stats.get("grants").table.totals, stats.get("goods").table.totals
    for year in (Y1, Y2):
        rows = files[year]
        cash = sum(r["金额"] - (r.get("实物折价") or 0) for r in rows)
        goods = sum((r.get("实物折价") or D(0)) for r in rows)
        assert grants[f"y{year}_amount"] == cash
        assert grants[f"y{year}_times"] == len(rows)
        assert grants[f"y{year}_households"] == len({r["户主身份证号"] for r in rows})
        assert goods_table[f"y{year}_amount"] == goods
        assert goods_table[f"y{year}_times"] == sum(1 for r in rows if r.get("实物折价"))
    # The register: files in force now, by the households table.
    in_force = stats.get("tiers").table.totals["households"]
    assert in_force == sum(1 for p in people if not p["exited"])

    # -- this year's caps ------------------------------------------------------------
    paid_this_year = Counter(r["户主身份证号"] for r in files[Y3])
    for p in people[:40]:
        household = by_id[p["id"]]
        status = rules.cap_status(living, household, Y3)
        used = D("1000") * paid_this_year[p["id"]]
        assert (status.used, status.left) == (used, D("3000") - used)

    # -- the fund statements, against the rows ---------------------------------------
    by_fund: dict[tuple[str, int], D] = defaultdict(D)
    by_program: dict[tuple[str, int, str], D] = defaultdict(D)
    for r in all_rows:
        key = (r["资金"], r["发放日期"].year)
        by_fund[key] += r["金额"]
        by_program[(*key, r["帮扶项目"])] += r["金额"]
    opening = D("0.00")
    for year in (Y1, Y2):
        summary = fund_period_summary(relief, dt.date(year, 1, 1), dt.date(year, 12, 31))
        paid = by_fund[(f"帮扶资金（{Y1}）", year)]
        received = sum(a for a, on in receipts[relief.pk] if on.year == year)
        assert summary.opening == opening
        assert summary.receipts_total == received
        assert summary.payments_total == paid
        assert {line.label: line.amount for line in summary.payments} == {
            "春节送温暖": by_program[(f"帮扶资金（{Y1}）", year, "春节送温暖")]
        }
        assert summary.closing == opening + received - paid
        opening = summary.closing
    assert balance_of(relief) == opening
    school_summary = fund_period_summary(school_fund, dt.date(Y2, 1, 1), dt.date(Y2, 12, 31))
    assert school_summary.payments_total == by_fund[("助学资金", Y2)]
    assert balance_of(current) == D("800000") - by_fund[(f"帮扶资金（{Y3}）", Y3)]
