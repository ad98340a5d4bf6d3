"""Follow and compare in Chromium (issue 16): the list's tick boxes, "Compare with…", the table
at 1,366 px, on a phone and printed on A4, and the Follow links with the feeds they lead to.

Screenshots go to artifacts/screenshots/compare-*.png and follow-*.png.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from products.models import AuthorisationEvent, Product
from tests.browser.conftest import PHONE
from tests.browser.test_public_pages import console_errors
from tests.chromium import SCREENSHOTS, TAKE_SCREENSHOTS

pytestmark = pytest.mark.browser

ATOM = "{http://www.w3.org/2005/Atom}"
WIDE = {"width": 1366, "height": 768}
#: A4 (210 mm) less the print style's 15 mm margins, in CSS pixels (96 per inch).
A4_CONTENT_WIDTH = round((210 - 2 * 15) / 25.4 * 96)


def overflow(page) -> int:
    """How far the page is wider than the window (0 when nothing sticks out sideways)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_consultant_ticks_three_car_t_products_and_compares_them(page, screenshot, catalogue):
    errors = console_errors(page)
    page.set_viewport_size(WIDE)
    page.goto("/products/?mechanism=cd19-car-t")
    car_t = Product.objects.published().held_authorisation().with_mechanisms(["cd19-car-t"])
    assert page.locator("#results-heading").inner_text() == f"{car_t.count()} products"
    for name in ("Kymriah", "Yescarta", "Breyanzi"):
        page.get_by_label(f"Compare {name}", exact=True).check()
    page.get_by_role("button", name="Compare ticked products").click()
    page.wait_for_url(re.compile(r"/compare/\?products=breyanzi,kymriah,yescarta$"))
    assert page.locator("h1").inner_text() == "Compare Breyanzi, Kymriah and Yescarta"
    heads = page.locator(".compare-table thead th").all_inner_texts()
    assert [head.splitlines()[0] for head in heads] == ["Breyanzi", "Kymriah", "Yescarta"]

    # One row per fact; the differing ones are marked in words, not colour alone.
    holder = page.locator("tr[data-key=holder]")
    assert "differs" in holder.locator("th").inner_text()
    category = page.locator("tr[data-key=category]")
    assert category.locator("td").all_inner_texts() == ["Gene therapy medicinal product"] * 3
    assert "differs" not in category.locator("th").inner_text()
    orphan = page.locator("tr[data-key=orphan] td").first.inner_text()
    assert "orphan" in orphan.lower()

    # Reads well at 1,366 px: nothing sticks out, every column at least 250 px wide.
    assert overflow(page) == 0
    widths = page.locator(".compare-table thead th").evaluate_all(
        "cells => cells.map(cell => cell.getBoundingClientRect().width)"
    )
    assert min(widths) >= 250
    screenshot(page, "compare-car-t-1366")

    # On a phone, the table scrolls inside its box; the page itself does not.
    page.set_viewport_size(PHONE)
    assert overflow(page) == 0
    screenshot(page, "compare-car-t-phone")

    # Printed on A4: the table fits the width of the paper, every column and row on it.
    page.set_viewport_size({"width": A4_CONTENT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    assert overflow(page) == 0
    table_width = page.locator(".compare-table").evaluate("t => t.getBoundingClientRect().width")
    assert table_width <= A4_CONTENT_WIDTH
    assert page.locator(".site-nav").is_hidden()
    screenshot(page, "compare-car-t-print-a4")
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 4
    if TAKE_SCREENSHOTS:
        (SCREENSHOTS / "compare-car-t-a4.pdf").write_bytes(pdf)
    assert errors == []


def test_compare_with_from_a_product_page(page, screenshot, catalogue):
    errors = console_errors(page)
    page.goto("/products/kymriah/")
    page.get_by_role("link", name="Compare with…").click()
    page.wait_for_url(re.compile(r"/compare/\?products=kymriah$"))
    assert page.get_by_role("group", name="Compare Kymriah with…").is_visible()
    assert page.get_by_label("Kymriah").is_checked()
    page.get_by_label(re.compile(r"Tecartus")).check()
    screenshot(page, "compare-with-chooser")
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_url(re.compile(r"/compare/\?products=kymriah,tecartus$"))
    assert page.locator("h1").inner_text() == "Compare Kymriah and Tecartus"
    assert errors == []


def test_follow_links_lead_to_the_feeds_of_the_list_and_the_product(page, screenshot, catalogue):
    page.goto("/products/?mechanism=cd19-car-t")
    alternate = page.locator("link[rel=alternate][type='application/atom+xml']")
    assert alternate.get_attribute("href") == "/products/feed/?mechanism=cd19-car-t"
    follow = page.locator("a.follow-link")
    assert follow.is_visible()
    assert follow.get_attribute("href") == "/products/feed/?mechanism=cd19-car-t"
    follow.scroll_into_view_if_needed()
    screenshot(page, "follow-list")
    feed = page.request.get(follow.get_attribute("href"))
    assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    entries = ET.fromstring(feed.body()).findall(f"{ATOM}entry")
    car_t = Product.objects.published().held_authorisation().with_mechanisms(["cd19-car-t"])
    assert len(entries) == AuthorisationEvent.objects.filter(product__in=car_t).count()

    page.goto("/products/kymriah/")
    follow = page.locator("a.follow-link")
    assert follow.is_visible()
    assert follow.inner_text().startswith("Follow")
    assert page.locator("link[rel=alternate][type='application/atom+xml']").get_attribute(
        "href"
    ) == ("/products/kymriah/feed/")
    screenshot(page, "follow-product")
    feed = page.request.get(follow.get_attribute("href"))
    titles = [
        entry.find(f"{ATOM}title").text
        for entry in ET.fromstring(feed.body()).findall(f"{ATOM}entry")
    ]
    assert "Kymriah: Initial marketing authorisation (23 August 2018)" in titles
