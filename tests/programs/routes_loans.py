"""Permission-walk entries for the loan and mutual-aid URLs (see
tests/test_permissions.py), and the builders that make their objects.

The builders write rows directly: the walk is about who may open a page or
do an action, not about how the loan or the membership came to be (the
services are tested in test_loans.py and test_mutual.py). Each builder works
for a household of any union, so the walk can also build county B's.
"""

import datetime
from decimal import Decimal as D
from typing import Any

from accounts.models import User
from cases import clock
from cases.models import Household
from funds.models import EntryKind, Fund, LedgerEntry
from funds.services import income_source
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Claim,
    ClaimCategory,
    ClaimStatus,
    Cooperative,
    CoopMember,
    Installment,
    Loan,
    Premium,
    PremiumKind,
    Program,
    Repayment,
)
from programs.services.loans import add_months, schedule_amounts
from tests.builders import make_id
from tests.permission_routes import Page, Route

ALL_READERS = ("alice", "bob", "carol", "dave", "erin")
NOT_FINANCE = ("alice", "carol", "erin", "frank")


def _someone() -> User:
    user = User.objects.order_by("pk").first()
    assert user is not None
    return user


def _receive(fund: Fund, amount: str, memo: str = "拨款") -> LedgerEntry:
    return LedgerEntry.objects.create(
        fund=fund,
        kind=EntryKind.RECEIPT,
        direction=1,
        amount=D(amount),
        occurred_on=clock.today(),
        memo=memo,
        source=income_source("admin_allocation"),
        payer_kind="unit",
        payer="金水区财政局",
        actor=_someone(),
    )


# -- loans ---------------------------------------------------------------------


def loan_fund(unit: Any) -> Fund:
    """A revolving loan fund of the union, with 100000 in it."""
    fund, created = Fund.objects.get_or_create(
        unit=unit,
        year=clock.today().year,
        name="无息借款周转金",
        defaults={"created_by": _someone()},
    )
    if created:
        _receive(fund, "100000")
    return fund


def loan_program(unit: Any) -> Program:
    program, _created = Program.objects.get_or_create(
        unit=unit, name="困难职工无息借款", defaults={"category": "loan", "kind": "loan"}
    )
    program.funds.add(loan_fund(unit))
    return program


def approved_loan_application(household: Household, amount: str = "12000") -> Application:
    """A loan application the chair approved, waiting for finance."""
    return Application.objects.create(
        program=loan_program(household.unit),
        household=household,
        year=clock.today().year,
        status=ApplicationStatus.APPROVED,
        amount=D(amount),
        reason="开办早餐店",
        drafted_by=User.objects.filter(username="alice").first() or _someone(),
    )


def active_loan(
    household: Household,
    *,
    principal: str = "12000",
    term: int = 12,
    issued_on: datetime.date | None = None,
) -> Loan:
    """A loan paid out on `issued_on`, due monthly from a month later."""
    issued_on = issued_on or clock.today()
    application = approved_loan_application(household, principal)
    fund = loan_fund(household.unit)
    entry = LedgerEntry.objects.create(
        fund=fund,
        kind=EntryKind.PAYMENT,
        direction=-1,
        amount=application.amount,
        occurred_on=issued_on,
        memo="放款",
        household=household,
        actor=_someone(),
    )
    payment = AidPayment.objects.create(
        application=application,
        fund=fund,
        entry=entry,
        method="bank",
        amount=application.amount,
        paid_on=issued_on,
        paid_by=_someone(),
    )
    Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.PAID)
    loan = Loan.objects.create(
        application=application,
        payment=payment,
        household=household,
        fund=fund,
        principal=application.amount,
        issued_on=issued_on,
        term_months=term,
        created_by=_someone(),
    )
    first = add_months(issued_on, 1)
    Installment.objects.bulk_create(
        Installment(loan=loan, seq=i + 1, due_on=add_months(first, i), amount=amount)
        for i, amount in enumerate(schedule_amounts(loan.principal, term))
    )
    return loan


def _bank_card(household: Household) -> None:
    Household.objects.filter(pk=household.pk).update(
        bank_name="中国工商银行", bank_account="6222020200112233445"
    )
    household.refresh_from_db()


def _disburse_payload(household: Household) -> dict[str, Any]:
    return {
        "fund": loan_fund(household.unit).pk,
        "method": "bank",
        "term_months": "12",
        "first_due_on": add_months(clock.today(), 1).isoformat(),
    }


def _disbursed(response: Any, household: Household, application: Application) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="disburse-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        loan = Loan.objects.get(application=application)
        assert loan.principal == D("12000") and loan.installments.count() == 12


def _loan_shown(response: Any, household: Household, loan: Loan) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert household.name in page and 'id="schedule"' in page


def _repaid(response: Any, _household: Household, loan: Loan) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="repayment-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert [r.amount for r in Repayment.objects.filter(loan=loan)] == [D("1000.00")]


def repaid_loan(household: Household, amount: str = "1000") -> Repayment:
    """An active loan with one repayment received into its fund."""
    loan = active_loan(household)
    entry = LedgerEntry.objects.create(
        fund=loan.fund,
        kind=EntryKind.RECEIPT,
        direction=1,
        amount=D(amount),
        occurred_on=clock.today(),
        memo="借款还款",
        household=household,
        source=income_source("other"),
        payer_kind="person",
        payer=household.name,
        actor=_someone(),
    )
    return Repayment.objects.create(
        loan=loan, amount=D(amount), paid_on=clock.today(), entry=entry, actor=_someone()
    )


def _repayment_reversed(response: Any, _household: Household, repayment: Repayment) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="repayment-reverse-form"' in page and "1,000.00" in page
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        reversal = LedgerEntry.objects.get(reverses=repayment.entry_id)
        assert (reversal.direction, reversal.amount) == (-1, D("1000.00"))
        assert Repayment.objects.filter(pk=repayment.pk).exists()


# -- mutual aid ----------------------------------------------------------------


def cooperative(unit: Any, committee: tuple[str, ...] = ("carol",)) -> Cooperative:
    """A medical mutual-aid cooperative: premiums 120 then 60 a year into its
    fund, claims paid under its program from the same fund."""
    fund, _created = Fund.objects.get_or_create(
        unit=unit,
        year=clock.today().year,
        name="职工医疗互助金",
        defaults={"created_by": _someone()},
    )
    program, _created = Program.objects.get_or_create(
        unit=unit, name="职工医疗互助", defaults={"category": "mutual_medical", "kind": "cash"}
    )
    program.funds.add(fund)
    coop, created = Cooperative.objects.get_or_create(
        unit=unit,
        name="职工医疗互助会",
        defaults={
            "fund": fund,
            "program": program,
            "first_premium": D("120"),
            "yearly_premium": D("60"),
        },
    )
    if created:
        coop.committee.set(User.objects.filter(username__in=committee))
    return coop


def member(
    household: Household, *, paid: bool = True, coop: Cooperative | None = None
) -> CoopMember:
    coop = coop or cooperative(household.unit)
    joined = CoopMember.objects.create(
        cooperative=coop,
        name=household.name,
        id_number=household.id_number,
        unit=household.unit,
        household=household,
        joined_on=clock.today(),
        created_by=_someone(),
    )
    if paid:
        Premium.objects.create(
            member=joined,
            kind=PremiumKind.FIRST,
            year=clock.today().year,
            amount=coop.first_premium,
            entry=_receive(coop.fund, str(coop.first_premium), "首次缴费"),
            actor=_someone(),
            paid_on=clock.today(),
        )
    return joined


def pending_claim(household: Household) -> Claim:
    return Claim.objects.create(
        member=member(household),
        category=ClaimCategory.objects.get(code="medical"),
        amount=D("3000"),
        reason="住院自付费用",
        submitted_by=User.objects.get(username="alice"),
    )


def approved_claim(household: Household) -> Claim:
    """A claim the committee approved, for 100 yuan: the member's first
    premium (120) is in the fund to pay it."""
    claim = pending_claim(household)
    claim.amount = D("100")
    claim.status = ClaimStatus.APPROVED
    claim.save()
    return claim


def _claim_paid(response: Any, _household: Household, claim: Claim) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim.entry is not None
    assert (claim.entry.direction, claim.entry.amount) == (-1, D("100.00"))


def linked_member(household: Household) -> CoopMember:
    return member(household, paid=False)


def _unlinked(response: Any, _household: Household, joined: CoopMember) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    joined.refresh_from_db()
    assert joined.household_id is None


def _removed(response: Any, _household: Household, joined: CoopMember) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not CoopMember.objects.filter(pk=joined.pk).exists()


def _member_added(response: Any, household: Household, coop: Cooperative) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="member-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        added = CoopMember.objects.get(cooperative=coop, name="孙小梅")
        assert (added.unit_id, added.household_id) == (household.unit_id, None)


def _member_edited(response: Any, household: Household, joined: CoopMember) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="member-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        joined.refresh_from_db()
        assert joined.phone == "13700001111"


def _member_payload(household: Household) -> dict[str, Any]:
    return {
        "name": household.name,
        "id_number": household.id_number,
        "unit": household.unit_id,
        "phone": "13700001111",
        "joined_on": clock.today().isoformat(),
    }


def _roster_page(response: Any, _household: Household, _coop: Cooperative) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    if response.wsgi_request.method == "GET":
        assert 'id="roster-upload"' in page
    else:
        # No file: the upload form says so, and nothing is imported.
        assert "请选择要导入的名册文件" in page


def _roster_template(response: Any, _household: Household, _coop: Cooperative) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def _coop_pdf(response: Any, _household: Household, coop: Cooperative) -> None:
    import io

    from pypdf import PdfReader

    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"] == "application/pdf"
    text = "".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "互助金发放统计表" in text


def _coop(household: Household) -> Cooperative:
    return cooperative(household.unit)


def _unpaid_member(household: Household) -> CoopMember:
    return member(household, paid=False)


def _coop_shown(response: Any, _household: Household, coop: Cooperative) -> None:
    assert response.status_code == 200
    assert coop.name in response.content.decode() and 'id="members"' in response.content.decode()


def _enrolled(response: Any, household: Household, coop: Cooperative) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="enroll-search"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert CoopMember.objects.filter(cooperative=coop, household=household).exists()


def _premium_paid(response: Any, _household: Household, joined: CoopMember) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="premium-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        premium = Premium.objects.get(member=joined)
        assert (premium.kind, premium.amount) == ("first", D("120.00"))


def paid_premium(household: Household) -> Premium:
    """A member's first premium, received into the cooperative's fund."""
    return member(household).premiums.get()


def _premium_reversed(response: Any, _household: Household, premium: Premium) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        page = response.content.decode()
        assert 'id="premium-reverse-form"' in page and "120.00" in page
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        reversal = LedgerEntry.objects.get(reverses=premium.entry_id)
        assert (reversal.direction, reversal.amount) == (-1, D("120.00"))
        assert Premium.objects.filter(pk=premium.pk).exists()


def _claim_submitted(response: Any, _household: Household, joined: CoopMember) -> None:
    if response.wsgi_request.method == "GET":
        assert response.status_code == 200
        assert 'id="claim-form"' in response.content.decode()
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        claim = Claim.objects.get(member=joined)
        assert (claim.amount, claim.status) == (D("2000.00"), ClaimStatus.PENDING)


def _claim_shown(response: Any, _household: Household, claim: Claim) -> None:
    assert response.status_code == 200
    page = response.content.decode()
    assert "住院自付费用" in page and 'id="vote-form"' in page


def _voted(response: Any, household: Household, claim: Claim) -> None:
    assert response.status_code == 302, response.content.decode()[:2000]
    claim.refresh_from_db()
    # carol is the whole committee in the walk: her yes is the majority.
    assert claim.status == ClaimStatus.APPROVED and claim.decided_at is not None
    assert claim.application is None


ROUTES: dict[str, Route] = {
    # Loans: read by everyone who reads the household or the fund; money
    # moves only by the finance officer of the county.
    "programs:loan_detail": Route(
        lambda h: active_loan(h),
        ("GET",),
        ("frank",),
        allowed=_loan_shown,
        user="dave",
        outsider="fay",
    ),
    "programs:loan_disburse": Route(
        approved_loan_application,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=_disburse_payload,
        allowed=_disbursed,
        user="dave",
        outsider="fay",
        prepare=_bank_card,
    ),
    "programs:repayment_record": Route(
        lambda h: active_loan(h),
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"amount": "1000", "paid_on": clock.today().isoformat()},
        allowed=_repaid,
        user="dave",
        outsider="fay",
    ),
    # A mistaken repayment is taken back out by the finance officer of the
    # fund's county, and only by her.
    "programs:repayment_reverse": Route(
        repaid_loan,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"reason": "重复入账"},
        allowed=_repayment_reversed,
        user="dave",
        outsider="fay",
    ),
    # Mutual aid: caseworkers enroll and apply, finance takes premiums, the
    # committee (carol) votes.
    "programs:coop_detail": Route(_coop, ("GET",), ("frank",), allowed=_coop_shown),
    "programs:coop_enroll": Route(
        _coop,
        ("GET", "POST"),
        ("erin", "frank"),
        payload=lambda h: {"household": h.pk, "joined_on": clock.today().isoformat()},
        allowed=_enrolled,
    ),
    "programs:premium_record": Route(
        _unpaid_member,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"kind": "first", "year": str(clock.today().year)},
        allowed=_premium_paid,
        user="dave",
        outsider="fay",
    ),
    "programs:premium_reverse": Route(
        paid_premium,
        ("GET", "POST"),
        NOT_FINANCE,
        payload=lambda h: {"reason": "收错会员"},
        allowed=_premium_reversed,
        user="dave",
        outsider="fay",
    ),
    "programs:claim_submit": Route(
        lambda h: member(h),
        ("GET", "POST"),
        ("erin", "dave", "frank"),
        payload=lambda h: {"category": "medical", "amount": "2000", "reason": "门诊慢性病"},
        allowed=_claim_submitted,
    ),
    "programs:claim_detail": Route(
        pending_claim, ("GET",), ("frank",), allowed=_claim_shown, user="carol", outsider="ben"
    ),
    "programs:claim_vote": Route(
        pending_claim,
        ("POST",),
        ("alice", "dave", "erin", "frank"),
        payload=lambda h: {"approve": "yes"},
        allowed=_voted,
        user="carol",
        outsider="ben",
    ),
    # Paying an approved claim: finance of the fund's county, who did not
    # vote on it (carol voted; dave did not).
    "programs:claim_pay": Route(
        approved_claim,
        ("POST",),
        NOT_FINANCE,
        payload=lambda h: {},
        allowed=_claim_paid,
        user="dave",
        outsider="fay",
    ),
    # The roster: those who enroll (caseworkers, finance) keep it.
    "programs:member_add": Route(
        _coop,
        ("GET", "POST"),
        ("erin", "frank"),
        payload=lambda h: {
            "name": "孙小梅",
            "id_number": make_id(),
            "unit": h.unit_id,
            "joined_on": clock.today().isoformat(),
        },
        allowed=_member_added,
    ),
    "programs:member_edit": Route(
        linked_member,
        ("GET", "POST"),
        ("erin", "frank"),
        payload=_member_payload,
        allowed=_member_edited,
    ),
    "programs:member_remove": Route(linked_member, ("POST",), ("erin", "frank"), allowed=_removed),
    "programs:member_link": Route(
        linked_member,
        ("POST",),
        ("erin", "frank"),
        payload=lambda h: {"link": "0"},
        allowed=_unlinked,
    ),
    "programs:roster_import": Route(
        _coop, ("GET", "POST"), ("erin", "frank"), payload=lambda h: {}, allowed=_roster_page
    ),
    "programs:roster_template": Route(_coop, ("GET",), ("erin", "frank"), allowed=_roster_template),
    # The cooperative's claims by category (PDF, xlsx): whoever reads it.
    "reports:coop_report": Route(_coop, ("GET",), ("frank",), allowed=_coop_pdf),
}

PAGES: dict[str, Page] = {
    "programs:loan_list": Page(("GET",), ALL_READERS, ("frank",)),
    "programs:loan_arrears": Page(("GET",), ALL_READERS, ("frank",)),
    "programs:coop_list": Page(("GET",), ALL_READERS, ("frank",)),
}
