"""Browser tests: Debian's Chromium driven by Playwright for Python.

One Chromium serves the whole package, and one tab per site (``Tabs``) serves its tests in
turn: opening a tab costs Chromium about half a second of CPU, so a tab is reused, emptied
between tests of its cookies, storage, cache, listeners, routes, emulated media and size, as a
fresh context would be. ``page`` is a desktop-sized page whose relative URLs go to the served
catalogue (``served_catalogue``: gunicorn on a database of its own, loaded once), for the tests
that only read; the tests that write (the admin, a release) use ``live_server`` and
``browser_page``. ``screenshot(page, name)`` saves ``artifacts/screenshots/<name>.png`` when
screenshots are asked for (``make screenshots``). Playwright's own browsers are never
downloaded: without /usr/bin/chromium the tests are skipped, with the reason printed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import contextmanager

import pytest
from django.db import connections

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.chromium import screenshot as save_screenshot

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


class Tabs:
    """One tab (a context and its page) per base URL, lent to one test at a time."""

    def __init__(self, browser):
        self.browser = browser
        self.idle: dict[str | None, tuple] = {}  # base URL: (page, its CDP session)

    @contextmanager
    def lend(self, viewport: dict, base_url: str | None):
        page, cdp = self.idle.pop(base_url, None) or self.open(base_url)
        page.set_viewport_size(viewport)
        added: list[tuple[str, Callable]] = []  # the test's listeners, removed after it

        def recording(add: Callable) -> Callable:
            def add_and_record(event: str, handler: Callable):
                added.append((event, handler))
                return add(event, handler)

            return add_and_record

        page.on, page.once = recording(page.on), recording(page.once)
        try:
            yield page
        finally:
            del page.on, page.once
            self.give_back(page, cdp, base_url, added)

    def open(self, base_url: str | None) -> tuple:
        context = self.browser.new_context(viewport=DESKTOP, base_url=base_url)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page, context.new_cdp_session(page)

    def give_back(self, page, cdp, base_url: str | None, added: list) -> None:
        """Empty the tab as a new context would be, or close it if that fails."""
        try:
            for event, handler in added:
                page.remove_listener(event, handler)
            page.unroute_all(behavior="ignoreErrors")
            page.context.unroute_all(behavior="ignoreErrors")
            origins = {base_url, page.evaluate("location.origin")} - {None, "null"}
            page.goto("about:blank")
            page.emulate_media(media="null", color_scheme="null", reduced_motion="null")
            page.context.clear_cookies()
            page.context.clear_permissions()
            cdp.send("Network.clearBrowserCache")
            for origin in origins:
                cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
            page.set_default_timeout(TIMEOUT_MS)
            page.set_default_navigation_timeout(TIMEOUT_MS)
        except Exception:  # a closed or broken tab: the next test gets a new one
            page.context.close()
            return
        self.idle[base_url] = (page, cdp)

    def close(self) -> None:
        for page, _ in self.idle.values():
            page.context.close()


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


@pytest.fixture(scope="package")
def tabs(browser):
    tabs = Tabs(browser)
    yield tabs
    tabs.close()


@pytest.fixture
def browser_page(tabs) -> Callable:
    """``with browser_page(viewport, base_url) as page``: a tab of its own for the block."""

    def open_page(viewport: dict = DESKTOP, base_url: str | None = None):
        return tabs.lend(viewport, base_url)

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
    """``screenshot(page, "name")``: a full-page PNG in artifacts/screenshots/, when asked for."""
    return save_screenshot
