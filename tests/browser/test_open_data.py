"""Open data in Chromium: the releases page (download, checksum), data quality, the home share.

Screenshots go to artifacts/screenshots/open-data-*.png.
"""

from __future__ import annotations

import datetime
import hashlib

import pytest

from products import quality, releases
from tests.browser.conftest import PHONE
from tests.browser.test_public_pages import console_errors

pytestmark = pytest.mark.browser


def test_a_reuser_finds_a_release_downloads_it_and_checks_it(
    live_page, screenshot, catalogue, settings, tmp_path, live_server
):
    page = live_page  # this process's server: it reads the settings the test sets
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.SITE_URL = live_server.url
    errors = console_errors(page)
    release = releases.write_release(now=datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC))

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Open data").click()
    page.wait_for_url("**/data/")
    assert page.locator("h1").inner_text() == "Open data releases"
    assert page.get_by_role("heading", name="Release 2026-12-03 latest").is_visible()
    row = page.locator(".release-files tr", has_text="catalogue.json").first
    digest = release.file("catalogue.json").sha256
    assert digest in row.inner_text()
    assert page.get_by_role("link", name="Creative Commons Attribution 4.0").is_visible()
    screenshot(page, "open-data-releases-desktop")

    # The stable link serves the newest file, and its checksum is the one shown.
    body = page.request.get("/data/latest/catalogue.json").body()
    assert hashlib.sha256(body).hexdigest() == digest
    page.set_viewport_size(PHONE)
    screenshot(page, "open-data-releases-phone")
    assert errors == []


def test_a_curator_reads_the_data_quality_report(page, screenshot, catalogue):
    errors = console_errors(page)
    share = quality.verified_share()
    page.goto("/")
    summary = page.locator(".verified-share")
    assert f"{share.percent} % of the catalogue's facts are verified" in summary.inner_text()
    summary.get_by_role("link", name="Data quality").click()
    page.wait_for_url("**/data-quality/")
    assert page.locator("h1").inner_text() == "Data quality"
    screenshot(page, "open-data-quality-top", full_page=False)
    disagreements = page.locator("#disagreement tbody tr")
    assert disagreements.count() >= 1
    zemcelpro = page.locator("#disagreement tr", has_text="Zemcelpro")
    assert "its own value" in zemcelpro.inner_text()
    screenshot(page, "open-data-quality-desktop")
    page.locator("#unverified").scroll_into_view_if_needed()
    screenshot(page, "open-data-quality-unverified", full_page=False)
    zemcelpro.get_by_role("link", name="Zemcelpro").click()
    page.wait_for_url("**/products/zemcelpro/")
    assert errors == []
