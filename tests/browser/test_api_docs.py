"""The API's interactive documentation renders in Chromium under the site's CSP, and works."""

from __future__ import annotations

from django.urls import reverse

from tests.chromium import requires_chromium, screenshot

pytestmark = requires_chromium


def test_swagger_ui_renders_the_schema_and_runs_a_query(page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(reverse("api:docs"))
    page.wait_for_selector(".swagger-ui .info .title")
    assert "ATMP Catalogue API" in page.inner_text(".swagger-ui .info .title")
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = {text.strip().replace("\u200b", "") for text in operations.all_inner_texts()}
    assert {"/api/v1/products/", "/api/v1/products/{slug}/"} <= paths
    screenshot(page, "api-docs", full_page=False)

    # Open "List products", try it with a category, and see the API's answer.
    page.locator("#operations-products-products_list .opblock-summary").click()
    block = page.locator("#operations-products-products_list")
    block.locator("button.try-out__btn").click()
    block.locator("tr[data-param-name='category'] select").select_option("gene-therapy")
    block.locator("tr[data-param-name='status'] select").select_option("withdrawn")
    block.locator("button.execute").click()
    live = block.locator(".live-responses-table tbody .response-col_status").first
    live.wait_for()
    assert live.inner_text().strip().startswith("200")
    body = block.locator(".live-responses-table .microlight").first.inner_text()
    assert '"slug": "beqvez"' in body and '"slug": "zynteglo"' in body
    block.locator(".request-url").first.scroll_into_view_if_needed()
    screenshot(page, "api-docs-try-it-out", full_page=False)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    assert not problems, problems
