"""A newcomer in Chromium: home, filter by category and area, a misspelt search, a product.

Screenshots at desktop and phone width go to artifacts/screenshots/public-*.png.
"""

from __future__ import annotations

import re

import pytest

from products.models import Product
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


def console_errors(page) -> list[str]:
    errors: list[str] = []
    # A 400 page (a bad parameter, on purpose) logs "Failed to load resource"; anything else counts.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and errors.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def result_names(page) -> list[str]:
    return page.locator(".product-table .product-link").all_inner_texts()


def test_a_newcomer_filters_searches_and_opens_a_product(page, screenshot, catalogue):
    errors = console_errors(page)  # a CSP violation would show here

    page.goto("/")
    assert page.locator("h1").inner_text() == "Advanced therapies authorised in the EU"
    assert (
        page.locator("svg[role=img] title")
        .first.text_content()
        .startswith("First EU authorisations per year")
    )
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    screenshot(page, "public-home-desktop")

    # Filter the list by a category and a therapeutic area, without JavaScript of our own.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    page.wait_for_url("**/products/")
    shown = Product.objects.published().held_authorisation()
    assert page.locator("#results-heading").inner_text() == f"{shown.count()} products"
    page.get_by_label(re.compile(r"^Gene therapy medicinal product")).check()
    page.locator("#facet-therapeutic_area summary").click()
    page.get_by_label(re.compile(r"^Diffuse large B-cell lymphoma")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"category=gene-therapy"))
    assert "therapeutic_area=lymphoma-large-b-cell-diffuse" in page.url
    assert sorted(result_names(page)) == ["Breyanzi", "Kymriah", "Yescarta"]
    assert page.locator(".chip", has_text="Diffuse large B-cell lymphoma (DLBCL)").count() == 1
    screenshot(page, "public-list-filtered-desktop")

    # Removing a chip removes just that filter.
    page.locator(".chip", has_text="Diffuse large B-cell lymphoma (DLBCL)").click()
    page.wait_for_url(re.compile(r"/products/\?category=gene-therapy$"))
    gene_therapies = shown.filter(category__slug="gene-therapy").count()
    assert page.locator("#results-heading").inner_text() == f"{gene_therapies} products"

    # Search with a misspelling.
    page.get_by_label(re.compile(r"^Search by name")).fill("kymria")
    page.get_by_label(re.compile(r"^Search by name")).press("Enter")
    page.wait_for_url(re.compile(r"q=kymria"))
    assert result_names(page) == ["Kymriah"]
    screenshot(page, "public-search-misspelt-desktop")

    # Open the product.
    page.get_by_role("link", name="Kymriah", exact=True).click()
    page.wait_for_url("**/products/kymriah/")
    assert page.locator("h1").inner_text() == "Kymriah"
    assert page.locator("script[type='application/ld+json']").count() == 1
    assert page.locator(".timeline li").count() >= 1
    assert page.get_by_role("link", name=re.compile("EPAR")).first.is_visible()
    screenshot(page, "public-detail-desktop")

    assert errors == []


def test_the_pages_at_phone_width(page, screenshot, catalogue):
    errors = console_errors(page)
    page.set_viewport_size(PHONE)
    for name, path in [
        ("home", "/"),
        ("list", "/products/?category=gene-therapy&status=withdrawn"),
        ("detail", "/products/beqvez/"),
        ("errors", "/products/?category=cell-therapy&page=99"),
        ("not-found", "/products/no-such-product/"),
    ]:
        page.goto(path)
        # Nothing wider than the screen: the page never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, f"public-{name}-phone")
    assert page.locator("h1").inner_text() == "Page not found"
    assert errors == []
