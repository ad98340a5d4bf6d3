"""Browser tests: Debian's Chromium driven by Playwright for Python.

One Chromium serves the whole package (each test gets a fresh context of its own: no cookies,
storage or cache carried over). ``page`` is a desktop-sized page whose relative URLs go to the
served catalogue (``served_catalogue``: gunicorn on a database of its own, loaded once), for the
tests that only read; the tests that write (the admin, a release) use ``live_server`` and
``browser_page``. ``screenshot(page, name)`` saves ``artifacts/screenshots/<name>.png``.
Playwright's own browsers are never downloaded: without /usr/bin/chromium the tests are skipped,
with the reason printed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def browser():
    """A headless Chromium for the package (Playwright's loop runs until its last test ends).

    Package, not session, scope: the loop counts as running in this thread while it lives, so
    the rest of the suite runs after it has stopped, with Django's async-safety check intact.
    """
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed: no browser to drive")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own database calls
    # (fixtures, assertions) are still synchronous, so Django may allow them while it runs.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While the loop runs, Django keeps this thread's connections apart (asgiref Local);
            # close them here, or the test database cannot be dropped at the end of the run.
            connections.close_all()


@pytest.fixture
def browser_page(browser) -> Callable:
    """``with browser_page(viewport, base_url) as page``: a page in a context of its own."""

    @contextmanager
    def open_page(viewport: dict = DESKTOP, base_url: str | None = None):
        context = browser.new_context(viewport=viewport, base_url=base_url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()

    return open_page


@pytest.fixture
def page(browser_page, served_catalogue):
    """A desktop-sized page; ``page.goto("/products/")`` opens the served catalogue's page."""
    with browser_page(DESKTOP, served_catalogue.base) as page:
        yield page


@pytest.fixture
def live_page(browser_page, live_server):
    """A desktop-sized page of ``live_server`` (this process: its settings, its database)."""
    with browser_page(DESKTOP, live_server.url) as page:
        yield page


@pytest.fixture
def screenshot() -> Callable:
    """``screenshot(page, "name")``: a full-page PNG in artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
