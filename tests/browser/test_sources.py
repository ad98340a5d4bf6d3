"""A product's "Sources" section in Chromium: titled links, the EMA's first, doubts in words.

Screenshots of the section at 1366 px and at phone width go to
artifacts/screenshots/sources-<product>-<width>.png.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE
from tests.chromium import screenshot

pytestmark = pytest.mark.browser

WIDE = {"width": 1366, "height": 900}


def sources_section(page):
    return page.locator("section[aria-labelledby='sources-heading']")


def section_screenshot(page, name: str) -> None:
    screenshot(sources_section(page), name)


def test_holoclar_sources_read_as_titled_links_the_emas_first(page, catalogue):
    page.set_viewport_size(WIDE)
    page.goto("/products/holoclar/")
    section = sources_section(page)
    links = section.locator("ul.sources a")
    assert links.all_inner_texts() == [
        "EMA: European public assessment report (EPAR) for Holoclar",
        "European Commission: Union Register of medicinal products (h987)",
        "Company announcement: chiesi.com",
        "Company announcement: holostem.com (5 April 2024)",
        "Web page: eurogct.org",
        "News report: thepharmaletter.com",
        "News report: reuters.com",
    ]
    assert all(link.get_attribute("rel") == "external nofollow" for link in links.all())
    assert links.first.get_attribute("href") == (
        "https://www.ema.europa.eu/en/medicines/human/EPAR/holoclar"
    )
    items = section.locator("ul.sources li").all_inner_texts()
    assert items[0].splitlines() == [
        "EMA: European public assessment report (EPAR) for Holoclar",
        "European Medicines Agency",
    ]
    assert items[1].splitlines() == [
        "EMA: medicines data export of 27 October 2025",
        "European Medicines Agency",
    ]
    text = section.inner_text()
    assert "http" not in text and "in this folder" not in text
    assert "All core facts checked against sources" in text
    section_screenshot(page, "sources-holoclar-1366")

    page.set_viewport_size(PHONE)
    page.goto("/products/holoclar/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    section_screenshot(page, "sources-holoclar-phone")


def test_kymriah_says_what_is_not_yet_verified_in_plain_words(page, catalogue):
    page.set_viewport_size(WIDE)
    page.goto("/products/kymriah/")
    section = sources_section(page)
    doubts = section.locator("dd ul.doubts li").all_inner_texts()
    assert doubts[0] == "Whether it had an accelerated assessment (sources conflict)"
    assert doubts[1].startswith("Whether the second indication had an orphan designation (")
    assert not re.search(r"_|\[|\]", section.inner_text())
    assert section.get_by_role("link", name="News report: esmo.org (2 of 2)").is_visible()
    section_screenshot(page, "sources-kymriah-1366")
    page.set_viewport_size(PHONE)
    page.goto("/products/kymriah/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    section_screenshot(page, "sources-kymriah-phone")
