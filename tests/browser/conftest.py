"""Browser tests: Debian's Chromium driven by Playwright for Python against the live server.

``page`` is a fresh Playwright page (desktop size) whose relative URLs go to ``live_server``;
``screenshot(page, name)`` saves ``artifacts/screenshots/<name>.png``. Playwright's own browsers are
never downloaded: without /usr/bin/chromium the tests are skipped, with the reason printed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test (Playwright's loop ends with it)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed: no browser to drive")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database calls
    # (fixtures, assertions) are still synchronous, so Django may allow them while it runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While the loop runs, Django keeps this thread's connections apart (asgiref Local);
            # close them here, or the test database cannot be dropped at the end of the run.
            connections.close_all()


@pytest.fixture
def page(browser, live_server):
    """A desktop-sized page; ``page.goto("/products/")`` opens the live server's page."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot() -> Callable:
    """``screenshot(page, "name")``: a full-page PNG in artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(autouse=True)
def _catalogue_back_after_flush(django_db_blocker, catalogue_data):
    """A live-server test ends by emptying the database; put the catalogue back for the others."""
    yield
    from products.importers.catalogue import load_catalogue
    from products.models import Product

    with django_db_blocker.unblock():
        if not Product.objects.exists():
            load_catalogue(catalogue_data)
