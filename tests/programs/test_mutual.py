"""Mutual-aid cooperatives: enrolment, premiums into the fund, claims and
the committee's vote, and paying an approved claim.

The committee is carol (county A chair), cathy (city chair) and fang, a
finance officer of county A: a committee member who votes may not then pay
the claim, while dave, the other finance officer, may."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from funds import services as ledger
from funds.services import balance_of
from programs.models import (
    Application,
    Claim,
    ClaimCategory,
    ClaimStatus,
    ClaimVote,
    Cooperative,
    CoopMember,
    Premium,
    Program,
)
from programs.services import mutual
from tests.builders import make_id, make_user
from tests.programs.conftest import filed
from tests.programs.test_loans import set_day
from tests.race import on_postgres
from tests.race import race as _race


@pytest.fixture
def fang(units):
    return make_user("fang", units["a"], "finance", full_name="方芳")


@pytest.fixture
def mutual_fund(dave, units):
    return ledger.fund_create(
        actor=dave,
        unit=units["a"],
        name="职工医疗互助金",
        year=clock.today().year,
    )


@pytest.fixture
def coop(units, mutual_fund, carol, cathy, fang):
    program = Program.objects.create(
        unit=units["a"], name="职工医疗互助", category="mutual_medical", kind="cash"
    )
    program.funds.add(mutual_fund)
    coop = Cooperative.objects.create(
        unit=units["a"],
        name="金水区职工医疗互助会",
        fund=mutual_fund,
        program=program,
        first_premium=D("120"),
        yearly_premium=D("60"),
    )
    coop.committee.set([carol, cathy, fang])
    return coop


@pytest.fixture
def member(alice, coop, household):
    return mutual.member_enroll(actor=alice, cooperative=coop, household=household)


@pytest.fixture
def paid_member(dave, member):
    mutual.premium_record(actor=dave, member=member, kind="first", year=clock.today().year)
    return member


def submit(alice, member, amount="3000"):
    return mutual.claim_submit(
        actor=alice, member=member, category="medical", amount=amount, reason="住院自付费用"
    )


@pytest.fixture
def claim_categories(seeded_lists):
    """The seeded claim categories, put back for tests on a transactional
    database (another such test may have truncated the table)."""


def top_up(dave, fund, amount):
    """The union tops the mutual-aid fund up (a grant, not a premium)."""
    return ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount=amount,
        memo="工会补助互助金",
    )


def messages_of(err):
    return " ".join(err.value.messages)


# -- enrolment -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_household_joins_once_and_only_a_cooperative_of_its_union(
    alice, bob, dave, coop, household, units
):
    mutual.member_enroll(actor=alice, cooperative=coop, household=household)
    with pytest.raises(ValidationError) as err:
        mutual.member_enroll(actor=dave, cooperative=coop, household=household)
    assert "已是本合作社会员" in messages_of(err)
    other = filed(units["b"], name="赵铁柱")
    with pytest.raises(PermissionDenied):
        mutual.member_enroll(actor=alice, cooperative=coop, household=other)
    with pytest.raises(PermissionDenied):
        mutual.member_enroll(actor=bob, cooperative=coop, household=filed(units["a"]))
    assert CoopMember.objects.count() == 1
    assert AuditEvent.objects.filter(action="coop.enroll").count() == 1


@pytest.mark.django_db
def test_the_enrol_screen_finds_a_household_and_enrolls_it(as_user, alice, coop, household):
    client = as_user(alice)
    url = reverse("programs:coop_enroll", args=[coop.pk])
    page = client.get(url, {"q": household.name}).content.decode()
    assert household.name in page and household.id_number not in page
    response = client.post(url, {"household": household.pk, "joined_on": "2099-01-01"})
    assert "入会日期不能晚于今天" in response.content.decode()
    response = client.post(url, {"household": household.pk}, follow=True)
    assert f"{household.name} 家已加入" in response.content.decode()
    page = client.get(url, {"q": household.name}).content.decode()
    assert "没有找到可以入社的家庭" in page


# -- premiums ------------------------------------------------------------------


@pytest.mark.django_db
def test_premiums_go_into_the_fund_once_each(dave, member, mutual_fund):
    year = clock.today().year
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="yearly", year=year + 1)
    assert "请先缴纳首次缴费" in messages_of(err)

    mutual.premium_record(actor=dave, member=member, kind="first", year=year)
    assert balance_of(mutual_fund) == D("120.00")
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="first", year=year + 1)
    assert "首次缴费只能缴纳一次" in messages_of(err)
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="yearly", year=year)
    assert f"首次缴费已包含 {year} 年度" in messages_of(err)

    mutual.premium_record(actor=dave, member=member, kind="yearly", year=year + 1)
    assert balance_of(mutual_fund) == D("180.00")
    with pytest.raises(ValidationError) as err:
        mutual.premium_record(actor=dave, member=member, kind="yearly", year=year + 1)
    assert f"{year + 1} 年度的年度缴费已缴纳，不能重复缴纳" in messages_of(err)
    assert balance_of(mutual_fund) == D("180.00")
    assert [(p.kind, p.amount) for p in Premium.objects.order_by("id")] == [
        ("first", D("120.00")),
        ("yearly", D("60.00")),
    ]


@pytest.mark.django_db
def test_only_finance_takes_premiums(alice, carol, member, mutual_fund):
    for who in (alice, carol):
        with pytest.raises(PermissionDenied):
            mutual.premium_record(actor=who, member=member, kind="first", year=2026)
    assert balance_of(mutual_fund) == D("0.00")


@pytest.mark.django_db
def test_the_premium_screen_refuses_a_duplicate_with_a_clear_message(
    as_user, dave, member, mutual_fund
):
    client = as_user(dave)
    url = reverse("programs:premium_record", args=[member.pk])
    year = str(clock.today().year)
    response = client.post(url, {"kind": "first", "year": year}, follow=True)
    assert "120.00 元" in response.content.decode()
    response = client.post(url, {"kind": "first", "year": year})
    assert response.status_code == 200
    assert "首次缴费只能缴纳一次" in response.content.decode()
    assert balance_of(mutual_fund) == D("120.00") and Premium.objects.count() == 1


@pytest.mark.django_db
def test_the_cooperative_list_shows_members_and_the_ledger_balance(
    as_user, carol, dave, paid_member, coop
):
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=coop.fund,
        amount="5000",
        memo="工会补助互助金",
    )
    page = as_user(carol).get(reverse("programs:coop_list")).content.decode()
    assert coop.name in page and "5120.00" in page
    detail = as_user(carol).get(reverse("programs:coop_detail", args=[coop.pk])).content.decode()
    assert paid_member.household.name in detail and "已缴费" in detail


@pytest.mark.django_db
def test_a_member_who_has_not_paid_this_year_cannot_claim(as_user, alice, dave, member):
    with pytest.raises(ValidationError) as err:
        submit(alice, member)
    assert f"尚未缴纳 {clock.today().year} 年度互助费" in messages_of(err)
    mutual.premium_record(actor=dave, member=member, kind="first", year=clock.today().year)
    with pytest.raises(ValidationError) as err:
        submit(alice, member, amount="0")
    assert "amount" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        mutual.claim_submit(actor=alice, member=member, category="medical", amount="10", reason=" ")
    assert "reason" in err.value.error_dict
    with pytest.raises(PermissionDenied):
        submit(dave, member)
    assert not Claim.objects.exists()

    # The first premium covers its year only: next year needs a yearly one.
    set_day(clock.today().replace(month=1, day=5, year=clock.today().year + 1))
    with pytest.raises(ValidationError):
        submit(alice, member)
    response = as_user(alice).post(
        reverse("programs:claim_submit", args=[member.pk]),
        {"category": "medical", "amount": "3000", "reason": "住院"},
    )
    assert "年度互助费，缴费后才能申请互助" in response.content.decode()


# -- the committee's vote ----------------------------------------------------------


@pytest.mark.django_db
def test_a_yes_majority_approves_the_claim_to_be_paid_from_the_fund(
    alice, carol, cathy, fang, paid_member, coop
):
    claim = submit(alice, paid_member)
    mutual.claim_vote(actor=carol, claim=claim, approve=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING
    mutual.claim_vote(actor=cathy, claim=claim, approve=True, note="情况属实")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and claim.decided_at is not None
    # Paid straight from the fund: no aid application is written.
    assert claim.application is None and claim.entry is None
    with pytest.raises(ValidationError) as err:
        mutual.claim_vote(actor=fang, claim=claim, approve=False)
    assert "已表决完毕" in messages_of(err)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_a_no_majority_rejects_the_claim(alice, carol, cathy, fang, paid_member):
    claim = submit(alice, paid_member)
    mutual.claim_vote(actor=carol, claim=claim, approve=False, note="已获医保全额报销")
    mutual.claim_vote(actor=fang, claim=claim, approve=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING
    mutual.claim_vote(actor=cathy, claim=claim, approve=False)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED and claim.application is None
    assert not Application.objects.exists()


def test_a_claim_moves_only_along_its_table(alice, carol, cathy, fang, paid_member):
    claim = submit(alice, paid_member)
    for voter in (carol, cathy):
        mutual.claim_vote(actor=voter, claim=claim, approve=False)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    with pytest.raises(ValidationError, match="不能从"):
        mutual.claim_move(claim, ClaimStatus.PAID)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    # Every status has its row, so no status can be stranded.
    assert set(mutual.CLAIM_TRANSITIONS) == set(ClaimStatus.values)


def test_a_claim_fails_as_soon_as_a_yes_majority_is_out_of_reach():
    # Four members, two against: two yes would be half, not more than half.
    assert mutual.tally(4, yes=0, no=2) == ClaimStatus.REJECTED
    assert mutual.tally(4, yes=1, no=1) == ClaimStatus.PENDING
    assert mutual.tally(4, yes=3, no=1) == ClaimStatus.APPROVED
    # The member who submitted it cannot vote, so cannot make up the numbers.
    assert mutual.tally(3, yes=1, no=0, abstaining=1) == ClaimStatus.PENDING
    assert mutual.tally(3, yes=0, no=1, abstaining=1) == ClaimStatus.REJECTED


@pytest.mark.django_db
def test_only_the_committee_votes_and_each_member_once(alice, carol, dave, paid_member):
    claim = submit(alice, paid_member)
    for outsider in (alice, dave):
        with pytest.raises(PermissionDenied):
            mutual.claim_vote(actor=outsider, claim=claim, approve=True)
    mutual.claim_vote(actor=carol, claim=claim, approve=True)
    with pytest.raises(ValidationError) as err:
        mutual.claim_vote(actor=carol, claim=claim, approve=True)
    assert "不能重复表决" in messages_of(err)
    assert ClaimVote.objects.count() == 1


@pytest.mark.django_db
def test_the_vote_screens(as_user, alice, carol, dave, paid_member):
    claim = submit(alice, paid_member)
    url = reverse("programs:claim_detail", args=[claim.pk])
    assert 'id="vote-form"' not in as_user(alice).get(url).content.decode()
    vote = reverse("programs:claim_vote", args=[claim.pk])
    assert as_user(dave).post(vote, {"approve": "yes"}).status_code == 403
    client = as_user(carol)
    assert 'id="vote-form"' in client.get(url).content.decode()
    response = client.post(vote, {})
    assert "请选择同意或不同意" in response.content.decode()
    assert client.post(vote, {"approve": "yes"}).status_code == 302
    response = client.post(vote, {"approve": "yes"})
    assert response.status_code == 200
    assert "不能重复表决" in response.content.decode()
    page = client.get(url).content.decode()
    assert "您已表决" in page and "同意 1，不同意 0" in page
    assert ClaimVote.objects.count() == 1


@pytest.mark.django_db
def test_a_committee_member_who_voted_cannot_pay_the_claim_but_another_officer_can(
    as_user, alice, carol, dave, fang, paid_member, mutual_fund
):
    top_up(dave, mutual_fund, "10000")
    claim = submit(alice, paid_member)
    mutual.claim_vote(actor=carol, claim=claim, approve=True)
    mutual.claim_vote(actor=fang, claim=claim, approve=True)
    claim.refresh_from_db()
    for refused in (fang, alice, carol):
        with pytest.raises(PermissionDenied):
            mutual.claim_pay(actor=refused, claim=claim)
    assert balance_of(mutual_fund) == D("10120.00")
    # The voter is told why on the claim page, and the screen refuses her too.
    page = as_user(fang).get(reverse("programs:claim_detail", args=[claim.pk])).content.decode()
    assert 'id="claim-pay-refused"' in page and 'id="claim-pay-form"' not in page
    pay = reverse("programs:claim_pay", args=[claim.pk])
    assert as_user(fang).post(pay, {}).status_code == 403
    response = as_user(dave).post(pay, {"paid_on": "2099-01-01"})
    assert "发放日期不能晚于今天" in response.content.decode()
    assert balance_of(mutual_fund) == D("10120.00")
    assert as_user(dave).post(pay, {}).status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.paid_on == clock.today()
    assert (claim.entry.fund, claim.entry.amount, claim.paid_by) == (
        mutual_fund,
        D("3000.00"),
        dave,
    )
    assert balance_of(mutual_fund) == D("7120.00")
    with pytest.raises(ValidationError) as err:
        mutual.claim_pay(actor=dave, claim=claim)
    assert "不能重复发放" in messages_of(err)
    assert balance_of(mutual_fund) == D("7120.00")
    page = as_user(carol).get(reverse("programs:claim_detail", args=[claim.pk])).content.decode()
    assert "已发放" in page
    assert AuditEvent.objects.filter(action="claim.pay").count() == 1


@pytest.mark.django_db
def test_a_claim_payment_reversed_on_the_fund_page_may_be_paid_again(
    alice, carol, cathy, dave, paid_member, mutual_fund
):
    top_up(dave, mutual_fund, "5000")
    claim = submit(alice, paid_member, amount="1000")
    mutual.claim_vote(actor=carol, claim=claim, approve=True)
    mutual.claim_vote(actor=cathy, claim=claim, approve=True)
    first = mutual.claim_pay(actor=dave, claim=claim)
    ledger.entry_correct(actor=dave, entry=first, reason="付错账户")
    claim = Claim.objects.select_related("entry__reversed_by").get(pk=claim.pk)
    assert not mutual.claim_paid(claim) and mutual.may_pay(claim)
    assert balance_of(mutual_fund) == D("5120.00")
    second = mutual.claim_pay(actor=dave, claim=claim)
    assert second.pk != first.pk and balance_of(mutual_fund) == D("4120.00")


@pytest.mark.django_db
def test_whoever_submitted_a_claim_does_not_vote_on_it(carol, cathy, fang, paid_member):
    claim = submit(carol, paid_member)
    with pytest.raises(PermissionDenied):
        mutual.claim_vote(actor=carol, claim=claim, approve=True)
    mutual.claim_vote(actor=cathy, claim=claim, approve=True)
    mutual.claim_vote(actor=fang, claim=claim, approve=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED


# -- lists ---------------------------------------------------------------------


def _members(coop, units, count, start):
    medical = ClaimCategory.objects.get(code="medical")
    for i in range(count):
        m = CoopMember.objects.create(
            cooperative=coop,
            name=f"会员{start + i}",
            id_number=make_id(),
            unit=units["a1"] if i % 3 else units["a"],
            phone="13800001234",
            joined_on=clock.today(),
            created_by=coop.fund.created_by,
        )
        if i % 2:
            Claim.objects.create(
                member=m,
                category=medical,
                amount=D("100"),
                reason="困难",
                submitted_by=m.created_by,
            )


@pytest.mark.django_db
def test_cooperative_pages_take_the_same_queries_for_few_and_many_members(
    as_user, carol, erin, coop, units, django_assert_max_num_queries
):
    urls = [
        reverse("programs:coop_list"),
        reverse("programs:coop_detail", args=[coop.pk]),
        reverse("programs:coop_detail", args=[coop.pk])
        + f"?q=会员&unit={units['a1'].pk}&status=pending&mpage=2&cpage=2",
    ]
    _members(coop, units, 2, 0)
    for user in (carol, erin):
        client = as_user(user)
        for url in urls:
            with django_assert_max_num_queries(MAX_QUERIES):
                assert client.get(url).status_code == 200
    _members(coop, units, 80, 2)
    for user in (carol, erin):
        client = as_user(user)
        for url in urls:
            with django_assert_max_num_queries(MAX_QUERIES):
                assert client.get(url).status_code == 200
    assert "共 82 条" in client.get(urls[1]).content.decode()


# Session, user, second-factor device, roles, the cooperative, units (filter +
# choices), members (count, keys, rows), claims (count, keys, rows), by
# category (3), premiums per year, the committee, the claim categories
# offered: the same for 2 members or 80.
MAX_QUERIES = 19


# -- concurrency (PostgreSQL) -----------------------------------------------------


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_members_voting_at_once_approve_once(
    claim_categories, alice, carol, cathy, fang, paid_member
):
    claim = submit(alice, paid_member)
    voters = [carol, cathy, fang]
    refused = _race(3, lambda i: mutual.claim_vote(actor=voters[i], claim=claim, approve=True))
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    # Whoever came after the majority is told the claim is decided.
    assert len(refused) == 1 and ClaimVote.objects.count() == 2
    # Approved once: one decision time, and nothing paid by the vote itself.
    assert claim.decided_at is not None and claim.entry_id is None


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_premium_taken_twice_at_once_is_received_once(dave, member, mutual_fund):
    year = clock.today().year
    refused = _race(
        5, lambda i: mutual.premium_record(actor=dave, member=member, kind="first", year=year)
    )
    assert len(refused) == 4
    assert Premium.objects.count() == 1
    assert balance_of(mutual_fund) == D("120.00")


# -- configuration in the admin ----------------------------------------------------


@pytest.mark.django_db
def test_an_administrator_sets_up_a_cooperative_in_the_admin(
    client, units, mutual_fund, carol, cathy, fang, paid_member, coop
):
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    festival = Program.objects.create(
        unit=units["a"], name="春节送温暖", category="festival", kind="cash"
    )
    data = {
        "unit": units["a"].pk,
        "name": "纺织厂互助会",
        "fund": mutual_fund.pk,
        "program": festival.pk,
        "first_premium": "100",
        "yearly_premium": "50",
        "committee": [carol.pk, cathy.pk, fang.pk],
        "is_active": "on",
    }
    response = client.post(reverse("admin:programs_cooperative_add"), data)
    assert response.status_code == 200
    assert "请选择类别为“医疗互助”" in response.content.decode()
    data["program"] = coop.program.pk
    response = client.post(reverse("admin:programs_cooperative_add"), data)
    assert response.status_code == 302
    added = Cooperative.objects.get(name="纺织厂互助会")
    assert set(added.committee.all()) == {carol, cathy, fang}
    assert AuditEvent.objects.filter(action="cooperative.create").exists()
    # What the services wrote is listed, never edited, in the admin.
    for model in ("coopmember", "premium", "claim", "claimvote", "loan", "repayment"):
        listing = client.get(reverse(f"admin:programs_{model}_changelist"))
        assert listing.status_code == 200, model
    premium = Premium.objects.get()
    change = client.get(reverse("admin:programs_premium_change", args=[premium.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:programs_premium_add")).status_code == 403
