"""Keep the catalogue current from the EMA's own medicines export (``import_ema``).

The EMA publishes every centrally authorised medicine as a workbook ("Download medicine data",
``medicines-output-medicines-report_en.xlsx``) and as JSON with the same fields. This module
reads either form (:func:`read_export`) and applies it (:func:`import_export`) in one
transaction: a bad row, an unknown column or an interruption leaves the database as it was.

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

import datetime
import html
import io
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import ENDED_OR_SUSPENDED, HELD_AUTHORISATION, EventKind, Status
from products.flags import FLAGS
from products.importers import limits
from products.locks import importing
from products.models import (
    ATC_PATTERN,
    AuthorisationEvent,
    Company,
    ImportRun,
    Product,
    slugify_name,
)

SHEET_NAME = "Medicine"
HEADER_FIRST_CELL = "Category"
#: Rows searched for the header row (the real export has eight banner rows).
HEADER_SEARCH_ROWS = 50
ATMP_REASON = "flagged as advanced therapy in the EMA export"


class ExportFormatError(ValueError):
    """The file is not the EMA export this importer knows; the message says where and why."""


# Columns ----------------------------------------------------------------------------------------


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

# Values -----------------------------------------------------------------------------------------

#: Yes and no in the EU's languages (compared without case and accents).
YES_WORDS = {
    "yes", "true",  # English (and JSON's spelling of a boolean)
    "da", "да",  # Croatian, Romanian, Slovenian; Bulgarian
    "ano",  # Czech ano, Slovak áno
    "ja",  # Danish, Dutch, German, Swedish; Latvian jā
    "jah",  # Estonian
    "kylla",  # Finnish kyllä
    "oui",  # French
    "ναι", "nai",  # Greek
    "igen",  # Hungarian
    "si",  # Italian sì, Spanish sí
    "taip",  # Lithuanian
    "iva",  # Maltese
    "tak",  # Polish
    "sim",  # Portuguese
}  # fmt: skip
NO_WORDS = {
    "no", "false",  # English, Italian, Spanish
    "ne", "не",  # Croatian, Czech, Lithuanian, Slovenian; Latvian nē; Bulgarian
    "nej",  # Danish, Swedish
    "nee",  # Dutch
    "nein",  # German
    "ei",  # Estonian, Finnish
    "non",  # French
    "οχι", "ochi",  # Greek όχι
    "nem",  # Hungarian
    "le",  # Maltese
    "nie",  # Polish, Slovak
    "nao",  # Portuguese não
    "nu",  # Romanian
}  # fmt: skip

#: The EMA's "Medicine status" wording (and the catalogue's own labels and slugs).
STATUS_WORDS = {
    "authorised": Status.AUTHORISED,
    "suspended": Status.SUSPENDED,
    "withdrawn": Status.WITHDRAWN,
    "expired": Status.EXPIRED,
    "lapsed": Status.LAPSED,
    "revoked": Status.REVOKED,
    "refused": Status.REFUSED,
    "opinion": Status.OPINION,
    "opinion under re-examination": Status.UNDER_RE_EXAMINATION,
    "application withdrawn": Status.APPLICATION_WITHDRAWN,
    "withdrawn from rolling review": Status.WITHDRAWN_FROM_ROLLING_REVIEW,
}
for _status in Status:
    STATUS_WORDS.setdefault(_status.value.replace("-", " "), _status)
    STATUS_WORDS.setdefault(str(_status.label).casefold(), _status)

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
#: The timeline event that records a change to each status.
STATUS_EVENTS = {
    Status.AUTHORISED: EventKind.INITIAL_AUTHORISATION,
    Status.SUSPENDED: EventKind.SUSPENSION,
    Status.WITHDRAWN: EventKind.WITHDRAWAL,
    Status.EXPIRED: EventKind.EXPIRY,
    Status.LAPSED: EventKind.LAPSE,
    Status.REVOKED: EventKind.REVOCATION,
    Status.REFUSED: EventKind.REFUSAL,
    Status.UNDER_RE_EXAMINATION: EventKind.RE_EXAMINATION,
    Status.APPLICATION_WITHDRAWN: EventKind.APPLICATION_WITHDRAWN,
}
#: Changes undone together when the timeline cannot record the new status.
STATUS_FIELDS = ("status", "status_date", "event")
OPINION_EVENTS = {"positive": EventKind.POSITIVE_OPINION, "negative": EventKind.NEGATIVE_OPINION}

PRODUCT_NUMBER = re.compile(r"^EMEA/(?P<kind>[HV])/C/?(?P<digits>[0-9]{6})$")
GENERATED_AT = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})\s*-\s*(\d{1,2}:\d{2})$")
PREVIOUS_NAME = re.compile(r"^(?P<name>.+?)\s*\(previously (?P<alias>[^()]+)\)$")
ATC_CODE = re.compile(ATC_PATTERN)
NO_ATC = {"", "not yet assigned", "not assigned"}


def _plain(value: Any) -> str:
    """Compare words without case, accents or surrounding white space."""
    text = unicodedata.normalize("NFKD", " ".join(str(value).split()).casefold())
    return "".join(char for char in text if not unicodedata.combining(char))


def parse_flag(value: Any) -> bool | None:
    """``"Da"`` -> True, ``"Nej"`` -> False, empty -> None; anything else is an error."""
    if value is None or isinstance(value, bool):
        return value
    word = _plain(value)
    if not word:
        return None
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise ValueError(f"{value!r} is not a yes/no value")


def parse_date(value: Any) -> datetime.date | None:
    """Text ``DD/MM/YYYY`` (or ISO ``YYYY-MM-DD``) or a real spreadsheet date; empty -> None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date (expected DD/MM/YYYY)")
    text = value.strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (expected DD/MM/YYYY)")


def parse_status(value: Any) -> Status:
    status = STATUS_WORDS.get(" ".join(_text(value).casefold().split()))
    if status is None:
        raise ValueError(f"{value!r} is not a medicine status")
    return status


def parse_product_number(value: Any) -> str:
    """``"EMEA/H/C005201"`` -> ``"EMEA/H/C/005201"``."""
    match = PRODUCT_NUMBER.match(_text(value).replace(" ", ""))
    if not match:
        raise ValueError(f"{value!r} is not an EMA product number (EMEA/H/C/NNNNNN)")
    return f"EMEA/{match['kind']}/C/{match['digits']}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _one_line(value: Any) -> str:
    return " ".join(_text(value).split())


def clean_indication(value: Any) -> str:
    """Decode HTML entities; ``&nbsp;`` becomes a plain space; tidy spaces, keep line breaks."""
    text = html.unescape(_text(value)).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def split_name(value: str) -> tuple[str, list[str]]:
    """``"Beqvez (previously Durveqtix)"`` -> (``"Beqvez"``, [``"Durveqtix"``])."""
    match = PREVIOUS_NAME.match(value)
    if match:
        return match["name"].strip(), [match["alias"].strip()]
    return value, []


LEGAL_FORMS = {
    "ag", "aps", "as", "bv", "co", "eeig", "ets", "gmbh", "inc", "kg", "limited", "llc", "ltd",
    "nv", "oy", "plc", "sa", "sas", "spa", "srl", "sro",
}  # fmt: skip


def holder_key(name: str) -> str:
    """The words that name a company, without legal form, punctuation, case or a parenthesis.

    ``"TiGenix N.V."`` and ``"TiGenix NV"``, ``"Cytonet GmbH KG"`` and ``"Cytonet GmbH & Co. KG"``,
    ``"CO.DON Gmbh"`` and ``"CO.DON GmbH"`` are the same holder written two ways.
    """
    text = re.sub(r"\([^()]*\)", " ", _plain(name)).replace(".", "")
    words = [word for word in re.split(r"[^a-z0-9]+", text) if word]
    return " ".join(word for word in words if word not in LEGAL_FORMS)


# Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    """One medicine of the export, parsed and checked."""

    where: str  # "row 12" (XLSX) or "record 3" (JSON)
    name: str
    product_number: str
    status: Status
    opinion_status: str  # "positive", "negative" or ""
    inn: str
    therapeutic_areas: tuple[str, ...]
    atc_code: str  # as written; checked when the row is imported
    indication_text: str
    holder: str
    url: str
    is_advanced_therapy: bool | None
    flags: dict[str, bool | None]  # product field -> value
    dates: dict[str, datetime.date | None]  # column -> value

    @property
    def is_human(self) -> bool:
        return self.product_number.startswith("EMEA/H/")

    @property
    def authorisation_date(self) -> datetime.date | None:
        return self.dates[AUTHORISATION_DATE]

    def status_date(self, status: Status | None = None) -> datetime.date | None:
        """The date the export gives for ``status`` (default: the row's own), if any."""
        column = STATUS_DATE_COLUMNS.get(status or self.status)
        return self.dates[column] if column else None


@dataclass
class Export:
    file_name: str
    generated_at: datetime.datetime | None
    rows: list[ExportRow]


def _match_columns(names: Iterable[tuple[Any, str]], describe, where: str) -> dict[str, Any]:
    """Map each known column to its position; an unknown, repeated or missing one is an error."""
    positions: dict[str, Any] = {}
    for position, raw in names:
        key = column_key(raw)
        if key not in KNOWN_COLUMNS:
            raise ExportFormatError(f"{describe(position)}: unknown column {_one_line(raw)!r}")
        column = KNOWN_COLUMNS[key]
        if column in positions:
            raise ExportFormatError(f"{describe(position)}: column {column!r} appears twice")
        positions[column] = position
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise ExportFormatError(
            f"{where}: missing column(s) {', '.join(repr(column) for column in missing)}"
        )
    return positions


def _parse_row(where: str, get, label) -> ExportRow:
    """One :class:`ExportRow`: ``get(column)`` gives a raw value, ``label(column)`` names it."""

    def parsed(column: str, parser):
        try:
            return parser(get(column))
        except ValueError as exc:
            raise ExportFormatError(f"{where}, {label(column)}: {exc}") from None

    number_text = _text(get(NUMBER))
    if not number_text:
        raise ExportFormatError(f"{where}, {label(NUMBER)}: the product number is empty")
    opinion = _plain(get(OPINION_STATUS) or "")
    if opinion not in ("", *OPINION_EVENTS):
        raise ExportFormatError(
            f"{where}, {label(OPINION_STATUS)}: {get(OPINION_STATUS)!r} is not an opinion status"
        )
    areas = tuple(area.strip() for area in _text(get(AREAS)).split(";") if area.strip())
    return ExportRow(
        where=where,
        name=_one_line(get(NAME)),
        product_number=parsed(NUMBER, parse_product_number),
        status=parsed(STATUS, parse_status),
        opinion_status=opinion,
        inn=_one_line(get(INN)),
        therapeutic_areas=areas,
        atc_code=_one_line(get(ATC)),
        indication_text=clean_indication(get(INDICATION)),
        holder=_one_line(get(HOLDER)),
        url=_text(get(URL)),
        is_advanced_therapy=parsed(ADVANCED_THERAPY, parse_flag),
        flags={name: parsed(column, parse_flag) for column, name in FLAG_COLUMNS.items()},
        dates={column: parsed(column, parse_date) for column in DATE_COLUMNS},
    )


def _check_rows(rows: list[ExportRow]) -> list[ExportRow]:
    seen: dict[str, str] = {}
    for row in rows:
        if row.product_number in seen:
            raise ExportFormatError(
                f"{row.where}: product number {row.product_number} is also in "
                f"{seen[row.product_number]}"
            )
        seen[row.product_number] = row.where
        if not row.name:
            raise ExportFormatError(f"{row.where}: the name of the medicine is empty")
    if not rows:
        raise ExportFormatError("the export holds no medicines")
    return rows


def _generated_at(value: Any) -> datetime.datetime | None:
    """The banner's ``27/10/2025 - 06:13`` (the EMA's local time) as an aware datetime."""
    if isinstance(value, datetime.datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    match = GENERATED_AT.match(_one_line(value))
    if not match:
        return None
    try:
        moment = datetime.datetime.strptime(" ".join(match.groups()), "%d/%m/%Y %H:%M")
    except ValueError:
        return None
    return timezone.make_aware(moment)


def read_xlsx(
    source: Path | IO[bytes], *, file_name: str, deadline: limits.Deadline | None = None
) -> Export:
    """Read the workbook; any failure of the reader is an :class:`ExportFormatError`.

    Its size, zip directory and parts are checked against the ``IMPORT_MAX_*`` limits first
    (:func:`products.importers.limits.check_workbook`); the rows are read within the deadline.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    bounds = limits.ImportLimits.from_settings()
    deadline = deadline or limits.Deadline(bounds.seconds)
    data = limits.read_limited(source, bounds)
    limits.check_workbook(data, bounds, deadline)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader failure means "not a readable XLSX"
        raise ExportFormatError(f"not a readable XLSX workbook ({_reason(exc)})") from exc
    try:
        if SHEET_NAME not in workbook.sheetnames:
            raise ExportFormatError(
                f"no sheet {SHEET_NAME!r} (sheets: {', '.join(workbook.sheetnames) or 'none'})"
            )
        sheet = workbook[SHEET_NAME]
        banner: list[tuple] = []
        header: tuple | None = None
        header_row = 0
        for number, values in enumerate(
            sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
        ):
            if values and _one_line(values[0]) == HEADER_FIRST_CELL:
                header, header_row = values, number
                break
            banner.append(values)
        if header is None:
            raise ExportFormatError(
                f"sheet {SHEET_NAME!r}: no header row (a row whose first cell is "
                f"{HEADER_FIRST_CELL!r}) in the first {HEADER_SEARCH_ROWS} rows"
            )
        names = [(index, value) for index, value in enumerate(header) if _text(value)]
        width = max(index for index, _value in names) + 1

        def describe(index: int) -> str:
            return f"row {header_row}, column {get_column_letter(index + 1)}"

        positions = _match_columns(names, describe, f"row {header_row}")

        def label(column: str) -> str:
            return f"column {get_column_letter(positions[column] + 1)} ({column})"

        rows = []
        for number, values in enumerate(
            sheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True),
            start=header_row + 1,
        ):
            deadline.check()
            if not any(_text(value) for value in values):
                continue
            values = tuple(values) + (None,) * (width - len(values))
            rows.append(
                _parse_row(f"row {number}", lambda column, v=values: v[positions[column]], label)
            )
        first_row = banner[0] if banner else ()
        generated = next(filter(None, map(_generated_at, first_row)), None)
    except ExportFormatError:
        raise
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - a truncated or corrupt member of the zip
        raise ExportFormatError(f"not a readable XLSX workbook ({_reason(exc)})") from exc
    finally:
        workbook.close()
    return Export(file_name=file_name, generated_at=generated, rows=_check_rows(rows))


def read_json(data: bytes, *, file_name: str, deadline: limits.Deadline | None = None) -> Export:
    """Read the JSON form: a list of objects keyed by column name (or ``{"data": [...]}``).

    Its nesting and number of values are checked before it is parsed
    (:func:`products.importers.limits.check_json`), its records within the limits.
    """
    bounds = limits.ImportLimits.from_settings()
    deadline = deadline or limits.Deadline(bounds.seconds)
    limits.check_upload_size(len(data), bounds)
    limits.check_json(data, bounds)
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportFormatError(f"not valid JSON ({exc})") from exc
    except RecursionError:
        raise ExportFormatError(
            "the JSON is nested deeper than Python can read (RecursionError; lower "
            "IMPORT_MAX_JSON_DEPTH)"
        ) from None
    except ValueError as exc:  # Python's limit on the digits of an integer (3.11 and later)
        digits = getattr(sys, "get_int_max_str_digits", lambda: 0)()
        raise ExportFormatError(
            f"the JSON holds an integer of more than {digits:,} digits, the limit of Python "
            "(PYTHONINTMAXSTRDIGITS)"
        ) from exc
    deadline.check()
    generated = None
    if isinstance(payload, dict):
        generated = _generated_at(payload.get("generated_at") or payload.get("generated") or "")
        payload = next(
            (payload[key] for key in ("data", "medicines") if isinstance(payload.get(key), list)),
            None,
        )
    if not isinstance(payload, list):
        raise ExportFormatError("JSON export: expected a list of medicines (or {'data': [...]})")
    if len(payload) > bounds.rows:
        raise ExportFormatError(
            f"the JSON holds {len(payload):,} records, more than the limit of {bounds.rows:,} "
            "(IMPORT_MAX_ROWS)"
        )
    rows = []
    for number, record in enumerate(payload, start=1):
        deadline.check()
        where = f"record {number}"
        if not isinstance(record, dict):
            raise ExportFormatError(f"{where}: expected an object, found {type(record).__name__}")
        positions = _match_columns(
            ((key, key) for key in record), lambda key, where=where: f"{where}, key {key!r}", where
        )
        rows.append(
            _parse_row(
                where,
                lambda column, record=record, positions=positions: record[positions[column]],
                lambda column, positions=positions: f"key {positions[column]!r}",
            )
        )
    return Export(file_name=file_name, generated_at=generated, rows=_check_rows(rows))


XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


def read_export(source: Path | str | IO[bytes], *, file_name: str | None = None) -> Export:
    """Read an export from a path or an open binary file, recognising XLSX or JSON by content.

    Never more than ``IMPORT_MAX_UPLOAD_BYTES`` is read, nor for longer than ``IMPORT_MAX_SECONDS``
    (see :mod:`products.importers.limits`).
    """
    bounds = limits.ImportLimits.from_settings()
    deadline = limits.Deadline(bounds.seconds)
    if isinstance(source, (str, Path)):
        path = Path(source)
        file_name = file_name or path.name
        data = limits.read_limited(path, bounds)
    else:
        data = limits.read_limited(source, bounds)
        file_name = file_name or Path(getattr(source, "name", "") or "upload").name
    if not data:
        raise ExportFormatError("the file is empty")
    if data.startswith(XLSX_MAGIC):
        return read_xlsx(io.BytesIO(data), file_name=file_name, deadline=deadline)
    if data.startswith(OLE2_MAGIC):
        raise ExportFormatError("an old binary .xls workbook; save it as .xlsx")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return read_json(data, file_name=file_name, deadline=deadline)
    raise ExportFormatError("neither an XLSX workbook nor JSON")


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())  # one line, whatever the reader's message
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Doubts of the curators -------------------------------------------------------------------------

FLAG_FIELDS = tuple(FLAG_COLUMNS.values())
#: How ``unverified_fields`` names a product field (the fact sheet's wording or the field name).
DOUBT_PATTERNS = (
    (re.compile(r"accelerated[_ ]assessment"), ("is_accelerated_assessment",)),
    (re.compile(r"exceptional[_ ]circumstances"), ("is_exceptional_circumstances",)),
    (re.compile(r"conditional"), ("is_conditional",)),
    (re.compile(r"\bprime\b|is_prime"), ("is_prime",)),
    (re.compile(r"\borphan\b|^is_orphan$"), ("is_orphan",)),
    (re.compile(r"all (authorisation[_ ]type )?flags"), FLAG_FIELDS),
    (re.compile(r"^status_date\b"), ("status_date",)),
    (re.compile(r"^status$"), ("status",)),
    (re.compile(r"^authorisation_date\b"), ("authorisation_date",)),
    (re.compile(r"^(marketing_authorisation_holder(\.current)?|holder)$"), ("holder",)),
)


def doubted_fields(unverified: Iterable[str]) -> dict[str, str]:
    """Product fields the curators mark as doubtful, each with the note that says so.

    Indication-level doubts (``indications[0].orphan_designation``), the holder at grant
    (``marketing_authorisation_holder.original``) and the flags at first authorisation
    (``authorisation_type.*``) are not about fields the import writes.
    """
    doubts: dict[str, str] = {}
    for note in unverified:
        text = re.sub(r"\s*\(.*$", "", note.strip().casefold())
        if text.startswith("indication"):  # about one indication, not the product
            continue
        if "authorisation_type" in text:  # the values at first authorisation
            continue
        for pattern, fields in DOUBT_PATTERNS:
            if pattern.search(text):
                for name in fields:
                    doubts.setdefault(name, note)
    return doubts


# Applying ---------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as the diff prints it."""
    if value is None or value == "":
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Company):
        return value.name
    if isinstance(value, (list, tuple)):
        return ", ".join(show(item) for item in value) or "none"
    text = str(value)
    if "\n" in text or len(text) > 90:
        return repr(" ".join(text.split())[:70] + "…") + f" ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


def describe_event(event: AuthorisationEvent) -> str:
    if event.date is None and event.known_by:
        return f"{event.get_kind_display()} (by {event.known_by.isoformat()})"
    return f"{event.get_kind_display()} ({show(event.date)})"


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.field == "event":
            return f"event added: {self.new}"
        return f"{self.field}: {show(self.old)} -> {show(self.new)}"


@dataclass
class ProductDiff:
    """What the import did (or would do) to one product."""

    name: str
    product_number: str
    action: str  # "created", "updated", "unchanged" or "not created"
    changes: list[FieldChange] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"{self.name} ({self.product_number}): {self.action}"]
        lines += [f"  {change}" for change in self.changes]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  flagged for review: {review}" for review in self.reviews]
        return lines


@dataclass
class ImportReport:
    file_name: str
    generated_at: datetime.datetime | None
    dry_run: bool
    rows_read: int = 0
    products: list[ProductDiff] = field(default_factory=list)
    run: ImportRun | None = None

    def _count(self, action: str) -> int:
        return sum(diff.action == action for diff in self.products)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def updated(self) -> int:
        return self._count("updated")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def flagged(self) -> int:
        return sum(bool(diff.reviews) for diff in self.products)

    @property
    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"flagged for review {self.flagged}"
        )

    def diff_lines(self) -> list[str]:
        """Product by product, field by field; products with nothing to say are left out."""
        lines: list[str] = []
        for diff in self.products:
            if diff.changes or diff.reviews or diff.action != "unchanged":
                lines += diff.lines()
        return lines

    @property
    def diff(self) -> str:
        return "\n".join(self.diff_lines())


class _Importer:
    """Applies the selected rows of one export; used inside one transaction."""

    def __init__(self, export: Export):
        self.export = export
        #: "No later than" for a change only the export shows: the day it was generated.
        self.known_by = export.generated_at.date() if export.generated_at else timezone.localdate()
        self.flag_events: list[AuthorisationEvent] = []
        self.note = "From the EMA medicines export" + (
            f" generated on {export.generated_at:%d/%m/%Y}." if export.generated_at else "."
        )
        self.reason = f"EMA import of {export.file_name}"
        self.companies = {company.name: company for company in Company.objects.all()}
        self.company_keys = {holder_key(name): c for name, c in self.companies.items()}
        self.slugs = set(Product.objects.values_list("slug", flat=True))

    # Vocabulary -------------------------------------------------------------------------------
    def company(self, row: ExportRow) -> Company:
        found = self.companies.get(row.holder) or self.company_keys.get(holder_key(row.holder))
        if found:
            return found
        slug = base = slugify_name(row.holder) or "holder"
        taken = set(Company.objects.filter(slug__startswith=base).values_list("slug", flat=True))
        number = 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        company = Company(name=row.holder, slug=slug)
        self.validate(company, row)
        company.save()
        self.companies[company.name] = company
        self.company_keys[holder_key(company.name)] = company
        return company

    def unique_slug(self, name: str) -> str:
        slug = base = slugify_name(name) or "product"
        number = 2
        while slug in self.slugs:
            slug, number = f"{base}-{number}", number + 1
        self.slugs.add(slug)
        return slug

    # Checks -----------------------------------------------------------------------------------
    @staticmethod
    def validate(obj, row: ExportRow) -> None:
        """``full_clean()``; an error names the row and, where it can, the export's column."""
        try:
            obj.full_clean()
        except ValidationError as exc:
            problems = []
            for name, messages in getattr(
                exc, "message_dict", {NON_FIELD_ERRORS: exc.messages}
            ).items():
                if name == "status_date":
                    column = STATUS_DATE_COLUMNS.get(row.status)
                else:
                    column = FIELD_COLUMNS.get(name)
                where = f"column {column!r}" if column else "" if name == NON_FIELD_ERRORS else name
                problems.append(f"{where + ': ' if where else ''}{' '.join(messages)}")
            raise ExportFormatError(
                f"{row.where} ({row.product_number}): {'; '.join(dict.fromkeys(problems))}"
            ) from exc

    @staticmethod
    def atc_code(row: ExportRow) -> tuple[str | None, str | None]:
        """(code, problem): the row's ATC code if it is one, else why it is not used."""
        if _plain(row.atc_code) in NO_ATC:
            return None, None
        if not ATC_CODE.match(row.atc_code):
            return None, f"the export's ATC code {row.atc_code!r} is not a valid ATC code"
        return row.atc_code, None

    def atmp_review(self, row: ExportRow, product: Product) -> str | None:
        """A disagreement with the catalogue's judgement, unless the last import showed it."""
        if row.is_advanced_therapy is None or row.is_advanced_therapy == product.is_atmp:
            return None
        if row.is_advanced_therapy == product.ema_advanced_therapy:
            return None  # known: the catalogue's judgement was made with it in view
        held = "holds it to be" if product.is_atmp else "does not hold it to be"
        reason = f" ({product.atmp_reason})" if product.atmp_reason else ""
        return (
            f"the export's advanced-therapy flag is {show(row.is_advanced_therapy)}; "
            f"the catalogue {held} an ATMP{reason}, which wins"
        )

    # Rows -------------------------------------------------------------------------------------
    def update(self, row: ExportRow, product: Product) -> ProductDiff:
        diff = ProductDiff(product.name, row.product_number, "unchanged")
        doubts = doubted_fields(product.unverified_fields)
        events = list(product.events.all())
        if review := self.atmp_review(row, product):
            diff.reviews.append(review)
        brand, aliases = split_name(row.name)
        known_names = {_plain(name) for name in (product.name, *product.aliases)}
        if not {_plain(brand), *map(_plain, aliases)} & known_names:
            diff.reviews.append(f"the export names it {row.name!r}")

        def propose(name: str, new: Any, shown: Any = None) -> bool:
            """Set ``name`` unless the export is silent or agrees, or the field is doubted."""
            old = getattr(product, name)
            if new is None or new == "" or new == old:
                return False
            if name in doubts:
                diff.reviews.append(
                    f"{name}: the export says {show(shown or new)}; the catalogue's {show(old)} "
                    f"is marked doubtful ({doubts[name]!r}) and is left for a curator"
                )
                return False
            setattr(product, name, new)
            diff.changes.append(FieldChange(name, old, new))
            return True

        propose("ema_advanced_therapy", row.is_advanced_therapy)
        self.update_flags(row, product, diff, events, propose)
        if row.holder and not (
            product.holder and holder_key(product.holder.name) == holder_key(row.holder)
        ):
            if "holder" in doubts:  # reported, not applied: no company is created for it
                propose("holder", row.holder)
            else:
                propose("holder", self.company(row))
        code, problem = self.atc_code(row)
        if problem:
            diff.reviews.append(f"{problem}; {show(product.atc_code)} is kept")
        elif code and not (product.atc_code and product.atc_code.startswith(code)):
            propose("atc_code", code)  # a less specific level of the same code is no news
        propose("epar_url", row.url)
        propose("ema_indication_text", row.indication_text)
        propose("ema_last_updated_date", row.dates[LAST_UPDATED_DATE])
        self.update_authorisation_date(row, product, diff, events, propose)

        saved = (product.status, product.status_date)
        new_events = self.update_status(row, product, diff, doubts, propose)
        self.review_areas(row, product, diff)
        if new_events is not None:
            try:
                product.check_timeline(events + new_events)
            except ValidationError as exc:
                product.status, product.status_date = saved
                diff.changes = [c for c in diff.changes if c.field not in STATUS_FIELDS]
                new_events = []
                date = row.status_date()
                diff.reviews.append(
                    f"the export gives status {show(row.status.label)}"
                    f"{' of ' + show(date) if date else ''}, which disagrees with the "
                    f"timeline: {' '.join(exc.messages)}"
                )
        if diff.changes:
            self.validate(product, row)
            diff.action = "updated"
            product._change_reason = self.reason
            product.save()
            for event in [*(new_events or ()), *self.flag_events]:
                self.validate(event, row)
                event._change_reason = self.reason
                event.save()
        self.flag_events = []
        return diff

    @staticmethod
    def review_areas(row: ExportRow, product: Product, diff: ProductDiff) -> None:
        """The export's MeSH areas that no indication carries: proposed, never applied."""
        held = {
            _plain(area.name)
            for indication in product.indications.all()
            for area in indication.therapeutic_areas.all()
        }
        missing = [area for area in row.therapeutic_areas if _plain(area) not in held]
        if missing:
            diff.reviews.append(
                "proposed therapeutic area(s) from the export's MeSH column, for a curator to "
                f"place on an indication: {'; '.join(missing)}"
            )

    def update_flags(self, row, product, diff, events, propose) -> None:
        """The register's flags now; a change from the last known value goes on the timeline.

        An application that never got an authorisation has no authorisation flags: the export's
        "no" for them is not applied. The values at first authorisation are never written.
        """
        held = row.status in HELD_AUTHORISATION or product.status in HELD_AUTHORISATION
        for flag in FLAGS:
            new = row.flags[flag.field]
            if flag.needs_authorisation and not held:
                continue
            before = getattr(product, flag.field)
            if before is None:
                before = getattr(product, flag.at_field)
            if not propose(flag.field, new) or before is None or before == new:
                continue
            kind = flag.lost_event if before else flag.gained_event
            if kind and not any(event.kind == kind for event in events):
                event = AuthorisationEvent(
                    product=product, kind=kind, known_by=self.known_by, note=self.flag_note(flag)
                )
                self.flag_events.append(event)
                diff.changes.append(FieldChange("event", None, describe_event(event)))

    def flag_note(self, flag) -> str:
        return (
            f"{flag.label}: the EMA's register changed; first seen in the export of "
            f"{self.known_by:%d/%m/%Y}."
        )

    def update_authorisation_date(self, row, product, diff, events, propose) -> None:
        """The first authorisation date, unless the timeline dates that authorisation otherwise."""
        new = row.authorisation_date
        if new is None or new == product.authorisation_date:
            return
        dated = [
            event.date
            for event in events
            if event.kind == EventKind.INITIAL_AUTHORISATION and event.date not in (None, new)
        ]
        if dated:
            diff.reviews.append(
                f"authorisation_date: the export says {show(new)}; the timeline's initial "
                f"authorisation is dated {show(dated[0])}; left for a curator"
            )
            return
        partial = product.authorisation_date_partial
        if propose("authorisation_date", new) and partial:
            product.authorisation_date_partial = ""
            diff.changes.append(FieldChange("authorisation_date_partial", partial, ""))

    def update_status(self, row, product, diff, doubts, propose) -> list[AuthorisationEvent] | None:
        """Apply the row's status and its date; the events that record them (None: no change)."""
        new_date = row.status_date()
        if row.status == product.status:
            if new_date and propose("status_date", new_date):
                return []
            return None
        if "status" in doubts:  # reported, not applied
            propose("status", row.status, row.status.label)
            return None
        kind = self.event_kind(row, product)
        if kind is None:
            diff.reviews.append(
                f"the export gives status {show(row.status.label)}, which no timeline event "
                "records; the status is left for a curator"
            )
            return None
        if row.status in ENDED_OR_SUSPENDED and new_date is None:
            diff.reviews.append(
                f"the export gives status {show(row.status.label)} without its date; "
                "the status is left for a curator"
            )
            return None
        old_status, old_date = product.status, product.status_date
        product.status, product.status_date = row.status, new_date
        diff.changes.append(FieldChange("status", Status(old_status).label, row.status.label))
        if old_date != new_date:
            diff.changes.append(FieldChange("status_date", old_date, new_date))
        date = row.authorisation_date if kind == EventKind.INITIAL_AUTHORISATION else new_date
        event = AuthorisationEvent(product=product, kind=kind, date=date, note=self.note)
        diff.changes.append(FieldChange("event", None, describe_event(event)))
        return [event]

    def event_kind(self, row: ExportRow, product: Product | None) -> EventKind | None:
        if row.status == Status.OPINION:
            return OPINION_EVENTS.get(row.opinion_status)
        if row.status == Status.AUTHORISED and product is not None:
            if product.events.filter(kind=EventKind.INITIAL_AUTHORISATION).exists():
                return None  # back to authorised after a suspension: no event says so
        return STATUS_EVENTS.get(row.status)

    def create(self, row: ExportRow) -> ProductDiff:
        name, aliases = split_name(row.name)
        diff = ProductDiff(name, row.product_number, "created")
        status_date = row.status_date()
        if row.status in ENDED_OR_SUSPENDED and status_date is None:
            diff.action = "not created"
            diff.reviews.append(
                f"the export gives status {show(row.status.label)} without its date, which the "
                "catalogue needs; add the product by hand"
            )
            return diff
        code, problem = self.atc_code(row)
        if problem:
            diff.reviews.append(problem)
        product = Product(
            name=name,
            slug=self.unique_slug(name),
            aliases=aliases,
            inn=row.inn,
            ema_product_number=row.product_number,
            status=row.status,
            status_date=status_date,
            authorisation_date=row.authorisation_date,
            atc_code=code or "",
            epar_url=row.url,
            ema_indication_text=row.indication_text,
            ema_last_updated_date=row.dates[LAST_UPDATED_DATE],
            holder=self.company(row) if row.holder else None,
            is_published=False,
            is_atmp=True,
            atmp_reason=ATMP_REASON,
            ema_advanced_therapy=row.is_advanced_therapy,
            sources=[f"{self.note[:-1]} ({self.export.file_name})"],
            **{
                flag.field: row.flags[flag.field]
                for flag in FLAGS
                if row.status in HELD_AUTHORISATION or not flag.needs_authorisation
            },
        )
        events = []
        if row.authorisation_date:
            events.append((EventKind.INITIAL_AUTHORISATION, row.authorisation_date))
        if row.status != Status.AUTHORISED:
            kind = self.event_kind(row, None)
            if kind:
                events.append((kind, status_date))
        events = [
            AuthorisationEvent(product=product, kind=kind, date=date, note=self.note)
            for kind, date in events
        ]
        self.validate(product, row)
        try:
            product.check_timeline(events)
        except ValidationError as exc:
            raise ExportFormatError(f"{row.where}: {' '.join(exc.messages)}") from exc
        product._change_reason = self.reason
        product.save()
        for event in events:
            event.product = product  # now saved: its id is set
            self.validate(event, row)
            event._change_reason = self.reason
            event.save()
        for name in ("slug", "inn", "status", "status_date", "authorisation_date", "holder",
                     *FLAG_FIELDS, "atc_code", "epar_url", "ema_indication_text",
                     "ema_last_updated_date"):  # fmt: skip
            value = getattr(product, name)
            if name == "status":
                value = Status(value).label
            if value not in (None, ""):
                diff.changes.append(FieldChange(name, None, value))
        for event in events:
            diff.changes.append(FieldChange("event", None, describe_event(event)))
        diff.notes.append(
            "unpublished until a curator sets its category and mechanism and publishes it"
        )
        if row.therapeutic_areas:
            diff.notes.append(
                "therapeutic areas in the export (not imported): "
                + "; ".join(row.therapeutic_areas)
            )
        return diff


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


def name_keys(*names: str) -> set[str]:
    """Names compared without case, accents, punctuation or a parenthesis: "Luxceptar (ATIR101)"
    gives "luxceptar" and "atir101"."""
    keys = set()
    for name in names:
        brand, aliases = split_name(name)
        for text in (brand, *aliases, *re.findall(r"\(([^()]+)\)", name)):
            key = re.sub(r"[^a-z0-9]+", "", _plain(re.sub(r"\([^()]*\)", "", text)))
            if key:
                keys.add(key)
    return keys


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
            if not (row.inn and product.inn) or _plain(row.inn) == _plain(product.inn)
        }
        if len(found) == 1:
            matches[row.product_number] = next(iter(found.values()))
    counts: dict[int, int] = {}
    for product in matches.values():
        counts[product.pk] = counts.get(product.pk, 0) + 1
    return {number: p for number, p in matches.items() if counts[p.pk] == 1}


def propose_number(row: ExportRow, product: Product) -> ProductDiff:
    """A row matched by name: its number is proposed to a curator, nothing is written."""
    diff = ProductDiff(product.name, row.product_number, "unchanged")
    by_inn = " and INN" if row.inn and product.inn else ""
    diff.reviews.append(
        f"proposed: EMA product number {row.product_number} (the export's {row.name!r} matches "
        f"by name{by_inn}; the catalogue has no number for it); once a curator sets it, the "
        "next import keeps the product current"
    )
    return diff


def import_export(export: Export, *, dry_run: bool = False, run_by: str = "") -> ImportReport:
    """Apply ``export`` in one transaction; a dry run rolls it back and records nothing.

    A real run is recorded as an :class:`ImportRun` in the same transaction.
    """
    report = ImportReport(export.file_name, export.generated_at, dry_run, len(export.rows))
    with importing(f"EMA import of {export.file_name}"):  # one import at a time, no admin save
        numbers = [row.product_number for row in export.rows]
        products = {
            product.ema_product_number: product
            for product in Product.objects.select_related("holder")
            .prefetch_related("indications__therapeutic_areas")
            .filter(ema_product_number__in=numbers)
        }
        importer = _Importer(export)
        matched = match_unnumbered(export, set(products))
        rows = select_rows(export, products, matched)
        for row in sorted(rows, key=lambda row: (_plain(row.name), row.product_number)):
            product = products.get(row.product_number)
            if product:
                diff = importer.update(row, product)
            elif row.product_number in matched:
                diff = propose_number(row, matched[row.product_number])
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
) -> ImportReport:
    """Read and apply an export (what the command and the admin call)."""
    return import_export(read_export(source, file_name=file_name), dry_run=dry_run, run_by=run_by)
