"""Small EMA exports for the tests, built with openpyxl (or json) in a temporary directory.

They look like the real export (sheet ``Medicine``, eight banner rows with the generation time in
D1, the header row starting with ``Category``, one row per medicine) and can be varied: header
spellings, flag words, real spreadsheet dates, a missing slash, HTML entities.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
from django.conf import settings

from products.importers.ema import COLUMNS, column_key
from tests.database_state import app_tables, fingerprint

REAL_EXPORT = (
    Path(settings.BASE_DIR) / "fixtures" / "source" / "ema_medicines_output_2025-10-27.xlsx"
)

GENERATED = "27/10/2025 - 06:13"
BANNER_ROWS = 8


def medicine(**values: Any) -> dict[str, Any]:
    """One row of the export, keyed by column name: an authorised gene therapy unless told.

    Keyword arguments use the column name with spaces and punctuation as underscores
    (``name_of_medicine="Kymriah"``) or, through ``values``, the exact name.
    """
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        {
            "Category": "Human",
            "Name of medicine": "Testagene",
            "EMA product number": "EMEA/H/C/009901",
            "Medicine status": "Authorised",
            "International non-proprietary name (INN) / common name": "testagene autotemcel",
            "Active substance": "testagene autotemcel",
            "Therapeutic area (MeSH)": "Hemophilia B;Hemophilia A",
            "Patient safety": "No",
            "ATC code (human)": "B02BD16",
            "Therapeutic indication": "Treatment of adults &lt;65&nbsp;years with haemophilia B.",
            "Accelerated assessment": "No",
            "Additional monitoring": "Yes",
            "Advanced therapy": "Yes",
            "Biosimilar": "No",
            "Conditional approval": "Yes",
            "Exceptional circumstances": "No",
            "Generic or hybrid": "No",
            "Orphan medicine": "Yes",
            "PRIME: priority medicine": "No",
            "Marketing authorisation developer / applicant / holder": "Testa Biologics B.V. ",
            "European Commission decision date": "01/09/2025",
            "Opinion adopted date": "22/05/2025",
            "Marketing authorisation date": "17/07/2025",
            "Revision number": 1,
            "First published date": "18/07/2025",
            "Last updated date": "19/08/2025",
            "Medicine URL": "https://www.ema.europa.eu/en/medicines/human/EPAR/testagene",
        }
    )
    by_key = {column_key(column): column for column in COLUMNS}
    for key, value in values.items():
        row[by_key.get(column_key(key), key)] = value
    return row


#: Rows of the real export of 27/10/2025 that tests vary, by name: (product number, INN, ATC code,
#: holder as printed, marketing authorisation date).
REAL_ROWS = {
    "Kymriah": ("EMEA/H/C/004090", "tisagenlecleucel", "L01XL04", "Novartis Europharm Limited ",
                "23/08/2018"),
    "Hemgenix": ("EMEA/H/C/004827", "etranacogene dezaparvovec", "B02BD16", "CSL Behring GmbH",
                 "20/02/2023"),
}  # fmt: skip


def real_medicine(name: str, **values: Any) -> dict[str, Any]:
    """The row of ``name`` in :data:`REAL_ROWS`, changed by ``values`` (as :func:`medicine`)."""
    number, inn, atc, holder, authorised = REAL_ROWS[name]
    identity = {
        "name_of_medicine": name,
        "ema_product_number": number,
        "international_non_proprietary_name_inn_common_name": inn,
        "atc_code_human": atc,
        "marketing_authorisation_developer_applicant_holder": holder,
        "marketing_authorisation_date": authorised,
    }
    return medicine(**{**identity, **values})


def kymriah_row(**values: Any) -> dict[str, Any]:
    """Kymriah's row as the real export has it (flags in Croatian), changed by ``values``."""
    return real_medicine(
        "Kymriah",
        **{
            "orphan_medicine": "Da",
            "conditional_approval": "Ne",
            "exceptional_circumstances": "Ne",
            "accelerated_assessment": "Ne",
            "prime_priority_medicine": "Da",
            "advanced_therapy": "Da",
            "medicine_url": "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah",
            "therapeutic_indication": "Kymriah is indicated for B-cell ALL &amp; DLBCL.",
            "last_updated_date": "25/09/2025",
            "therapeutic_area_mesh": "Precursor B-Cell Lymphoblastic Leukemia-Lymphoma;"
            "Lymphoma, Large B-Cell, Diffuse;Lymphoma, Follicular",
            **values,
        },
    )


def write_workbook(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    headers: Iterable[str] = COLUMNS,
    rename: dict[str, str] | None = None,
    sheet: str = "Medicine",
    banner_rows: int = BANNER_ROWS,
    generated: Any = GENERATED,
) -> Path:
    """Write ``rows`` as the export does; ``rename`` changes how a header is printed."""
    rename = rename or {}
    headers = list(headers)
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    if banner_rows:
        worksheet.append(
            [
                "Content type:",
                "Medicine",
                "Output automatically generated from content on www.ema.europa.eu on:",
                generated,
            ]
        )
        for _ in range(banner_rows - 1):
            worksheet.append([])
    worksheet.append([rename.get(header, header) for header in headers])
    for row in rows:
        worksheet.append([row.get(header) for header in headers])
    workbook.save(path)
    return path


def write_json(
    path: Path, rows: Iterable[dict[str, Any]], *, snake_case: bool = True, wrap: bool = False
) -> Path:
    """The JSON form: the EMA's snake_case keys (or the printed column names)."""

    def value(item: Any) -> Any:
        return item.strftime("%d/%m/%Y") if isinstance(item, datetime.date) else item

    records = [
        {(column_key(k) if snake_case else k): value(v) for k, v in row.items()} for row in rows
    ]
    path.write_text(json.dumps({"data": records} if wrap else records), encoding="utf-8")
    return path


#: Not the catalogue: uploads waiting in the admin's import between preview and confirmation.
NOT_CATALOGUE = ("products.PendingImport",)


def snapshot(*, without: tuple[str, ...] = ()) -> dict[str, str]:
    """Every row of every table of the catalogue (history, links and import runs included), as
    a digest per table (``tests/database_state.py``)."""
    return fingerprint(app_tables("products", without=(*without, *NOT_CATALOGUE)))
