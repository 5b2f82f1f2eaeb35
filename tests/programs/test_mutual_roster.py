# ruff: noqa: F811  (the fixtures imported from test_mutual are requested by name)
"""A cooperative's roster of ordinary union members (most without a
household file), its xlsx import, admin-edited claim categories, and the
cooperative page's figures with their PDF and xlsx.

The cooperative, its fund and committee (carol, cathy, fang) come from
test_mutual.py; dave is the finance officer who did not vote."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from accounts.models import AuditEvent
from cases import clock
from cases.models import HouseholdStatus
from funds import services as ledger
from funds.services import balance_of
from programs.models import Application, Claim, ClaimCategory, ClaimStatus, CoopMember
from programs.services import mutual
from programs.services import roster_import as importer
from tests.builders import make_id, make_user
from tests.programs.conftest import filed
from tests.programs.test_loans import set_day
from tests.programs.test_mutual import coop, fang, mutual_fund, top_up  # noqa: F401

ROSTER = ("姓名", "身份证号", "所属工会", "联系电话", "入会日期")


def add(actor, coop, unit, name="孙小梅", **extra):
    return mutual.member_add(
        actor=actor,
        cooperative=coop,
        name=name,
        id_number=extra.pop("id_number", None) or make_id(male=False),
        unit=unit,
        phone=extra.pop("phone", "13700001111"),
        **extra,
    )


def approve(claim, *voters):
    for voter in voters:
        mutual.claim_vote(actor=voter, claim=claim, approve=True)
    claim.refresh_from_db()
    return claim


def workbook(rows, headers=ROSTER):
    book = Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content, name="名册.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        name,
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# -- members without a household file ------------------------------------------


@pytest.mark.django_db
def test_a_member_without_a_household_file_pays_claims_and_is_paid(
    as_user, alice, carol, cathy, dave, coop, units, mutual_fund
):
    member = add(alice, coop, units["a1"], name="孙小梅")
    assert member.household is None and member.unit == units["a1"]
    premium = mutual.premium_record(
        actor=dave, member=member, kind="first", year=clock.today().year
    )
    assert premium.entry.household is None and "孙小梅" in premium.entry.memo
    top_up(dave, mutual_fund, "5000")
    claim = mutual.claim_submit(
        actor=alice, member=member, category="school", amount="800", reason="女儿考入大学"
    )
    assert claim.category.name == "子女入学"
    approve(claim, carol, cathy)
    entry = mutual.claim_pay(actor=dave, claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.entry == entry
    assert (entry.household, entry.amount, entry.direction) == (None, D("800.00"), -1)
    assert balance_of(mutual_fund) == D("5000.00") + D("120.00") - D("800.00")
    assert not Application.objects.exists()
    # Every screen of the member works without a household file.
    for name, pk in (
        ("programs:premium_record", member.pk),
        ("programs:claim_detail", claim.pk),
        ("programs:premium_reverse", premium.pk),
    ):
        page = as_user(dave).get(reverse(name, args=[pk]))
        assert page.status_code == 200 and "孙小梅" in page.content.decode(), name
    # The audit trail names the member and their union.
    pay = AuditEvent.objects.get(action="claim.pay")
    assert (pay.object_repr.endswith("孙小梅"), pay.unit) == (True, units["a1"])


@pytest.mark.django_db
def test_the_member_form_names_each_bad_field_and_saves_nothing(as_user, alice, coop, units):
    client = as_user(alice)
    url = reverse("programs:member_add", args=[coop.pk])
    good = make_id()
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(
        url,
        {
            "name": "",
            "id_number": bad_checksum,
            "unit": units["b"].pk,
            "joined_on": "2099-01-01",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "姓名：请填写姓名" in page
    assert "所属工会：该工会不在您可以管理的范围内" in page
    response = client.post(
        url,
        {"name": "孙小梅", "id_number": bad_checksum, "unit": units["a1"].pk, "joined_on": ""},
    )
    assert "身份证号：身份证号校验位错误" in response.content.decode()
    response = client.post(
        url,
        {"name": "孙小梅", "id_number": good, "unit": units["a1"].pk, "joined_on": "2099-01-01"},
    )
    assert "入会日期：入会日期不能晚于今天" in response.content.decode()
    assert not CoopMember.objects.exists()
    assert (
        client.post(url, {"name": "孙小梅", "id_number": good, "unit": units["a1"].pk}).status_code
        == 302
    )
    response = client.post(url, {"name": "孙小兰", "id_number": good, "unit": units["a"].pk})
    assert f"身份证号 {good} 已在本合作社会员名册中" in response.content.decode()
    assert CoopMember.objects.count() == 1


@pytest.mark.django_db
def test_a_member_with_a_file_in_force_is_linked_and_the_link_can_be_undone(
    as_user, alice, bob, coop, units
):
    household = filed(units["a1"], name="王秀兰")
    member = add(alice, coop, units["a1"], name="王秀兰", id_number=household.id_number)
    assert member.household == household
    # A case still in intake, or an exited file, is not linked.
    drafting = filed(units["a1"], status=HouseholdStatus.DRAFT)
    assert add(alice, coop, units["a1"], id_number=drafting.id_number).household is None
    client = as_user(alice)
    edit = reverse("programs:member_edit", args=[member.pk])
    link = reverse("programs:member_link", args=[member.pk])
    assert "取消关联" in client.get(edit).content.decode()
    client.post(link, {"link": "0"})
    member.refresh_from_db()
    assert member.household is None
    assert "关联档案" in client.get(edit).content.decode()
    client.post(link, {"link": "1"})
    member.refresh_from_db()
    assert member.household == household
    household.status = HouseholdStatus.EXITED
    household.save(update_fields=["status"])
    mutual.member_link(actor=alice, member=member, link=False)
    with pytest.raises(ValidationError) as err:
        mutual.member_link(actor=alice, member=member, link=True)
    assert "没有身份证号为该会员的在档困难职工档案" in " ".join(err.value.messages)
    with pytest.raises(PermissionDenied):
        mutual.member_link(actor=bob, member=member, link=True)
    assert AuditEvent.objects.filter(action="coop.member_unlink").count() == 2


@pytest.mark.django_db
def test_a_member_is_corrected_and_one_entered_by_mistake_removed(
    as_user, alice, dave, erin, coop, units
):
    member = add(alice, coop, units["a1"])
    mutual.member_update(
        actor=alice,
        member=member,
        name="孙晓梅",
        id_number=member.id_number,
        unit=units["a"],
        phone="13911112222",
    )
    member.refresh_from_db()
    assert (member.name, member.unit, member.phone) == ("孙晓梅", units["a"], "13911112222")
    with pytest.raises(PermissionDenied):
        mutual.member_remove(actor=erin, member=member)
    mutual.premium_record(actor=dave, member=member, kind="first", year=clock.today().year)
    response = as_user(alice).post(reverse("programs:member_remove", args=[member.pk]), follow=True)
    assert "已有缴费或互助申请记录，不能从名册中删除" in response.content.decode()
    assert CoopMember.objects.filter(pk=member.pk).exists()
    mistaken = add(alice, coop, units["a1"], name="误录")
    as_user(alice).post(reverse("programs:member_remove", args=[mistaken.pk]))
    assert not CoopMember.objects.filter(pk=mistaken.pk).exists()


# -- the roster import -------------------------------------------------------------


@pytest.mark.django_db
def test_the_roster_import_names_every_bad_cell_and_saves_nothing(as_user, alice, coop, units):
    on_roster = add(alice, coop, units["a1"])
    good = make_id()
    bad = make_id()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    twice = make_id()
    rows = [
        ("赵一", good, units["a1"].name, "13800000001", "2024-03-01"),  # row 2: good
        ("钱二", bad, units["a1"].name, "", ""),  # 3: checksum
        ("孙三", make_id(), "不存在的工会", "", ""),  # 4: unknown union
        ("", make_id(), units["a"].code, "", ""),  # 5: no name
        ("李四", twice, units["a"].name, "", ""),  # 6
        ("周五", twice, units["a"].name, "", ""),  # 7: repeats row 6
        ("吴六", make_id(), units["a"].name, "", "2024-13-40"),  # 8: date
        ("郑七", on_roster.id_number, units["a"].name, "", ""),  # 9: on the roster
        ("王八", make_id(), units["b"].name, "", ""),  # 10: another county
    ]
    roster = importer.read_roster_file(io.BytesIO(workbook(rows)))
    checked = importer.roster_check(actor=alice, cooperative=coop, roster=roster)
    assert [(e.row, e.column) for e in checked.errors] == [
        (3, "身份证号"),
        (4, "所属工会"),
        (5, "姓名"),
        (7, "身份证号"),
        (8, "入会日期"),
        (9, "身份证号"),
        (10, "所属工会"),
    ]
    assert "校验位错误" in checked.errors[0].message
    assert "与第 6 行身份证号重复" in checked.errors[3].message
    response = as_user(alice).post(
        reverse("programs:roster_import", args=[coop.pk]), {"file": upload(workbook(rows))}
    )
    page = response.content.decode()
    assert "发现 7 处错误，没有导入任何会员" in page and "不存在的工会" in page
    assert CoopMember.objects.count() == 1
    # A missing or unknown header is named too.
    roster = importer.read_roster_file(
        io.BytesIO(workbook([("赵一", good, "x")], headers=("姓名", "身份证", "所属工会")))
    )
    assert {(e.row, e.column) for e in roster.errors} >= {(1, "身份证"), (1, "身份证号")}
    # Not a workbook at all.
    response = as_user(alice).post(
        reverse("programs:roster_import", args=[coop.pk]),
        {"file": upload(b"name,id\n", name="名册.csv")},
    )
    assert "只接受 Excel 工作簿（.xlsx）文件" in response.content.decode()


@pytest.mark.django_db
def test_the_roster_import_previews_then_adds_every_row_once(as_user, alice, coop, units):
    household = filed(units["a1"], name="王秀兰")
    rows = [
        ("赵一", make_id(), units["a1"].name, "13800000001", "2024-03-01"),
        ("王秀兰", household.id_number, units["a1"].code, "", ""),
        ("李四", make_id(), units["a"].name, "", datetime.date(2023, 5, 6)),
    ]
    client = as_user(alice)
    url = reverse("programs:roster_import", args=[coop.pk])
    response = client.post(url, {"file": upload(workbook(rows))})
    page = response.content.decode()
    assert "检查通过：共 3 名会员" in page and not CoopMember.objects.exists()
    token = response.context["token"]
    response = client.post(url, {"token": token}, follow=True)
    assert "已导入 3 名会员，其中 1 名已关联困难职工档案" in response.content.decode()
    members = {m.name: m for m in CoopMember.objects.all()}
    assert members["王秀兰"].household == household
    assert members["李四"].joined_on == datetime.date(2023, 5, 6)
    assert members["赵一"].phone == "13800000001"
    # The token is spent: confirming again adds nothing.
    response = client.post(url, {"token": token}, follow=True)
    assert "导入已过期或已完成" in response.content.decode()
    assert CoopMember.objects.count() == 3
    event = AuditEvent.objects.get(action="coop.roster_import")
    assert event.changes == {"rows": [None, 3], "linked": [None, 1]}


@pytest.mark.django_db
def test_the_roster_template_has_the_five_headers(as_user, alice, coop):
    response = as_user(alice).get(reverse("programs:roster_template", args=[coop.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == list(ROSTER)


# -- claim categories ----------------------------------------------------------------


@pytest.mark.django_db
def test_claim_categories_are_edited_in_the_admin_and_used_by_the_claim_form(
    client, as_user, alice, dave, coop, units
):
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    listing = client.get(reverse("admin:programs_claimcategory_changelist")).content.decode()
    for name in ("子女入学", "疾病医疗", "婚丧嫁娶", "其他"):
        assert name in listing
    response = client.post(
        reverse("admin:programs_claimcategory_add"),
        {"name": "大病救助", "code": "serious", "sort_order": "5", "is_active": "on"},
    )
    assert response.status_code == 302
    other = ClaimCategory.objects.get(code="other")
    other.is_active = False
    other.save()
    member = add(alice, coop, units["a1"])
    mutual.premium_record(actor=dave, member=member, kind="first", year=clock.today().year)
    page = as_user(alice).get(reverse("programs:claim_submit", args=[member.pk])).content.decode()
    # The category dropdown, not the page's other texts (其他用户 in the menu's scripts).
    form = page[page.index("<main") :]
    assert "大病救助" in form and "其他" not in form
    assert form.index("大病救助") < form.index("子女入学")
    with pytest.raises(ValidationError) as err:
        mutual.claim_submit(actor=alice, member=member, category="other", amount="10", reason="x")
    assert "category" in err.value.error_dict
    response = as_user(alice).post(
        reverse("programs:claim_submit", args=[member.pk]),
        {"category": "serious", "amount": "5000", "reason": "恶性肿瘤住院"},
    )
    assert response.status_code == 302
    assert Claim.objects.get().category.name == "大病救助"


# -- the cooperative page's figures and its documents -----------------------------


def _paid_claims(alice, carol, cathy, dave, coop, units, mutual_fund):
    """Members without files, claims paid on several days across categories:
    one claim's payment is reversed, one is approved but unpaid, one pending."""
    top_up(dave, mutual_fund, "100000")
    today = clock.today()
    members = []
    for i in range(4):
        m = add(alice, coop, units["a1"] if i % 2 else units["a"], name=f"会员{i}")
        mutual.premium_record(actor=dave, member=m, kind="first", year=today.year)
        members.append(m)
    plan = [
        (0, "medical", "3000", 40),
        (1, "medical", "1500", 20),
        (0, "school", "800", 10),
        (2, "wedding_funeral", "500", 5),
        (3, "other", "200", 1),
        (1, "school", "1000", 0),
    ]
    claims = []
    for who, code, amount, days_ago in plan:
        claim = mutual.claim_submit(
            actor=alice, member=members[who], category=code, amount=amount, reason="困难"
        )
        approve(claim, carol, cathy)
        on = today - datetime.timedelta(days=days_ago)
        mutual.claim_pay(
            actor=dave, claim=claim, paid_on=on, date_reason="" if days_ago == 0 else "补录"
        )
        claims.append(claim)
    # The 200 yuan payment was a mistake: reversed on the fund page.
    claims[4].refresh_from_db()
    ledger.entry_correct(actor=dave, entry=claims[4].entry, reason="重复发放")
    approve(
        mutual.claim_submit(
            actor=alice, member=members[2], category="medical", amount="900", reason="住院"
        ),
        carol,
        cathy,
    )
    mutual.claim_submit(
        actor=alice, member=members[3], category="medical", amount="700", reason="住院"
    )
    return members


def _expected(date_from, date_to):
    """The figures recomputed from the claim rows, one by one."""
    out = {}
    for claim in Claim.objects.select_related("category", "entry__reversed_by"):
        if not mutual.claim_paid(claim):
            continue
        if not (date_from <= claim.paid_on <= date_to):
            continue
        row = out.setdefault(claim.category.code, {"times": 0, "members": set(), "amount": D(0)})
        row["times"] += 1
        row["members"].add(claim.member_id)
        row["amount"] += claim.amount
    return out


@pytest.mark.django_db
def test_claims_by_category_for_a_period_equal_the_rows_on_the_page_pdf_and_xlsx(
    as_user, alice, carol, cathy, dave, erin, coop, units, mutual_fund
):
    _paid_claims(alice, carol, cathy, dave, coop, units, mutual_fund)
    today = clock.today()
    date_from, date_to = today - datetime.timedelta(days=30), today
    expected = _expected(date_from, date_to)
    # 40 days ago is outside; the reversed 200 is not paid; the approved
    # 900 and the pending 700 are not paid yet.
    assert {k: (v["times"], v["amount"]) for k, v in expected.items()} == {
        "medical": (1, D("1500.00")),
        "school": (2, D("1800.00")),
        "wedding_funeral": (1, D("500.00")),
    }
    total = sum((v["amount"] for v in expected.values()), D(0))
    times = sum(v["times"] for v in expected.values())
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}

    page = as_user(carol).get(reverse("programs:coop_detail", args=[coop.pk]), query)
    figures = page.context["by_category"]
    shown = {r.category.code: (r.times, r.persons, r.amount) for r in figures.rows}
    for code, row in expected.items():
        assert shown[code] == (row["times"], len(row["members"]), row["amount"])
    assert shown["other"] == (0, 0, D("0.00"))
    assert (figures.times, figures.amount) == (times, total)
    html = page.content.decode()
    assert f"{total:.2f}" in html and 'id="by-category-total"' in html

    url = reverse("reports:coop_report", args=[coop.pk])
    xlsx = as_user(erin).get(url, {**query, "format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    lines = {row[0]: row[1:] for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]}
    assert lines["子女入学"][0] == 2 and D(str(lines["子女入学"][2])) == D("1800.00")
    assert lines["合计"][0] == times and D(str(lines["合计"][2])) == total
    pdf = as_user(erin).get(url, query)
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert f"{total:,.2f}" in text and f"本期发放互助金{times}人次" in text

    # The whole history counts the claim paid 40 days ago too.
    everything = as_user(carol).get(reverse("programs:coop_detail", args=[coop.pk]))
    medical = next(
        r for r in everything.context["by_category"].rows if r.category.code == "medical"
    )
    assert (medical.times, medical.amount) == (2, D("4500.00"))


@pytest.mark.django_db
def test_premiums_per_year_and_the_filters_of_the_cooperative_page(
    as_user, alice, carol, cathy, dave, erin, coop, units, mutual_fund
):
    members = _paid_claims(alice, carol, cathy, dave, coop, units, mutual_fund)
    year = clock.today().year
    set_day(datetime.date(year + 1, 1, 10))
    mutual.premium_record(actor=dave, member=members[0], kind="yearly", year=year + 1)
    url = reverse("programs:coop_detail", args=[coop.pk])
    page = as_user(carol).get(url)
    years = {y.year: (y.count, y.amount) for y in page.context["premium_years"]}
    assert years == {year: (4, D("480.00")), year + 1: (1, D("60.00"))}
    # Members by name, by ID number's last digits, by union.
    names = lambda r: [row["member"].name for row in r.context["rows"]]  # noqa: E731
    assert names(as_user(carol).get(url, {"q": "会员2"})) == ["会员2"]
    assert names(as_user(carol).get(url, {"q": members[3].id_number[-6:]})) == ["会员3"]
    assert names(as_user(carol).get(url, {"unit": units["a1"].pk})) == ["会员1", "会员3"]
    # Claims by status, category and submitted date.
    pending = as_user(carol).get(url, {"status": "pending"}).context["claims"]
    assert [c.amount for c in pending] == [D("700.00")]
    school = ClaimCategory.objects.get(code="school")
    assert len(as_user(carol).get(url, {"category": school.pk}).context["claims"]) == 2
    later = as_user(carol).get(url, {"submitted_from": f"{year + 1}-01-01"}).context["claims"]
    assert len(later) == 0
    bad = as_user(carol).get(url, {"submitted_from": "2026-05-01", "submitted_to": "2026-01-01"})
    assert "截止日期不能早于起始日期" in bad.content.decode()
    # An auditor sees ID numbers and phones masked; the chair in full.
    assert members[0].id_number in page.content.decode()
    audit = as_user(erin).get(url).content.decode()
    assert members[0].id_number not in audit and members[0].id_number[-4:] in audit
