"""The digests the "changed nothing" tests compare see every change: a field, a link, a row."""

from products.models import MechanismOfAction, Product
from tests.ema_workbooks import snapshot


def test_a_snapshot_sees_a_changed_field_a_changed_link_and_a_new_row(catalogue):
    before = snapshot()
    kymriah = Product.objects.get(slug="kymriah")
    Product.objects.filter(pk=kymriah.pk).update(inn=kymriah.inn + " ")
    after_field = snapshot()
    changed = {table for table in before if before[table] != after_field[table]}
    assert changed == {"products_product", "products_catalogueversion"}  # a trigger bumps it
    kymriah.mechanisms.add(MechanismOfAction.objects.exclude(products=kymriah).first())
    after_link = snapshot()
    changed = {table for table in before if after_field[table] != after_link[table]}
    assert "products_product_mechanisms" in changed
    MechanismOfAction.objects.create(name="A new mechanism", slug="a-new-mechanism")
    assert snapshot()["products_mechanismofaction"] != after_link["products_mechanismofaction"]


def test_a_snapshot_leaves_out_what_it_is_told_to(catalogue):
    tables = snapshot(without=("products.ImportRun",))
    assert "products_importrun" not in tables and "products_product" in tables
    assert "products_pendingimport" not in snapshot()  # uploads waiting are not the catalogue
