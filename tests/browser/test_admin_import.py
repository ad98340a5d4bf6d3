"""The EMA import in the admin, in Chromium: upload a workbook, read one table per product at
1,366 and 390 px, untick one product, confirm, and find only the others changed.

Screenshots: artifacts/screenshots/admin-import-preview-1366.png, admin-import-preview-390.png.
"""

from __future__ import annotations

from django.urls import reverse

from products.choices import Status
from products.importers.ema import END_DATE
from products.models import ImportRun, Product
from tests.chromium import requires_chromium
from tests.ema_workbooks import kymriah_row, medicine, real_medicine, write_workbook

pytestmark = requires_chromium
PASSWORD = "import-the-export-1"
LONG_INDICATION = (
    "Hemgenix is indicated for the treatment of severe and moderately severe Haemophilia B "
    "(congenital Factor IX deficiency) in adult patients without a history of Factor IX "
    "inhibitors. " * 4
)


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_curator_previews_leaves_one_product_out_and_imports_the_rest(
    live_page, screenshot, catalogue, django_user_model, tmp_path
):
    page = live_page  # the live server: this test writes
    django_user_model.objects.create_superuser("curator", "curator@example.org", PASSWORD)
    kymriah_before = Product.objects.values().get(slug="kymriah")
    hemgenix = real_medicine(
        "Hemgenix", therapeutic_area_mesh="", therapeutic_indication=LONG_INDICATION
    )
    withdrawn = kymriah_row(medicine_status="Withdrawn", **{END_DATE: "01/10/2025"})
    export = write_workbook(tmp_path / "medicines-output.xlsx", [withdrawn, medicine(), hemgenix])

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/admin/login/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(reverse("admin:products_importrun_import"))
    page.set_input_files("#id_file", str(export))
    page.click("button[value=preview]")
    page.wait_for_selector(".ema-import-product")

    products = page.locator(".ema-import-product")
    assert products.count() == 3
    titles = [text.split("\n")[0] for text in products.locator("h3").all_inner_texts()]
    assert [title.split(" EMEA")[0] for title in titles] == ["Hemgenix", "Kymriah", "Testagene"]
    kymriah = products.filter(has_text="EMEA/H/C/004090")
    assert (
        kymriah.locator("h3 a")
        .get_attribute("href")
        .endswith(f"/admin/products/product/{kymriah_before['id']}/change/")
    )
    status_row = kymriah.locator("tr", has_text="status").first.inner_text()
    assert "Authorised" in status_row and "Marketing authorisation withdrawn" in status_row
    testagene = products.filter(has_text="EMEA/H/C/009901")
    assert testagene.locator(".tag-new").inner_text().lower() == "new product"
    assert page.locator("input[name=products]:checked").count() == 3
    assert _width(page) <= 1366
    screenshot(page, "admin-import-preview-1366")

    page.set_viewport_size({"width": 390, "height": 844})
    assert _width(page) <= 390  # long values wrap; nothing runs off a phone's screen
    screenshot(page, "admin-import-preview-390")

    page.set_viewport_size({"width": 1366, "height": 900})
    kymriah.get_by_label("import this product").uncheck()
    page.click("button[value=confirm]")
    message = page.locator(".messagelist .success").inner_text()
    assert "created 1, updated 1" in message
    assert "left out, unchanged: Kymriah (EMEA/H/C/004090)" in message

    assert Product.objects.values().get(slug="kymriah") == kymriah_before
    assert Product.objects.get(slug="kymriah").status == Status.AUTHORISED
    assert Product.objects.get(ema_product_number="EMEA/H/C/009901").is_published is False
    assert Product.objects.get(slug="hemgenix").ema_indication_text == LONG_INDICATION.strip()
    run = ImportRun.objects.get()
    assert (run.created, run.updated, run.run_by) == (1, 1, "curator")
