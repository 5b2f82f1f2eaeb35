"""What the browser journeys check on every page."""

import datetime

from playwright.sync_api import Page

from accounts.models import Unit, User
from cases import clock
from cases.models import Helper, Household, HouseholdStatus
from tests.builders import make_household, make_unit, make_user, roster_person

# Measures sideways overflow and names what sticks out past the right edge.
# A mobile browser may zoom out to show an overflow, which widens innerWidth;
# clientWidth stays the layout viewport, so take the smaller of the two.
_OVERFLOW_JS = """() => {
  const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 0.5) {
      const cls = typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      const id = el.id ? '#' + el.id : '';
      culprits.push(el.tagName.toLowerCase() + id + cls + ' right=' + Math.round(r.right));
    }
  }
  const scroll = document.documentElement.scrollWidth;
  return {scroll: scroll, inner: width, culprits: culprits.slice(0, 8)};
}"""


def assert_fits_phone(page: Page) -> None:
    """No sideways scrolling: everything fits the phone's width."""
    # A click may have started a navigation: measure the page it lands on.
    page.wait_for_load_state()
    m = page.evaluate(_OVERFLOW_JS)
    assert m["scroll"] <= m["inner"], (
        f"{page.url} scrolls sideways: scrollWidth {m['scroll']} > {m['inner']}; "
        f"wide elements: {m['culprits']}"
    )


def helper_scene() -> tuple[User, Household, Unit]:
    """A county caseworker paired as first helper with a filed household of
    a factory union, last visited 125 days ago: a visit is due. Returns the
    helper, the household and the county."""
    clock.reset()
    city = make_unit("410100", "郑州市总工会", kind="city")
    county = make_unit("410105", "金水区总工会", parent=city)
    plant = make_unit("410105001", "郑州纺织厂工会", parent=county, kind="grassroots")
    alice = make_user("alice", county, "caseworker", full_name="张丽")
    household = make_household(
        plant,
        name="王秀兰",
        status=HouseholdStatus.FILED,
        filed_on=datetime.date(2024, 3, 1),
        file_number="410105001-2024-0001",
    )
    today = clock.today()
    Helper.objects.create(
        household=household,
        person=roster_person(household.unit, alice),
        user=alice,
        role="union_cadre",
        is_first=True,
        start_on=today - datetime.timedelta(days=200),
        last_visited_on=today - datetime.timedelta(days=125),
    )
    return alice, household, county
