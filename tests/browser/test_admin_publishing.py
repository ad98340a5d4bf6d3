"""A curator in Chromium tries to publish a bare product: refused, with the checklist to follow.

Screenshots at 1,366 px go to artifacts/screenshots/curation-*.png.
"""

from __future__ import annotations

from functools import partial

import pytest

from products.models import Product
from tests.browser import test_admin_edit
from tests.browser.test_admin_edit import log_in
from tests.chromium import requires_chromium, screenshot

pytestmark = requires_chromium
curator_account = test_admin_edit.curator_account  # the fixture: a curator of the live server


@pytest.fixture
def laptop_page(browser_page):
    """``with laptop_page() as page``: a page at 1,366 px."""
    return partial(browser_page, {"width": 1366, "height": 768})


def test_a_bare_product_cannot_be_published_and_the_checklist_says_why(
    live_server, curator_account, laptop_page
):
    with laptop_page() as page:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/admin/products/product/add/")
        checklist = page.locator(".publication-checklist")
        assert "✗ At least one indication: missing" in checklist.inner_text()
        page.fill("#id_name", "Barevex")
        page.select_option("#id_status", "authorised")
        page.check("#id_is_published")
        page.locator("input[name=_save]").first.click()
        page.wait_for_selector(".errornote")
        errors = page.locator(".errorlist").all_inner_texts()
        screenshot(page, "curation-refused-1366")
    assert any("A published entry needs" in error for error in errors)
    assert any("at least one indication" in error for error in errors)
    assert not Product.objects.filter(name="Barevex").exists()


def test_a_complete_product_shows_every_item_ticked(live_server, curator_account, laptop_page):
    kymriah = Product.objects.get(slug="kymriah")
    with laptop_page() as page:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/admin/products/product/{kymriah.pk}/change/")
        items = page.locator(".publication-checklist li").all_inner_texts()
        screenshot(page, "curation-checklist-1366", full_page=False)
    assert items and all(item.startswith("✓") for item in items)
