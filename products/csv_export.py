"""The product list as CSV: one row per product, the columns a spreadsheet user needs.

Unknown facts read "not known", as on the pages; lists (indications, therapeutic areas,
mechanisms, aliases) are joined with " | ". A cell that a spreadsheet would run as a formula
(starting with =, +, -, @) gets a leading apostrophe.

The rows come from one query, whatever their number: ``export_rows`` reads the columns and
aggregates each list in a subquery, and ``stream_products_csv`` turns them into text while the
response is being sent, so that neither the models nor the whole file are ever held in memory.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterable, Iterator

from django.contrib.postgres.aggregates import ArrayAgg, StringAgg
from django.db.models import Case, Func, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.http import HttpRequest
from django.urls import reverse

from products.choices import HELD_AUTHORISATION, WITH_REASON, Status
from products.flags import FLAGS, Flag
from products.models import Indication, Product

NOT_KNOWN = "not known"
JOINER = " | "
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLAG_WORDS = {True: "yes", False: "no", None: NOT_KNOWN}
NOT_APPLICABLE = "not applicable"
BYTE_ORDER_MARK = "\ufeff"  # spreadsheets detect UTF-8 by it
#: Rows fetched from the database at a time (a server-side cursor) and written per piece sent.
FETCH_SIZE = 2000
ROWS_PER_PIECE = 200

#: A row of ``export_rows``: a dict of the columns below.
Row = dict


def export_rows(products: QuerySet[Product]) -> QuerySet[Row]:
    """The values the CSV shows of each of ``products``, in their order, in one query.

    The lists come aggregated by correlated subqueries, in the order the pages show them:
    indications by position, therapeutic areas indication by indication (each by name; repeats
    are dropped by ``_areas``), mechanisms by name (``MechanismOfAction.Meta.ordering``).
    The status comes as its name in the active language (``get_status_display()``), and
    ``updated_at`` as the text of ``isoformat(timespec="seconds")`` in the connection's time
    zone, where the ORM's datetimes are: reading a timestamp costs more than formatting it.
    """
    indications = Indication.objects.filter(product=OuterRef("pk")).order_by().values("product")
    areas = (
        Indication.therapeutic_areas.through.objects.filter(indication__product=OuterRef("pk"))
        .order_by()
        .values("indication__product")
    )
    mechanisms = (
        Product.mechanisms.through.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
    )
    status_names = [When(status=value, then=Value(str(label))) for value, label in Status.choices]
    return products.values(
        "name",
        "slug",
        "aliases",
        "inn",
        "ema_product_number",
        "category__name",
        "status_date",
        "status_reason",
        "authorisation_date",
        "authorisation_date_partial",
        "holder__name",
        "platform",
        "target",
        "cell_source",
        "delivery",
        "route_of_administration",
        "status",
        *(flag.field for flag in FLAGS),
        *(flag.at_field for flag in FLAGS),
        "atc_code",
        "epar_url",
        status_name=Case(*status_names, default="status"),
        updated=Func(
            "updated_at",
            Value('YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'),
            function="to_char",
            output_field=TextField(),
        ),
        conditions=Subquery(
            indications.annotate(
                joined=StringAgg("condition", JOINER, order_by=("position", "pk"))
            ).values("joined")
        ),
        area_names=Subquery(
            areas.annotate(
                names=ArrayAgg(
                    "therapeuticarea__name",
                    order_by=("indication__position", "indication", "therapeuticarea__name"),
                )
            ).values("names")
        ),
        mechanism_names=Subquery(
            mechanisms.annotate(
                joined=StringAgg(
                    "mechanismofaction__name", JOINER, order_by="mechanismofaction__name"
                )
            ).values("joined")
        ),
    )


def _text(field: str) -> Callable[[Row], str]:
    """The text in ``field``, or "not known" where it is empty or null."""
    return lambda row: row[field] or NOT_KNOWN


def _flag(flag: Flag, *, at: bool = False) -> Callable[[Row], str]:
    """Yes, no, not known, or not applicable (an authorisation's flag of an application)."""
    field = flag.at_field if at else flag.field
    applies_without_authorisation = not (at or flag.needs_authorisation)

    def value(row: Row) -> str:
        if applies_without_authorisation or row["status"] in HELD_AUTHORISATION:
            return FLAG_WORDS[row[field]]
        return NOT_APPLICABLE

    return value


def _date(field: str) -> Callable[[Row], str]:
    return lambda row: NOT_KNOWN if row[field] is None else row[field].isoformat()


def _authorisation_date(row: Row) -> str:
    if row["authorisation_date"]:
        return row["authorisation_date"].isoformat()
    return row["authorisation_date_partial"] or NOT_KNOWN


def _areas(row: Row) -> str:
    """Each therapeutic area once, in the order of the indications that first name it."""
    return JOINER.join(dict.fromkeys(row["area_names"] or ())) or NOT_KNOWN


def _status_reason(row: Row) -> str:
    """Why an authorisation ended or an application failed; "not known" when the sources do not
    say, empty for a status that has no reason (authorised, pending)."""
    if row["status"] in WITH_REASON:
        return row["status_reason"] or NOT_KNOWN
    return ""


#: (header, value of a row of ``export_rows``): the columns, in order.
COLUMNS: list[tuple[str, Callable[[Row], str]]] = [
    ("name", operator.itemgetter("name")),
    ("slug", operator.itemgetter("slug")),
    ("former_names", lambda row: JOINER.join(row["aliases"])),
    ("inn", _text("inn")),
    ("ema_product_number", _text("ema_product_number")),
    ("category", _text("category__name")),
    ("status", operator.itemgetter("status_name")),
    ("status_date", _date("status_date")),
    ("status_reason", _status_reason),
    ("authorisation_date", _authorisation_date),
    ("holder", _text("holder__name")),
    ("indications", _text("conditions")),
    ("therapeutic_areas", _areas),
    ("mechanisms", _text("mechanism_names")),
    ("platform", _text("platform")),
    ("target", _text("target")),
    ("cell_source", _text("cell_source")),
    ("delivery", _text("delivery")),
    ("route_of_administration", _text("route_of_administration")),
    # The flags in the EMA's register now, then at first authorisation (products/flags.py).
    *((flag.param, _flag(flag)) for flag in FLAGS),
    *((flag.at_param, _flag(flag, at=True)) for flag in FLAGS),
    ("atc_code", _text("atc_code")),
    ("epar_url", _text("epar_url")),
]
HEADER = [header for header, _value in COLUMNS] + ["url", "updated_at"]


def product_url_maker(request: HttpRequest) -> Callable[[str], str]:
    """The absolute URL of a product's page from its slug, with one ``reverse()`` per export.

    The same as ``request.build_absolute_uri(product.get_absolute_url())``, which costs more
    than all the rest of a row: slugs are lowercase letters, digits and hyphens (a database
    constraint), which neither ``reverse()`` nor ``build_absolute_uri()`` escapes.
    """
    placeholder = "product-slug"
    url = request.build_absolute_uri(
        reverse("products:product_detail", kwargs={"slug": placeholder})
    )
    start, _placeholder, end = url.rpartition(placeholder)
    return lambda slug: start + slug + end


class Echo:
    """For ``csv.writer``: ``write`` returns the line (Django's "Streaming large CSV files")."""

    def write(self, value: str) -> str:
        return value


def _pieces(rows: Iterable[Row], url_of: Callable[[str], str]) -> Iterator[str]:
    writer = csv.writer(Echo(), lineterminator="\r\n")
    lines = [BYTE_ORDER_MARK + writer.writerow(HEADER)]
    for row in rows:
        cells = [value(row) for _header, value in COLUMNS]
        # A cell that a spreadsheet would run as a formula gets a leading apostrophe.
        cells = ["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in cells]
        lines.append(writer.writerow([*cells, url_of(row["slug"]), row["updated"]]))
        if len(lines) == ROWS_PER_PIECE:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def stream_products_csv(
    products: QuerySet[Product], *, url_of: Callable[[str], str]
) -> Iterator[str]:
    """The CSV text of ``products`` (byte-order mark and header first), in pieces to stream.

    ``url_of`` gives a product's page URL from its slug. The first piece is made at once: the
    query runs before the response begins, so that a lost database is still a 503 page rather
    than a file cut short.
    """
    pieces = _pieces(export_rows(products).iterator(chunk_size=FETCH_SIZE), url_of)
    first = next(pieces)

    def resumed() -> Iterator[str]:
        yield first
        yield from pieces

    return resumed()
