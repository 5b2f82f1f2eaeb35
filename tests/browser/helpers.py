"""What the browser journeys check on every page."""

from playwright.sync_api import Page

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
