"""Search as a parent types it, and therapeutic areas by their plain names, at 1,366 and 390 px.

Screenshots go to artifacts/screenshots/search-*.png.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


@pytest.mark.parametrize(("size", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_a_parent_searches_with_a_typo_and_lay_words(page, screenshot, catalogue, size, name):
    page.set_viewport_size(size)
    page.goto("/products/?q=kimriah")
    did_you_mean = page.locator(".did-you-mean")
    assert did_you_mean.inner_text() == "Did you mean kymriah?"
    assert page.locator(".product-table .product-link").all_inner_texts() == ["Kymriah"]
    screenshot(page, f"search-typo-{name}")

    page.goto("/products/?q=inherited+retinal+disease")
    assert page.locator(".some-words").is_visible()
    assert page.locator(".product-table .product-link").first.inner_text() == "Luxturna"
    screenshot(page, f"search-some-words-{name}")

    page.goto("/products/?q=zzzzqqqq")
    empty = page.locator(".empty")
    assert "No product matches your search for “zzzzqqqq”." in empty.inner_text()
    assert "with these filters" not in empty.inner_text()
    screenshot(page, f"search-empty-{name}")


@pytest.mark.parametrize(("size", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_an_area_page_names_the_condition_plainly(page, screenshot, catalogue, size, name):
    page.set_viewport_size(size)
    page.goto("/therapeutic-areas/muscular-atrophy-spinal/")
    assert page.locator("h1").inner_text() == "Spinal muscular atrophy (SMA)"
    assert page.locator(".mesh").inner_text().endswith("Muscular Atrophy, Spinal")
    screenshot(page, f"search-area-{name}")
    page.goto("/therapeutic-areas/")
    assert page.get_by_role("link", name="Haemophilia B").is_visible()
    screenshot(page, f"search-area-list-{name}")
