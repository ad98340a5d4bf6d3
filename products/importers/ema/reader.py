"""Reading the export, XLSX or JSON, into :class:`Export`: checked rows, nothing written.

XLSX: the sheet ``Medicine``; banner rows (D1 holds the generation time ``DD/MM/YYYY - HH:MM``),
then the header row, found by its first cell ``Category``, then one row per medicine. JSON: a list
of objects, or an object whose ``data`` (or ``medicines``) key holds that list; each object is
keyed by the same column names, as printed in the workbook or in the EMA's JSON spelling. Every
read is bounded by the ``IMPORT_MAX_*`` limits (:mod:`products.importers.limits`).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from django.utils import timezone

from products.choices import Status
from products.importers import limits
from products.importers.ema.columns import (
    ADVANCED_THERAPY,
    AREAS,
    ATC,
    AUTHORISATION_DATE,
    DATE_COLUMNS,
    FLAG_COLUMNS,
    HEADER_FIRST_CELL,
    HEADER_SEARCH_ROWS,
    HOLDER,
    INDICATION,
    INN,
    KNOWN_COLUMNS,
    NAME,
    NUMBER,
    OPINION_EVENTS,
    OPINION_STATUS,
    REQUIRED_COLUMNS,
    SHEET_NAME,
    STATUS,
    STATUS_DATE_COLUMNS,
    URL,
    ExportFormatError,
    column_key,
)
from products.importers.ema.values import (
    GENERATED_AT,
    as_text,
    clean_indication,
    one_line,
    parse_date,
    parse_flag,
    parse_product_number,
    parse_status,
    plain,
)

XLSX_MAGIC = b"PK\x03\x04"
#: The last workbook read, by its bytes' digest and the limits it was checked against: the
#: admin reads an upload at its preview and again at its confirmation, seconds apart.
_last_workbook: dict[tuple[bytes, limits.ImportLimits], tuple] = {}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
T = TypeVar("T")


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


@dataclass(frozen=True)
class Heading:
    """One column heading as found: its place (a sheet's column index or a JSON key), its text
    and how an error names it (``"row 9, column B"``, ``"record 3, key 'x'"``)."""

    position: int | str
    text: Any
    where: str


def match_columns(headings: Iterable[Heading], *, where: str) -> dict[str, int | str]:
    """Map each known column to its position; an unknown, repeated or missing one is an error."""
    positions: dict[str, int | str] = {}
    for heading in headings:
        key = column_key(heading.text)
        if key not in KNOWN_COLUMNS:
            raise ExportFormatError(f"{heading.where}: unknown column {one_line(heading.text)!r}")
        column = KNOWN_COLUMNS[key]
        if column in positions:
            raise ExportFormatError(f"{heading.where}: column {column!r} appears twice")
        positions[column] = heading.position
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise ExportFormatError(
            f"{where}: missing column(s) {', '.join(repr(column) for column in missing)}"
        )
    return positions


@dataclass(frozen=True)
class RawRecord:
    """One row of the sheet or one record of the JSON as read: a raw value for every known
    column, and how an error names each one's cell (``"column B (Name of medicine)"``)."""

    where: str
    values: dict[str, Any]
    labels: dict[str, str]

    def parsed(self, column: str, parser: Callable[[Any], T]) -> T:
        """``parser(value)``; its ``ValueError`` becomes one line naming the row and the cell."""
        try:
            return parser(self.values[column])
        except ValueError as exc:
            raise self.error(column, str(exc)) from None

    def error(self, column: str, message: str) -> ExportFormatError:
        return ExportFormatError(f"{self.where}, {self.labels[column]}: {message}")

    def to_row(self) -> ExportRow:
        values = self.values
        if not as_text(values[NUMBER]):
            raise self.error(NUMBER, "the product number is empty")
        opinion = plain(values[OPINION_STATUS] or "")
        if opinion not in ("", *OPINION_EVENTS):
            raise self.error(OPINION_STATUS, f"{values[OPINION_STATUS]!r} is not an opinion status")
        areas = tuple(area.strip() for area in as_text(values[AREAS]).split(";") if area.strip())
        return ExportRow(
            where=self.where,
            name=one_line(values[NAME]),
            product_number=self.parsed(NUMBER, parse_product_number),
            status=self.parsed(STATUS, parse_status),
            opinion_status=opinion,
            inn=one_line(values[INN]),
            therapeutic_areas=areas,
            atc_code=one_line(values[ATC]),
            indication_text=clean_indication(values[INDICATION]),
            holder=one_line(values[HOLDER]),
            url=as_text(values[URL]),
            is_advanced_therapy=self.parsed(ADVANCED_THERAPY, parse_flag),
            flags={name: self.parsed(column, parse_flag) for column, name in FLAG_COLUMNS.items()},
            dates={column: self.parsed(column, parse_date) for column in DATE_COLUMNS},
        )


def check_rows(rows: list[ExportRow]) -> list[ExportRow]:
    """No product number twice, no empty name, at least one medicine."""
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


def generated_at(value: Any) -> datetime.datetime | None:
    """The banner's ``27/10/2025 - 06:13`` (the EMA's local time) as an aware datetime."""
    if isinstance(value, datetime.datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    match = GENERATED_AT.match(one_line(value))
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

    bounds = limits.ImportLimits.from_settings()
    deadline = deadline or limits.Deadline(bounds.seconds)
    data = limits.read_limited(source, bounds)
    key = (hashlib.sha256(data).digest(), bounds)
    if key in _last_workbook:  # the same bytes, checked and read within the same limits
        generated, rows = _last_workbook[key]
        return Export(file_name=file_name, generated_at=generated, rows=list(rows))
    limits.check_workbook(data, bounds, deadline)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader failure means "not a readable XLSX"
        raise ExportFormatError(f"not a readable XLSX workbook ({reason(exc)})") from exc
    try:
        if SHEET_NAME not in workbook.sheetnames:
            raise ExportFormatError(
                f"no sheet {SHEET_NAME!r} (sheets: {', '.join(workbook.sheetnames) or 'none'})"
            )
        rows, generated = _read_sheet(workbook[SHEET_NAME], deadline)
    except ExportFormatError:
        raise
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - a truncated or corrupt member of the zip
        raise ExportFormatError(f"not a readable XLSX workbook ({reason(exc)})") from exc
    finally:
        workbook.close()
    rows = check_rows(rows)
    _last_workbook.clear()
    _last_workbook[key] = (generated, tuple(rows))
    return Export(file_name=file_name, generated_at=generated, rows=rows)


def _read_sheet(
    sheet, deadline: limits.Deadline
) -> tuple[list[ExportRow], datetime.datetime | None]:
    """The rows below the header row, and the generation time from the first banner row."""
    from openpyxl.utils import get_column_letter

    banner: list[tuple] = []
    header: tuple | None = None
    header_row = 0
    for number, values in enumerate(
        sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1
    ):
        if values and one_line(values[0]) == HEADER_FIRST_CELL:
            header, header_row = values, number
            break
        banner.append(values)
    if header is None:
        raise ExportFormatError(
            f"sheet {SHEET_NAME!r}: no header row (a row whose first cell is "
            f"{HEADER_FIRST_CELL!r}) in the first {HEADER_SEARCH_ROWS} rows"
        )
    headings = [
        Heading(index, value, f"row {header_row}, column {get_column_letter(index + 1)}")
        for index, value in enumerate(header)
        if as_text(value)
    ]
    width = max(heading.position for heading in headings) + 1
    positions = match_columns(headings, where=f"row {header_row}")
    labels = {
        column: f"column {get_column_letter(index + 1)} ({column})"
        for column, index in positions.items()
    }
    rows = []
    for number, values in enumerate(
        sheet.iter_rows(min_row=header_row + 1, max_col=width, values_only=True),
        start=header_row + 1,
    ):
        deadline.check()
        if not any(as_text(value) for value in values):
            continue
        values = tuple(values) + (None,) * (width - len(values))
        cells = {column: values[index] for column, index in positions.items()}
        rows.append(RawRecord(f"row {number}", cells, labels).to_row())
    first_row = banner[0] if banner else ()
    return rows, next(filter(None, map(generated_at, first_row)), None)


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
        generated = generated_at(payload.get("generated_at") or payload.get("generated") or "")
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
        positions = match_columns(
            (Heading(key, key, f"{where}, key {key!r}") for key in record), where=where
        )
        rows.append(
            RawRecord(
                where,
                values={column: record[key] for column, key in positions.items()},
                labels={column: f"key {key!r}" for column, key in positions.items()},
            ).to_row()
        )
    return Export(file_name=file_name, generated_at=generated, rows=check_rows(rows))


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


def reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())  # one line, whatever the reader's message
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
