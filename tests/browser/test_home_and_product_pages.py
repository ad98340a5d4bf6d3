"""The home page's chart and latest changes, and a product page, at 1,366 and 390 px.

Screenshots go to artifacts/screenshots/pages-*.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def test_on_a_phone_the_chart_says_it_scrolls_and_events_keep_their_columns(
    page, screenshot, catalogue
):
    page.set_viewport_size(PHONE)
    page.goto("/")
    cue = page.locator(".chart__cue")
    assert cue.is_visible() and "scroll the chart sideways" in cue.inner_text()
    scroller = page.locator(".chart__scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # it does scroll
    rows = page.locator(".latest-events tbody tr")
    assert rows.count() == 8
    first = rows.first
    date_box = first.locator("td").first.bounding_box()
    name_box = first.locator("th").bounding_box()
    assert date_box["x"] + date_box["width"] <= name_box["x"]  # the date ends before the name
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "pages-home-phone")


def test_on_a_laptop_the_chart_needs_no_cue(page, screenshot, catalogue):
    page.set_viewport_size(LAPTOP)
    page.goto("/")
    assert not page.locator(".chart__cue").is_visible()
    assert page.locator(".chart__scroll").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.locator(".no-changes").inner_text().startswith("No fact has changed since")
    screenshot(page, "pages-home-laptop")


@pytest.mark.parametrize(("size", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_a_product_page_says_what_it_is_for_before_the_category(
    page, screenshot, catalogue, size, name
):
    page.set_viewport_size(size)
    page.goto("/products/zolgensma/")
    what_for = page.locator("#indications-heading").bounding_box()
    category = page.locator("#category-heading").bounding_box()
    assert what_for["y"] < category["y"]
    assert page.get_by_role("link", name="Spinal muscular atrophy (SMA)").first.is_visible()
    screenshot(page, f"pages-product-{name}")


def test_a_former_name_opens_the_product(page, catalogue):
    response = page.goto("/products/durveqtix/")
    assert response.url.endswith("/products/beqvez/") and response.status == 200
    assert page.locator("h1").inner_text().startswith("Beqvez")
