"""The product list as CSV: one row per product, the columns a spreadsheet user needs.

Unknown facts read "not known", as on the pages; lists (indications, therapeutic areas,
mechanisms, aliases) are joined with " | ". A cell that a spreadsheet would run as a formula
(starting with =, +, -, @) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from products.models import Product

NOT_KNOWN = "not known"
JOINER = " | "
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _known(value) -> str:
    if value is None or value == "":
        return NOT_KNOWN
    return str(value)


def _flag(value: bool | None) -> str:
    return NOT_KNOWN if value is None else ("yes" if value else "no")


def _date(product: Product) -> str:
    if product.authorisation_date:
        return product.authorisation_date.isoformat()
    return product.authorisation_date_partial or NOT_KNOWN


def _areas(product: Product) -> str:
    names: list[str] = []
    for indication in product.indications.all():
        for area in indication.therapeutic_areas.all():
            if area.name not in names:
                names.append(area.name)
    return JOINER.join(names) or NOT_KNOWN


#: (header, value of a product): the columns, in order.
COLUMNS: list[tuple[str, Callable[[Product], str]]] = [
    ("name", lambda p: p.name),
    ("slug", lambda p: p.slug),
    ("former_names", lambda p: JOINER.join(p.aliases)),
    ("inn", lambda p: _known(p.inn)),
    ("ema_product_number", lambda p: _known(p.ema_product_number)),
    ("category", lambda p: p.category.name if p.category else NOT_KNOWN),
    ("status", lambda p: p.get_status_display()),
    ("status_date", lambda p: _known(p.status_date and p.status_date.isoformat())),
    ("authorisation_date", _date),
    ("holder", lambda p: p.holder.name if p.holder else NOT_KNOWN),
    (
        "indications",
        lambda p: JOINER.join(i.condition for i in p.indications.all()) or NOT_KNOWN,
    ),
    ("therapeutic_areas", _areas),
    ("mechanisms", lambda p: JOINER.join(m.name for m in p.mechanisms.all()) or NOT_KNOWN),
    ("platform", lambda p: _known(p.platform)),
    ("target", lambda p: _known(p.target)),
    ("cell_source", lambda p: _known(p.cell_source)),
    ("delivery", lambda p: _known(p.delivery)),
    ("route_of_administration", lambda p: _known(p.route_of_administration)),
    ("orphan", lambda p: _flag(p.is_orphan)),
    ("conditional", lambda p: _flag(p.is_conditional)),
    ("exceptional_circumstances", lambda p: _flag(p.is_exceptional_circumstances)),
    ("accelerated_assessment", lambda p: _flag(p.is_accelerated_assessment)),
    ("prime", lambda p: _flag(p.is_prime)),
    ("atc_code", lambda p: _known(p.atc_code)),
    ("epar_url", lambda p: _known(p.epar_url)),
]


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_products_csv(products: Iterable[Product], *, url_of: Callable[[Product], str]) -> str:
    """The CSV text (header row first) of ``products``; ``url_of`` gives a product's page URL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for header, _value in COLUMNS] + ["url", "updated_at"])
    for product in products:
        writer.writerow(
            [_cell(value(product)) for _header, value in COLUMNS]
            + [url_of(product), product.updated_at.isoformat(timespec="seconds")]
        )
    return buffer.getvalue()
