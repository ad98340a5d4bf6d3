"""Which rows of the export the import considers, and the catalogue's products they belong to:
by EMA product number, or, for a product the catalogue holds without a number, by name and INN
(a match is only proposed to a curator)."""

from __future__ import annotations

from collections.abc import Iterable

from products.importers.ema.reader import Export, ExportRow
from products.importers.ema.report import UNCHANGED, ProductDiff
from products.importers.ema.values import name_keys, plain
from products.models import Product


def select_rows(
    export: Export, known_numbers: Iterable[str], matched: Iterable[str] = ()
) -> list[ExportRow]:
    """The advanced-therapy rows of human medicines, every row the catalogue already holds, and
    the rows ``matched`` by name to a product whose number is not known."""
    known = {*known_numbers, *matched}
    return [
        row
        for row in export.rows
        if row.product_number in known or (row.is_human and row.is_advanced_therapy)
    ]


def match_unnumbered(export: Export, known_numbers: set[str]) -> dict[str, Product]:
    """Rows whose number the catalogue lacks, matched to a product with no number by name and,
    where both give one, by INN: {product number: product}. A row that matches two products, or
    a product two rows, is no match."""
    candidates = list(Product.objects.filter(ema_product_number__isnull=True))
    by_key: dict[str, list[Product]] = {}
    for product in candidates:
        for key in name_keys(product.name, *product.aliases):
            by_key.setdefault(key, []).append(product)
    matches: dict[str, Product] = {}
    for row in export.rows:
        if row.product_number in known_numbers or not row.is_human:
            continue
        found = {
            product.pk: product
            for key in name_keys(row.name)
            for product in by_key.get(key, ())
            if not (row.inn and product.inn) or plain(row.inn) == plain(product.inn)
        }
        if len(found) == 1:
            matches[row.product_number] = next(iter(found.values()))
    counts: dict[int, int] = {}
    for product in matches.values():
        counts[product.pk] = counts.get(product.pk, 0) + 1
    return {number: p for number, p in matches.items() if counts[p.pk] == 1}


def propose_number(row: ExportRow, product: Product) -> ProductDiff:
    """A row matched by name: its number is proposed to a curator, nothing is written."""
    diff = ProductDiff(product.name, row.product_number, UNCHANGED, product_id=product.pk)
    by_inn = " and INN" if row.inn and product.inn else ""
    diff.reviews.append(
        f"proposed: EMA product number {row.product_number} (the export's {row.name!r} matches "
        f"by name{by_inn}; the catalogue has no number for it); once a curator sets it, the "
        "next import keeps the product current"
    )
    return diff
