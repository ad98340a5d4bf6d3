"""The product list at every desktop width and on a phone: every column in view, reasons shown.

Screenshots go to artifacts/screenshots/list-*.png.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def right_edge_overflow(page) -> float:
    """How far (px) the product table's last header ends beyond the visible page; 0 if in view."""
    return page.evaluate(
        """() => {
            const last = document.querySelector('.product-table thead th:last-child');
            const box = last.getBoundingClientRect();
            return Math.max(0, box.right - document.documentElement.clientWidth);
        }"""
    )


@pytest.mark.parametrize("width", [1280, 1366, 1440, 1600, 1920])
def test_first_authorised_is_in_view_at_every_desktop_width(page, screenshot, catalogue, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/products/?page_size=100")
    assert page.locator(".product-table thead th").last.inner_text() == "First authorised"
    assert right_edge_overflow(page) == 0
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth")
    if width in (1280, 1366):
        screenshot(page, f"list-{width}")
