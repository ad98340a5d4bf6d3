"""Keep the catalogue current from the EMA's own medicines export (``import_ema``).

The EMA publishes every centrally authorised medicine as a workbook ("Download medicine data",
``medicines-output-medicines-report_en.xlsx``) and as JSON with the same fields. This package
reads either form (:func:`read_export`) and applies it (:func:`import_export`) in one
transaction: a bad row, an unknown column or an interruption leaves the database as it was.
A run may apply only some products (``only``) or leave some out (``skip``): the others are left
exactly as they are, and the report says which would have changed.

One module per concern: ``columns`` (the export's columns and what they fill), ``values``
(reading a cell), ``reader`` (XLSX and JSON into :class:`Export`), ``matching`` (which rows, which
products), ``doubts`` (fields the curators doubt), ``apply`` (writing one row), ``report`` (the
diff). This module runs them, under the import lock, in one transaction.

What is read
    XLSX: the sheet ``Medicine``; banner rows (D1 holds the generation time
    ``DD/MM/YYYY - HH:MM``), then the header row, found by its first cell ``Category``, then one
    row per medicine. JSON: a list of objects, or an object whose ``data`` (or ``medicines``)
    key holds that list; each object is keyed by the same column names, either as printed in
    the workbook or in the EMA's JSON spelling (``name_of_medicine``, ``atc_code_human``…).
    Column names are matched ignoring case, white space and punctuation; ``Generic`` (2026
    copies) and ``Generic or hybrid`` are both known. An unknown or missing column is an error.
    Flags are yes/no words of the EU languages (``Yes``, ``Da``, ``Sì``, ``Ja``, ``Oui``…);
    dates are text ``DD/MM/YYYY`` (or ISO), or real spreadsheet dates.

What is imported
    The advanced-therapy rows plus every row whose product number the catalogue already holds
    (``EMEA/H/C005201`` is read as ``EMEA/H/C/005201``). The import owns: status, its date and
    an :class:`AuthorisationEvent` for every change of status; the five authorisation flags;
    holder; ATC code; EMA indication text (HTML entities decoded); EPAR URL; first
    authorisation date; EMA last-updated date. It never writes a curated field (name, slug,
    category, mechanisms, platform, target, indications, description), never deletes anything
    and never replaces a known value with the export's silence (an empty cell).

What is left to a curator ("flagged for review")
    - the export's advanced-therapy flag disagrees with the catalogue's ``is_atmp`` (the
      catalogue's judgement wins);
    - the export's value differs from a field the curators mark as doubtful in
      ``unverified_fields`` (e.g. Kymriah's accelerated assessment, left unknown on purpose);
    - a change the timeline cannot record, a malformed ATC code, a brand name that differs;
    - a new row the catalogue's rules cannot hold (a withdrawal without its date).

Therapeutic areas (``Therapeutic area (MeSH)``) are not imported: the catalogue holds them on
its curated indications, and no product-level field exists to receive them without touching
those. New products show the export's areas in the diff for the curator who classifies them.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import IO

from django.db import transaction

from products.importers.ema.apply import ATMP_REASON, Importer
from products.importers.ema.columns import (
    AUTHORISATION_DATE,
    COLUMNS,
    END_DATE,
    FLAG_COLUMNS,
    FLAG_FIELDS,
    LAST_UPDATED_DATE,
    SHEET_NAME,
    SUSPENSION_DATE,
    ExportFormatError,
    column_key,
)
from products.importers.ema.doubts import doubted_fields
from products.importers.ema.matching import match_unnumbered, propose_number, select_rows
from products.importers.ema.reader import Export, ExportRow, read_export, read_json, read_xlsx
from products.importers.ema.report import FieldChange, ImportReport, ProductDiff, show
from products.importers.ema.values import (
    clean_indication,
    holder_key,
    parse_date,
    parse_flag,
    parse_product_number,
    parse_status,
    plain,
    split_name,
)
from products.locks import importing
from products.models import ImportRun, Product

#: The name the applying class had before the package (tests patch its methods).
_Importer = Importer

__all__ = [
    "ATMP_REASON", "AUTHORISATION_DATE", "COLUMNS", "END_DATE", "FLAG_COLUMNS", "FLAG_FIELDS",
    "LAST_UPDATED_DATE", "SHEET_NAME", "SUSPENSION_DATE", "Export", "ExportFormatError",
    "ExportRow", "FieldChange", "ImportReport", "Importer", "ProductDiff", "UnknownProducts",
    "clean_indication", "column_key", "considered_numbers", "doubted_fields", "holder_key",
    "import_export", "import_file", "parse_date", "parse_flag", "parse_product_number",
    "parse_status", "plain", "read_export", "read_json", "read_xlsx", "show", "split_name",
]  # fmt: skip


class UnknownProducts(ExportFormatError):
    """Product numbers chosen (``only``, ``skip``) that the import does not consider."""

    def __init__(self, numbers: Collection[str]):
        self.numbers = sorted(numbers)
        super().__init__(
            "not among the products this export would import: " + ", ".join(self.numbers)
        )


class _Catalogue:
    """The products the export's rows belong to: by number, and matched by name."""

    def __init__(self, export: Export):
        numbers = [row.product_number for row in export.rows]
        self.products = {
            product.ema_product_number: product
            for product in Product.objects.select_related("holder")
            .prefetch_related("indications__therapeutic_areas")
            .filter(ema_product_number__in=numbers)
        }
        self.matched = match_unnumbered(export, set(self.products))
        self.rows = sorted(
            select_rows(export, self.products, self.matched),
            key=lambda row: (plain(row.name), row.product_number),
        )


def considered_numbers(export: Export) -> set[str]:
    """The product numbers of the rows the import would consider now (what ``only`` and
    ``skip`` may name)."""
    return {row.product_number for row in _Catalogue(export).rows}


def import_export(
    export: Export,
    *,
    dry_run: bool = False,
    run_by: str = "",
    only: Collection[str] | None = None,
    skip: Collection[str] = (),
) -> ImportReport:
    """Apply ``export`` in one transaction; a dry run rolls it back and records nothing.

    ``only`` (product numbers) applies those rows alone, ``skip`` all but those: a row left out
    is tried and undone, and reported as "left out" if it would have written anything. A number
    the import does not consider is an :class:`UnknownProducts` error, before anything is
    written. A real run is recorded as an :class:`ImportRun` in the same transaction.
    """
    report = ImportReport(export.file_name, export.generated_at, dry_run, len(export.rows))
    with importing(f"EMA import of {export.file_name}"):  # one import at a time, no admin save
        catalogue = _Catalogue(export)
        numbers = {row.product_number for row in catalogue.rows}
        if unknown := ({*(only or ()), *skip} - numbers):
            raise UnknownProducts(unknown)
        importer = Importer(export)
        for row in catalogue.rows:
            product = catalogue.products.get(row.product_number)
            if row.product_number in catalogue.matched:
                diff = propose_number(row, catalogue.matched[row.product_number])
            elif row.product_number in skip or (
                only is not None and row.product_number not in only
            ):
                diff = importer.leave_out(row, product)
            elif product:
                diff = importer.update(row, product)
            else:
                diff = importer.create(row)
            report.products.append(diff)
        if dry_run:
            transaction.set_rollback(True)
        else:
            report.run = ImportRun.objects.create(
                file_name=export.file_name[:300],
                generated_at=export.generated_at,
                run_by=run_by[:150],
                dry_run=False,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                flagged=report.flagged,
                diff=report.diff,
            )
    return report


def import_file(
    source: Path | str | IO[bytes],
    *,
    file_name: str | None = None,
    dry_run: bool = False,
    run_by: str = "",
    only: Collection[str] | None = None,
    skip: Collection[str] = (),
) -> ImportReport:
    """Read and apply an export (what the command and the admin call)."""
    return import_export(
        read_export(source, file_name=file_name),
        dry_run=dry_run,
        run_by=run_by,
        only=only,
        skip=skip,
    )
