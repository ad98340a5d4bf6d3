"""The product's change page at 1,366 px: the inline tables fit, every column in view.

Screenshot: artifacts/screenshots/curation-inlines-1366.png.
"""

from __future__ import annotations

from products.models import Product
from tests.browser import test_admin_edit, test_admin_publishing
from tests.browser.test_admin_edit import log_in
from tests.chromium import requires_chromium, screenshot

pytestmark = requires_chromium
curator_account = test_admin_edit.curator_account  # the fixture: a curator of the live server
laptop_page = test_admin_publishing.laptop_page  # the fixture: a page at 1,366 px


def test_the_inline_tables_fit_a_1366_px_screen(live_server, curator_account, laptop_page):
    kymriah = Product.objects.get(slug="kymriah")
    with laptop_page() as page:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/admin/products/product/{kymriah.pk}/change/")
        widths = page.evaluate(
            """() => [...document.querySelectorAll('.inline-group .tabular table')]
                 .map(t => Math.round(t.getBoundingClientRect().right))"""
        )
        delete_columns = page.evaluate(
            """() => [...document.querySelectorAll('.inline-group .tabular td.delete')]
                 .map(td => Math.round(td.getBoundingClientRect().right))"""
        )
        page_width = page.evaluate("document.documentElement.scrollWidth")
        page.locator("#indications-group").scroll_into_view_if_needed()
        screenshot(page, "curation-inlines-1366", full_page=False)
    assert len(widths) == 2
    assert max(widths) <= 1366 and max(delete_columns) <= 1366
    assert page_width <= 1366
