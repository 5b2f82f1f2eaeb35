"""Permission-walk entries for the lifecycle URLs (see tests/test_permissions.py)."""

import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User
from cases import clock
from cases.models import (
    Household,
    HouseholdStatus,
    LocalStandard,
    MonthlyIncome,
    NonCashHelp,
    ReviewItem,
    ReviewOutcome,
    ReviewRound,
)
from tests.permission_routes import Page, Route

NO_EDIT = ("erin", "dave", "frank")  # may read files (or not even that), not write
NO_DECIDE = ("alice", "erin", "dave", "frank")  # everyone but a chair


def _filed(household: Household) -> None:
    Household.objects.filter(pk=household.pk).update(
        status=HouseholdStatus.FILED,
        filed_on=datetime.date(2020, 1, 1),
        file_number=f"T-2020-{household.pk:04d}",
    )
    LocalStandard.objects.get_or_create(
        unit=household.unit,
        effective_from=datetime.date(2020, 1, 1),
        defaults={"amount": Decimal("800")},
    )


def _flagged(household: Household) -> None:
    _filed(household)
    Household.objects.filter(pk=household.pk).update(exit_flagged_on=clock.today())


def _round(household: Household) -> ReviewRound:
    _filed(household)
    review, _created = ReviewRound.objects.get_or_create(
        unit=household.unit,
        year=clock.today().year,
        defaults={
            "seed": 7,
            "sample_percent": 30,
            "started_by": User.objects.get(username="carol"),
        },
    )
    ReviewItem.objects.get_or_create(round=review, household=household, defaults={"sampled": True})
    return review


def _item(household: Household) -> ReviewItem:
    return ReviewItem.objects.get(round=_round(household), household=household)


def _page_shows(*texts: str) -> Any:
    def check(response: Any, household: Household, _obj: Any) -> None:
        assert response.status_code == 200
        page = response.content.decode()
        for text in (household.name, *texts):
            assert text in page, text

    return check


def _round_shown(response: Any, household: Household, review: ReviewRound) -> None:
    _page_shows("实地复核", str(review.seed))(response, household, review)


def _form_or(saved: Any, form_id: str) -> Any:
    """GET shows the form; POST saved what `saved` checks and redirected."""

    def check(response: Any, household: Household, obj: Any) -> None:
        if response.wsgi_request.method == "GET":
            assert response.status_code == 200
            assert f'id="{form_id}"' in response.content.decode()
        else:
            assert response.status_code == 302, response.content.decode()[:3000]
            saved(household, obj)

    return check


def _review_saved(_h: Household, item: ReviewItem) -> None:
    item.refresh_from_db()
    assert item.outcome == ReviewOutcome.UNCHANGED and item.checked_on == clock.today()


def _income_saved(household: Household, _obj: Any) -> None:
    assert MonthlyIncome.objects.filter(household=household, household_income=3000).exists()


def _flag_dismissed(household: Household, _obj: Any) -> None:
    household.refresh_from_db()
    assert household.exit_flagged_on is None


def _exited(household: Household, _obj: Any) -> None:
    household.refresh_from_db()
    assert household.status == HouseholdStatus.EXITED and household.exit_kind == "moved"


def _noncash_saved(household: Household, _obj: Any) -> None:
    assert NonCashHelp.objects.filter(household=household, kind="job").exists()


def _last_month() -> str:
    return f"{clock.today().replace(day=1) - datetime.timedelta(days=1):%Y-%m}"


ROUTES: dict[str, Route] = {
    "cases:review_detail": Route(_round, ("GET",), ("frank",), allowed=_round_shown),
    "cases:review_item": Route(
        _item,
        ("GET", "POST"),
        NO_EDIT,
        payload=lambda h: {"outcome": "unchanged", "checked_on": clock.today().isoformat()},
        allowed=_form_or(_review_saved, "review-item-form"),
    ),
    "cases:income_record": Route(
        "household",
        ("GET", "POST"),
        NO_EDIT,
        prepare=_filed,
        payload=lambda h: {
            "month": _last_month(),
            "household_income": "3000",
            "household_size": "3",
        },
        allowed=_form_or(_income_saved, "income-form"),
    ),
    "cases:exit_flag_dismiss": Route(
        "household",
        ("GET", "POST"),
        NO_DECIDE,
        user="carol",
        outsider="ben",
        prepare=_flagged,
        payload=lambda h: {"reason": "收入来自一次性补偿，不具持续性"},
        allowed=_form_or(_flag_dismissed, "exit-flag-form"),
    ),
    "cases:household_exit": Route(
        "household",
        ("GET", "POST"),
        NO_DECIDE,
        user="carol",
        outsider="ben",
        prepare=_filed,
        payload=lambda h: {
            "kind": "moved",
            "exited_on": clock.today().isoformat(),
            "reason": "随子女迁往外省",
        },
        allowed=_form_or(_exited, "exit-form"),
    ),
    "cases:noncash_record": Route(
        "household",
        ("GET", "POST"),
        NO_EDIT,
        prepare=_filed,
        payload=lambda h: {
            "kind": "job",
            "given_on": clock.today().isoformat(),
            "description": "推荐到社区保洁公益岗位",
            "outcome": "已上岗",
        },
        allowed=_form_or(_noncash_saved, "noncash-form"),
    ),
}

PAGES: dict[str, Page] = {
    "cases:review_list": Page(("GET",), ("alice", "bob", "carol", "dave", "erin"), ("frank",)),
    "cases:review_start": Page(("GET", "POST"), ("carol", "ben"), NO_DECIDE),
}
