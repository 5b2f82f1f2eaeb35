"""The 民政 round trip on 500 households, as the chair and a caseworker
would walk it: make a batch (200 households have no consent: left out and
named), download the file, bring back civil affairs' answer through the
check and confirmation, and decide 60 suggestions, each leaving its record.
"""

import datetime
import hashlib
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from cases import clock
from cases.models import Household, Member, MonthlyIncome, Tier
from reports.models import CivilBatch, CivilLine, CivilSuggestion
from tests.builders import make_household, make_id
from tests.reports.civil_files import answer_row, answer_upload, answer_xlsx, give_consent

pytestmark = pytest.mark.django_db

SENT, LEFT_OUT = 300, 200


@pytest.fixture
def world(units, standard):
    filed_on = clock.today() - datetime.timedelta(days=200)
    relative = Tier.objects.get(name="困难")
    households = [
        make_household(
            units["a1"] if n % 2 else units["a"],
            name=f"比对户{n:03d}",
            status="filed",
            filed_on=filed_on,
            tier=relative,
            income_wages=Decimal("18000"),  # 1,500 yuan a month on file
        )
        for n in range(SENT + LEFT_OUT)
    ]
    sent, left_out = households[:SENT], households[SENT:]
    give_consent(sent)
    # An old consent upload without its signing date does not count.
    give_consent(left_out[:10], signed=False)
    members = {
        h.pk: Member.objects.create(
            household=h, name=f"成员{h.name}", relation="spouse", id_number=make_id(male=True)
        )
        for h in sent[:120]
    }
    return {"sent": sent, "left_out": left_out, "members": members}


def _pages(client, url):
    """Every page of a list, following its 下一页 links."""
    while url:
        page = client.get(url).content.decode()
        yield page
        found = re.search(r'href="\?([^"]+)" rel="next"', page)
        url = f"{url.split('?')[0]}?{found.group(1).replace('&amp;', '&')}" if found else None


def test_round_trip_on_500_households(client, carol, alice, world, django_assert_max_num_queries):
    sent, left_out, members = world["sent"], world["left_out"], world["members"]

    # -- export: the chair picks county A (with the union below it)
    client.force_login(carol)
    response = client.post(
        reverse("reports:civil_new"),
        {"unit": carol.memberships.get().unit_id, "layout": "household"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = CivilBatch.objects.get()
    assert response["Location"] == reverse("reports:civil_detail", args=[batch.pk])
    assert batch.status == "exported"
    assert (batch.included, batch.left_out) == (SENT, LEFT_OUT)
    assert CivilLine.objects.filter(batch=batch).count() == SENT + LEFT_OUT

    # Everyone left out is named on the batch page (ID numbers masked).
    pages = "".join(_pages(client, reverse("reports:civil_detail", args=[batch.pk])))
    assert all(h.name in pages for h in left_out)
    assert not any(h.id_number in pages for h in left_out + sent)
    assert "报送 300 户；200 户没有签署授权书，未报送。" in pages

    # The file: consenting households only, its checksum recorded, the download audited.
    response = client.get(reverse("reports:civil_download", args=[batch.pk]))
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == batch.sha256
    assert AuditEvent.objects.filter(action="civil.download", object_id=str(batch.pk)).exists()
    ws = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("户主姓名", "身份证号", "家庭住址", "家庭人口", "家庭成员身份证号")
    assert {r[1] for r in rows[1:]} == {h.id_number for h in sent}
    first = next(r for r in rows[1:] if r[1] == sent[0].id_number)
    assert first[4] == members[sent[0].pk].id_number

    # -- the answer: 60 differences, 10 households not returned, 5 unknown numbers
    tier_ids = sent[120:140]  # civil affairs: 低保, the union: 困难
    recheck_ids = sent[140:160]  # checked income 2,500 > 1,500 on file
    member_ids = sent[:20]  # their member is not in the answer
    missing = sent[290:300]
    answer = []
    for h in sent:
        if h in missing:
            continue
        if h in tier_ids:
            answer.append(answer_row(h.id_number, 民政状态="低保", 月保障金额="650.00"))
        elif h in recheck_ids:
            answer.append(answer_row(h.id_number, 核对收入="2500"))
        else:
            answer.append(answer_row(h.id_number, 核对收入="1200"))
        if h.pk in members and h not in member_ids:
            answer.append(answer_row(members[h.pk].id_number))
    unknown = [make_id() for _ in range(5)]
    answer += [answer_row(number, 民政状态="特困") for number in unknown]

    response = client.post(
        reverse("reports:civil_compare_start", args=[batch.pk]),
        {"file": answer_upload(answer_xlsx(answer))},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    preview = client.get(response["Location"]).content.decode()
    assert "检查通过" in preview
    assert "一致 230 户，有差异 60 户，民政未返回 10 户" in preview
    check_url = response["Location"]
    check_pk = int(check_url.rstrip("/").rsplit("/", 1)[1])
    response = client.post(reverse("reports:civil_compare_confirm", args=[check_pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "compared"
    # The batch's history: each move in the audit trail, from and to.
    moves = [
        e.changes["status"]
        for e in AuditEvent.objects.filter(object_id=str(batch.pk)).order_by("id")
        if "status" in e.changes
    ]
    assert moves == [["preparing", "exported"], ["exported", "compared"]]
    # A second answer for the same batch is refused, by the same table.
    again = client.post(
        reverse("reports:civil_compare_start", args=[batch.pk]),
        {"file": answer_upload(answer_xlsx([answer_row(sent[0].id_number)]))},
        follow=True,
    )
    assert "已经导入过比对结果" in again.content.decode()
    detail = client.get(reverse("reports:civil_detail", args=[batch.pk])).content.decode()
    assert "比对结果中未报送的身份证号（5 个）" in detail
    assert not any(n in detail for n in unknown)
    suggestions = CivilSuggestion.objects.filter(batch=batch)
    assert suggestions.count() == 60
    assert list(suggestions.order_by("kind").values_list("kind", flat=True).distinct()) == [
        "member",
        "recheck",
        "tier",
    ]

    # -- review: the caseworker accepts half and rejects half, with reasons
    client.force_login(alice)
    with django_assert_max_num_queries(20):  # however many rows: a fixed number
        review = client.get(reverse("reports:civil_review", args=[batch.pk])).content.decode()
    assert "调整困难类别" in review and "重新核对收入" in review and "核实家庭成员" in review
    assert not any(h.id_number in review for h in sent)
    events_before = AuditEvent.objects.count()
    accepted = set()
    for n, suggestion in enumerate(suggestions.order_by("id")):
        accept = n % 2 == 0
        response = client.post(
            reverse("reports:civil_decide", args=[suggestion.pk]),
            {"decision": "accept" if accept else "reject", "reason": f"核实结果 {n}"},
        )
        assert response.status_code == 302
        if accept:
            accepted.add(suggestion.pk)

    assert suggestions.filter(status="accepted").count() == 30
    assert suggestions.filter(status="rejected").count() == 30
    assert not suggestions.filter(reason="").exists()
    assert not suggestions.filter(decided_by__isnull=True).exists()
    deep = Tier.objects.get(name="特困")
    for s in suggestions.select_related("household", "member"):
        household = Household.objects.get(pk=s.household_id)
        if s.kind == "tier":
            assert household.tier == (deep if s.pk in accepted else Tier.objects.get(name="困难"))
        elif s.kind == "recheck":
            recorded = MonthlyIncome.objects.filter(household=household)
            if s.pk in accepted:
                assert recorded.get().household_income == Decimal("2500.00")
            else:
                assert not recorded.exists()
        else:
            gone = not Member.objects.filter(pk=members[household.pk].pk).exists()
            assert gone == (s.pk in accepted)
            assert household.household_size == (2 if s.pk in accepted else 3)
    # History: one decision event per suggestion, and the file's own records.
    assert AuditEvent.objects.filter(action="civil.suggestion.accept").count() == 30
    assert AuditEvent.objects.filter(action="civil.suggestion.reject").count() == 30
    assert AuditEvent.objects.filter(action="household.update").count() == 20
    assert AuditEvent.objects.filter(action="income.record").count() == 10
    assert AuditEvent.objects.count() > events_before + 60

    # A decided suggestion stays decided.
    done = suggestions.get(pk=min(accepted))
    response = client.post(
        reverse("reports:civil_decide", args=[done.pk]),
        {"decision": "reject", "reason": "改主意"},
        follow=True,
    )
    assert "该建议已经处理" in response.content.decode()
    assert CivilSuggestion.objects.get(pk=done.pk).status == "accepted"

    # Statistics: checked, matched, changed, per union and in total.
    detail = client.get(reverse("reports:civil_detail", args=[batch.pk])).content.decode()
    total = re.search(r'<tr id="civil-total">(.*?)</tr>', detail, re.S).group(1)
    cells = re.findall(r"<th>([^<]*)</th>", total)
    assert cells[1:] == ["300", "200", "230", "60", "10", "30"]
    assert "金水区总工会" in detail and "郑州纺织厂工会" in detail

    # The list of batches carries the same figures.
    listing = client.get(reverse("reports:civil_list")).content.decode()
    row = re.search(r"<tr>\s*<td data-label=\"批次\">(.*?)</tr>", listing, re.S).group(1)
    assert re.findall(
        r'data-label="(?:报送户数|未授权未报送|一致|有差异|已变更)">([^<]*)<', row
    ) == [
        "300",
        "200",
        "230",
        "60",
        "30",
    ]
