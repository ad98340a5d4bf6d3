"""A curator in Chromium: log in, edit an indication inline, save, see it on the public page."""

from __future__ import annotations

import os
from functools import partial

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from products.models import Product
from tests.chromium import requires_chromium, screenshot

PASSWORD = "correct horse battery staple"

pytestmark = requires_chromium


@pytest.fixture
def curator_account(live_server, catalogue):
    """A curator in the live server's database (set up before the browser starts)."""
    call_command("create_roles", stdout=open(os.devnull, "w"))  # noqa: SIM115
    user = User.objects.create_user("ines", "ines@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    return user


@pytest.fixture
def chromium_page(browser_page):
    """``with chromium_page() as page``: the test touches the database outside this block."""
    return partial(browser_page, {"width": 1400, "height": 1000})


def test_curator_edits_an_indication_inline_and_sees_it_public(
    live_server, curator_account, chromium_page
):
    kymriah = Product.objects.get(slug="kymriah")
    public_url = f"{live_server.url}{kymriah.get_absolute_url()}"
    new_population = "patients up to 25 years whose disease came back (edited in the admin)"
    with chromium_page() as page:
        edit_in_the_browser(page, live_server.url, kymriah.pk, public_url, new_population)

    indication = kymriah.indications.order_by("position", "pk").first()
    assert indication.population == new_population
    assert indication.history.first().history_user == curator_account


def log_in(page, base: str) -> None:
    page.goto(f"{base}/admin/")
    page.fill("#id_username", "ines")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Products" in page.inner_text("#content-main")


def edit_in_the_browser(page, base: str, pk: int, public_url: str, new_population: str) -> None:
    log_in(page, base)

    page.goto(f"{base}/admin/products/product/")
    page.fill("#searchbar", "Kymriah")
    page.press("#searchbar", "Enter")
    page.click("#result_list a:text-is('Kymriah')")
    page.wait_for_selector("#indications-group")
    population = page.locator("#id_indications-0-population")
    population.fill(new_population)
    screenshot(page, "admin_edit_indication")

    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert "was changed successfully" in page.inner_text(".messagelist")
    screenshot(page, "admin_saved")

    page.goto(public_url)
    assert new_population in page.inner_text("body")
    screenshot(page, "admin_edit_public_page")

    page.goto(f"{base}/admin/products/product/{pk}/history/")
    assert "ines" in page.inner_text("#content-main")
    screenshot(page, "admin_history")


def test_a_new_indication_approved_by_the_ema_takes_one_page(
    live_server, curator_account, chromium_page
):
    """The README's typical update: a new indication, its therapeutic area and its event."""
    luxturna = Product.objects.get(slug="luxturna")
    indications_before = luxturna.indications.count()
    with chromium_page() as page:
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/admin/products/product/")
        page.fill("#searchbar", "Luxturna")
        page.press("#searchbar", "Enter")
        page.click("#result_list a:text-is('Luxturna')")

        page.click("#indications-group .add-row a")
        row = f"#id_indications-{indications_before}"
        page.fill(f"{row}-condition", "Retinitis pigmentosa (test indication)")
        page.fill(f"{row}-population", "children from 4 years")
        # Django's autocomplete (select2): open, type, choose.
        page.click(f"#indications-{indications_before} .select2-selection")
        page.keyboard.type("Retinitis")
        page.click(".select2-results__option:has-text('Retinitis Pigmentosa')")

        page.click("#events-group .add-row a")
        events = page.locator("#events-group tr.form-row.dynamic-events")
        new_event = events.nth(events.count() - 1)
        new_event.locator("select[name$='-kind']").select_option("extension-of-indication")
        new_event.locator("input[name$='-date']").fill("15/01/2026")
        new_event.locator("textarea[name$='-note']").fill("Extended to retinitis pigmentosa.")
        screenshot(page, "admin_new_indication")

        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        page.goto(f"{live_server.url}/products/luxturna/")
        body = page.inner_text("main")
        screenshot(page, "admin_new_indication_public")

    assert "Retinitis pigmentosa (test indication)" in body
    assert "Extended to retinitis pigmentosa." in body
    new = luxturna.indications.get(condition="Retinitis pigmentosa (test indication)")
    assert [area.name for area in new.therapeutic_areas.all()] == ["Retinitis Pigmentosa"]
    event = luxturna.events.get(kind="extension-of-indication")
    assert event.date.isoformat() == "2026-01-15"


def test_the_history_page_shows_with_no_csp_violation(live_server, curator_account, chromium_page):
    kymriah = Product.objects.get(slug="kymriah")
    kymriah.save()  # a history record, so that the page lists it
    errors: list[str] = []
    with chromium_page() as page:
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")  # /favicon.ico
                and errors.append(message.text)
            ),
        )
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/admin/products/product/{kymriah.pk}/history/")
        assert "Kymriah" in page.inner_text("#content")
        paginator = page.locator("p.paginator")
        # django-simple-history's inline style="border-top: 0" applies (the admin's own CSS
        # gives the paginator a border): allowed by its hash, not refused by the policy.
        border = paginator.evaluate("element => getComputedStyle(element).borderTopWidth")
        screenshot(page, "admin_history_csp")
    assert errors == []
    assert border == "0px"
