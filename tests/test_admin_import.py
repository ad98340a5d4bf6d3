"""The EMA import in the admin (products/admin_import.py): upload, a preview of one table per
product with a checkbox each, and a confirmation that imports only the products still ticked."""

from __future__ import annotations

import pytest
from django.urls import reverse

from products.importers import ema
from products.importers.ema import ExportFormatError, import_file
from products.models import Company, ImportRun, PendingImport, Product
from tests.ema_workbooks import kymriah_row, medicine, snapshot, write_workbook

IMPORT_URL = "admin:products_importrun_import"
KYMRIAH, TESTAGENE = "EMEA/H/C/004090", "EMEA/H/C/009901"


@pytest.fixture
def import_admin():
    """The admin with products/admin_import.py registered (whichever module imported it first)."""
    import importlib

    from django.urls import clear_url_caches

    import atmp_catalogue.urls
    import products.admin_import

    importlib.reload(atmp_catalogue.urls)
    clear_url_caches()
    yield products.admin_import
    clear_url_caches()


def _upload(client, path, action="preview"):
    with open(path, "rb") as handle:
        return client.post(
            reverse("admin:products_importrun_import"), {"file": handle, "action": action}
        )


def test_the_admin_lists_runs_read_only_and_offers_the_import(import_admin, admin_client,
                                                              catalogue, tmp_path):  # fmt: skip
    import_file(write_workbook(tmp_path / "earlier.xlsx", [medicine()]), run_by="curator")
    page = admin_client.get(reverse("admin:products_importrun_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "earlier.xlsx" in html
    assert reverse("admin:products_importrun_import") in html
    assert admin_client.get(reverse("admin:products_importrun_add")).status_code == 403
    run = ImportRun.objects.get()
    detail = admin_client.get(reverse("admin:products_importrun_change", args=[run.pk]))
    assert detail.status_code == 200
    assert "Testagene (EMEA/H/C/009901): created" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_the_admin_previews_then_imports(import_admin, admin_client, catalogue, tmp_path):
    path = write_workbook(tmp_path / "medicines-output.xlsx", [kymriah_row(), medicine()])
    before = snapshot()
    preview = _upload(admin_client, path)
    assert preview.status_code == 200
    assert snapshot() == before  # a preview is a dry run
    html = preview.content.decode()
    assert "created 1, updated 1, unchanged 0, flagged for review 0" in html
    assert "Testagene" in html and "new product" in html
    token = preview.context["token"]
    assert PendingImport.objects.get().token == token

    done = admin_client.post(
        reverse("admin:products_importrun_import"), {"token": token, "action": "confirm"}
    )
    run = ImportRun.objects.get()
    assert done.status_code == 302
    assert done.url == reverse("admin:products_importrun_change", args=[run.pk])
    assert (run.file_name, run.run_by, run.created, run.updated) == (
        "medicines-output.xlsx", "admin", 1, 1,
    )  # fmt: skip
    assert Product.objects.get(slug="testagene").is_published is False
    assert not PendingImport.objects.exists()
    again = admin_client.post(
        reverse("admin:products_importrun_import"), {"token": token, "action": "confirm"}
    )
    assert again.status_code == 302  # the upload is gone: nothing is imported twice
    assert ImportRun.objects.count() == 1


def test_the_admin_cancels_an_import(import_admin, admin_client, catalogue, tmp_path):
    before = snapshot()
    preview = _upload(admin_client, write_workbook(tmp_path / "x.xlsx", [medicine()]))
    token = preview.context["token"]
    admin_client.post(
        reverse("admin:products_importrun_import"), {"token": token, "action": "cancel"}
    )
    assert snapshot() == before
    assert not PendingImport.objects.exists()


def test_the_admin_shows_a_bad_file_as_one_line(import_admin, admin_client, catalogue, tmp_path):
    path = write_workbook(tmp_path / "x.xlsx", [medicine(orphan_medicine="Vielleicht")])
    before = snapshot()
    page = _upload(admin_client, path)
    assert page.status_code == 200
    assert page.context["form"].errors["file"] == [
        "row 10, column X (Orphan medicine): 'Vielleicht' is not a yes/no value"
    ]
    assert snapshot() == before
    assert not PendingImport.objects.exists()  # nothing kept


def test_only_editors_who_may_change_products_may_import(import_admin, client, catalogue,
                                                         django_user_model):  # fmt: skip
    from django.contrib.auth.models import Permission

    reviewer = django_user_model.objects.create_user("reviewer", password="x", is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="view_importrun"))
    client.force_login(reviewer)
    assert client.get(reverse("admin:products_importrun_changelist")).status_code == 200
    assert client.get(reverse("admin:products_importrun_import")).status_code == 403


# Choosing the products to import --------------------------------------------------------------


def _preview(admin_client, tmp_path, *rows):
    page = _upload(admin_client, write_workbook(tmp_path / "export.xlsx", rows))
    assert page.status_code == 200
    return page


def _confirm(admin_client, page, products, *, offered=None, follow=True):
    """Confirm as the preview's form does: every offered number, and the ticked ones."""
    data = {
        "token": page.context["token"],
        "action": "confirm",
        "offered": page.context["offered"] if offered is None else offered,
        "products": products,
    }
    return admin_client.post(reverse(IMPORT_URL), data, follow=follow)


def test_the_preview_is_a_table_per_product_with_a_ticked_box(
    import_admin, admin_client, catalogue, tmp_path
):
    page = _preview(admin_client, tmp_path, kymriah_row(), medicine())
    items = {item.diff.product_number: item for item in page.context["items"]}
    assert set(items) == {KYMRIAH, TESTAGENE} == set(page.context["offered"])
    kymriah, testagene = items[KYMRIAH], items[TESTAGENE]
    assert (kymriah.is_new, testagene.is_new) == (False, True)
    assert kymriah.checked and testagene.checked
    url = reverse("admin:products_product_change", args=[Product.objects.get(slug="kymriah").pk])
    assert kymriah.admin_url == url and testagene.admin_url == ""
    fields = {row.field: (row.old, row.new) for row in testagene.rows}
    assert fields["status"] == ("", "Authorised")  # a new product has no old values
    assert fields["timeline event"] == ("", "Initial marketing authorisation (2025-07-17)")
    html = page.content.decode()
    assert f'<a href="{url}">Kymriah</a>' in html
    assert html.count('type="checkbox" name="products"') == 2
    assert html.count(" checked>") == 2
    assert f'<input type="hidden" name="offered" value="{TESTAGENE}">' in html
    assert "new product" in html and "import this product" in html


def test_unchanged_products_are_one_line_and_flagged_ones_are_marked(
    import_admin, admin_client, catalogue, tmp_path
):
    testagene = medicine(therapeutic_area_mesh="")  # no areas to propose: nothing to say
    import_file(write_workbook(tmp_path / "first.xlsx", [testagene]), run_by="curator")
    flagged = kymriah_row(atc_code_human="L01X?")  # kept, and flagged for a curator
    page = _preview(admin_client, tmp_path, flagged, testagene)
    [item] = page.context["items"]
    assert item.diff.product_number == KYMRIAH and item.diff.reviews
    html = page.content.decode()
    assert "1 other product of the export is unchanged." in html
    assert "Testagene" not in html
    assert "flagged for review" in html


def test_confirming_imports_only_the_ticked_products(
    import_admin, admin_client, catalogue, tmp_path
):
    rows = [kymriah_row(medicine_status="Withdrawn", **{ema.END_DATE: "01/10/2025"}), medicine()]
    page = _preview(admin_client, tmp_path, *rows)
    kymriah_before = Product.objects.values().get(slug="kymriah")
    events_before = list(Product.objects.get(slug="kymriah").events.values())
    done = _confirm(admin_client, page, [TESTAGENE])
    run = ImportRun.objects.get()
    assert done.redirect_chain == [(reverse("admin:products_importrun_change", args=[run.pk]), 302)]
    assert [str(m) for m in done.context["messages"]] == [
        "Imported export.xlsx: created 1, updated 0, unchanged 0, flagged for review 0, left out "
        "1; left out, unchanged: Kymriah (EMEA/H/C/004090)"
    ]
    assert Product.objects.values().get(slug="kymriah") == kymriah_before
    assert list(Product.objects.get(slug="kymriah").events.values()) == events_before
    assert Product.objects.filter(ema_product_number=TESTAGENE).exists()
    assert (run.created, run.updated) == (1, 0)
    assert "Kymriah (EMEA/H/C/004090): left out" in run.diff
    assert not PendingImport.objects.exists()


@pytest.mark.parametrize(
    ("products", "offered", "error"),
    [
        (["EMEA/H/C/999999"], None, "Select a valid choice. EMEA/H/C/999999 is not one of the "
         "available choices."),
        (["'; DROP TABLE products_product; --"], None, "Select a valid choice."),
        ([KYMRIAH], [TESTAGENE], "Not offered by this preview: EMEA/H/C/004090."),
        ([], None, "Tick at least one product to import, or cancel the import."),
        ([TESTAGENE], ["EMEA/H/C/999999"], "Select a valid choice. EMEA/H/C/999999 is not one "
         "of the available choices."),
    ],
)  # fmt: skip
def test_an_invalid_choice_is_a_form_error_and_changes_nothing(
    import_admin, admin_client, catalogue, tmp_path, products, offered, error
):
    page = _preview(admin_client, tmp_path, kymriah_row(), medicine())
    before = snapshot()
    again = _confirm(admin_client, page, products, offered=offered, follow=False)
    assert again.status_code == 200
    errors = [e for field_errors in again.context["choice_errors"].values() for e in field_errors]
    assert errors and errors[0].startswith(error)
    assert error.split(" EMEA")[0] in again.content.decode()
    assert snapshot() == before
    assert PendingImport.objects.get().token == page.context["token"]  # still to confirm
    assert len(again.context["items"]) == 2  # the tables again, with the curator's ticks
    ticked = {item.diff.product_number for item in again.context["items"] if item.checked}
    assert ticked == set(products) & {KYMRIAH, TESTAGENE}
    fixed = _confirm(admin_client, page, [TESTAGENE])
    assert fixed.redirect_chain[-1][0].startswith("/admin/products/importrun/")
    assert ImportRun.objects.get().created == 1


def test_a_failed_confirmation_of_a_choice_leaves_the_database_as_it_was(
    import_admin, admin_client, catalogue, tmp_path, monkeypatch
):
    page = _preview(admin_client, tmp_path, kymriah_row(), medicine(), medicine(
        name_of_medicine="Zzz", ema_product_number="EMEA/H/C/009909"))  # fmt: skip
    original = ema.Importer.create

    def fails_on_the_second(self, row):
        if row.product_number == "EMEA/H/C/009909":
            raise ExportFormatError("row 12 (EMEA/H/C/009909): broken")
        return original(self, row)

    monkeypatch.setattr(ema.Importer, "create", fails_on_the_second)
    before = snapshot()
    done = _confirm(admin_client, page, [TESTAGENE, "EMEA/H/C/009909"])
    assert [str(m) for m in done.context["messages"]] == [
        "export.xlsx: row 12 (EMEA/H/C/009909): broken"
    ]
    assert snapshot() == before
    assert not Company.objects.filter(name__startswith="Testa").exists()


def test_a_confirmation_runs_under_the_import_lock(
    import_admin, admin_client, catalogue, tmp_path, monkeypatch
):
    page = _preview(admin_client, tmp_path, kymriah_row(), medicine())
    locked = []
    real_importing = ema.importing

    def importing(what):
        locked.append(what)
        return real_importing(what)

    monkeypatch.setattr(ema, "importing", importing)
    _confirm(admin_client, page, [KYMRIAH])
    assert locked == ["EMA import of export.xlsx"]
    assert ImportRun.objects.get().updated == 1
