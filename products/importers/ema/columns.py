"""The export's columns: their names as printed, the product field each one fills, and the
timeline event and date column that go with each medicine status."""

from __future__ import annotations

import re

from products.choices import EventKind, Status

SHEET_NAME = "Medicine"
HEADER_FIRST_CELL = "Category"
#: Rows searched for the header row (the real export has eight banner rows).
HEADER_SEARCH_ROWS = 50


class ExportFormatError(ValueError):
    """The file is not the EMA export this importer knows; the message says where and why."""


def column_key(name: str) -> str:
    """``"PRIME: priority\\nmedicine"`` -> ``"prime_priority_medicine"`` (the EMA's JSON keys)."""
    return re.sub(r"[^a-z0-9]+", "_", " ".join(str(name).split()).casefold()).strip("_")


#: Every column of the export (as printed in the workbook, white space normalised).
COLUMNS = (
    "Category",
    "Name of medicine",
    "EMA product number",
    "Medicine status",
    "Opinion status",
    "Latest procedure affecting product information",
    "International non-proprietary name (INN) / common name",
    "Active substance",
    "Therapeutic area (MeSH)",
    "Species (veterinary)",
    "Patient safety",
    "ATC code (human)",
    "ATCvet code (veterinary)",
    "Pharmacotherapeutic group (human)",
    "Pharmacotherapeutic group (veterinary)",
    "Therapeutic indication",
    "Accelerated assessment",
    "Additional monitoring",
    "Advanced therapy",
    "Biosimilar",
    "Conditional approval",
    "Exceptional circumstances",
    "Generic or hybrid",
    "Orphan medicine",
    "PRIME: priority medicine",
    "Marketing authorisation developer / applicant / holder",
    "European Commission decision date",
    "Start of rolling review date",
    "Start of evaluation date",
    "Opinion adopted date",
    "Withdrawal of application date",
    "Marketing authorisation date",
    "Refusal of marketing authorisation date",
    "Withdrawal / expiry / revocation / lapse of marketing authorisation date",
    "Suspension of marketing authorisation date",
    "Revision number",
    "First published date",
    "Last updated date",
    "Medicine URL",
)
#: Other spellings of a column: the 2026 rename and the EMA's JSON key for the INN.
COLUMN_ALIASES = {
    "generic": "Generic or hybrid",
    "international_non_proprietary_name_common_name": (
        "International non-proprietary name (INN) / common name"
    ),
}
KNOWN_COLUMNS = {column_key(name): name for name in COLUMNS} | {
    key: name for key, name in COLUMN_ALIASES.items()
}

NAME = "Name of medicine"
NUMBER = "EMA product number"
STATUS = "Medicine status"
OPINION_STATUS = "Opinion status"
INN = "International non-proprietary name (INN) / common name"
AREAS = "Therapeutic area (MeSH)"
ATC = "ATC code (human)"
INDICATION = "Therapeutic indication"
ADVANCED_THERAPY = "Advanced therapy"
HOLDER = "Marketing authorisation developer / applicant / holder"
AUTHORISATION_DATE = "Marketing authorisation date"
OPINION_DATE = "Opinion adopted date"
APPLICATION_WITHDRAWAL_DATE = "Withdrawal of application date"
REFUSAL_DATE = "Refusal of marketing authorisation date"
END_DATE = "Withdrawal / expiry / revocation / lapse of marketing authorisation date"
SUSPENSION_DATE = "Suspension of marketing authorisation date"
LAST_UPDATED_DATE = "Last updated date"
URL = "Medicine URL"

#: The export's flag columns and the product field each one sets.
FLAG_COLUMNS = {
    "Orphan medicine": "is_orphan",
    "Conditional approval": "is_conditional",
    "Exceptional circumstances": "is_exceptional_circumstances",
    "Accelerated assessment": "is_accelerated_assessment",
    "PRIME: priority medicine": "is_prime",
}
DATE_COLUMNS = (
    AUTHORISATION_DATE,
    OPINION_DATE,
    APPLICATION_WITHDRAWAL_DATE,
    REFUSAL_DATE,
    END_DATE,
    SUSPENSION_DATE,
    LAST_UPDATED_DATE,
)
REQUIRED_COLUMNS = (
    NAME,
    NUMBER,
    STATUS,
    OPINION_STATUS,
    INN,
    AREAS,
    ATC,
    INDICATION,
    ADVANCED_THERAPY,
    HOLDER,
    URL,
    *FLAG_COLUMNS,
    *DATE_COLUMNS,
)

#: The column behind each product field, to name it in an error.
FIELD_COLUMNS = {
    "name": NAME,
    "ema_product_number": NUMBER,
    "status": STATUS,
    "inn": INN,
    "atc_code": ATC,
    "ema_indication_text": INDICATION,
    "holder": HOLDER,
    "authorisation_date": AUTHORISATION_DATE,
    "ema_last_updated_date": LAST_UPDATED_DATE,
    "epar_url": URL,
    **{name: column for column, name in FLAG_COLUMNS.items()},
}

FLAG_FIELDS = tuple(FLAG_COLUMNS.values())


#: The column that dates each status, where the export has one.
STATUS_DATE_COLUMNS = {
    Status.SUSPENDED: SUSPENSION_DATE,
    Status.WITHDRAWN: END_DATE,
    Status.EXPIRED: END_DATE,
    Status.LAPSED: END_DATE,
    Status.REVOKED: END_DATE,
    Status.REFUSED: REFUSAL_DATE,
    Status.OPINION: OPINION_DATE,
    Status.APPLICATION_WITHDRAWN: APPLICATION_WITHDRAWAL_DATE,
    Status.WITHDRAWN_FROM_ROLLING_REVIEW: APPLICATION_WITHDRAWAL_DATE,
}
#: Changes undone together when the timeline cannot record the new status.
STATUS_FIELDS = ("status", "status_date", "event")
OPINION_EVENTS = {"positive": EventKind.POSITIVE_OPINION, "negative": EventKind.NEGATIVE_OPINION}
