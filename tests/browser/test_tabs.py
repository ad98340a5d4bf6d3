"""The browser tests' tabs are reused (``Tabs``): a test finds its tab as a new context would be."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def test_a_reused_tab_keeps_nothing_of_the_test_before(tabs, served_catalogue):
    seen: list[str] = []
    with tabs.lend(PHONE, served_catalogue.base) as page:
        first = page
        page.goto("/")
        page.context.add_cookies([{"name": "kept", "value": "1", "url": served_catalogue.base}])
        page.evaluate("localStorage.setItem('kept', '1'); sessionStorage.setItem('kept', '1')")
        page.emulate_media(media="print")
        page.on("console", lambda message: seen.append(message.text))
        page.route("**/products/", lambda route: route.fulfill(body="routed"))

    with tabs.lend(DESKTOP, served_catalogue.base) as page:
        assert page is first  # the same tab, lent again
        assert page.url == "about:blank"
        assert page.viewport_size == DESKTOP
        assert page.context.cookies() == []
        page.goto("/products/")
        assert "routed" not in page.content()  # the route is gone
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.evaluate("matchMedia('print').matches") is False
        page.evaluate("console.log('after')")
        assert seen == []  # the first test's listener is gone


def test_a_tab_that_cannot_be_emptied_is_replaced(tabs, served_catalogue):
    with tabs.lend(DESKTOP, served_catalogue.base) as page:
        broken = page
        page.close()  # as a test might, or a crash
    with tabs.lend(DESKTOP, served_catalogue.base) as page:
        assert page is not broken
        page.goto("/")
        assert page.locator("h1").count() == 1
