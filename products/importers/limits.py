"""Limits on what reading an EMA export may cost: checked before loading, then while reading.

An upload reaches a web worker, so a hostile or broken file must not take its memory or its time.
Each limit is a setting (``IMPORT_MAX_*`` in ``atmp_catalogue/settings.py``, read from the
environment); going over one is an ``ExportFormatError`` whose one line names the limit and its
setting, raised before anything is written.

Before anything is parsed
    The file's size (``IMPORT_MAX_UPLOAD_BYTES``). For a workbook, the zip's directory: every
    part's unpacked size, and all of them together (``IMPORT_MAX_UNZIPPED_BYTES``), and the ratio
    of unpacked to packed size of any part over 1 MB (``IMPORT_MAX_COMPRESSION_RATIO``). Python's
    zip reader never unpacks more than the directory declares (a part that lies fails its
    checksum), so these sizes bound everything read afterwards.

Then, streaming, before openpyxl reads the workbook (:func:`check_workbook`)
    Every part goes through expat with DTDs refused, so an entity bomb stops at its declaration
    (and openpyxl itself parses with defusedxml, installed with the project, which refuses
    entities). Elements are counted, never kept, so memory stays flat, and counting stops at the
    first limit: rows of a sheet, and their numbers (``IMPORT_MAX_ROWS``), cells of a sheet and
    strings of the shared strings (``IMPORT_MAX_CELLS``), cells of a row (:data:`MAX_ROW_CELLS`),
    XML elements of those parts (4 x ``IMPORT_MAX_CELLS``) and of any other part
    (:data:`MAX_OTHER_PART_ELEMENTS`), nesting (:data:`MAX_XML_DEPTH`).

The JSON form (:func:`check_json`)
    Strings are blanked with one linear regular expression, then brackets and commas are
    counted in C: nesting (``IMPORT_MAX_JSON_DEPTH``) and values (``IMPORT_MAX_CELLS``) are known
    before :func:`json.loads` builds anything; its own refusals (Python's 4,300-digit limit on
    integers, ``RecursionError``) become one line too (see ``read_json``).

All the while
    :class:`Deadline` stops reading after ``IMPORT_MAX_SECONDS``.
"""

from __future__ import annotations

import io
import os
import re
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import IO
from xml.parsers import expat

from django.conf import settings

#: Parts over this size must also respect ``IMPORT_MAX_COMPRESSION_RATIO`` (small parts of
#: repetitive XML compress well and harmlessly).
RATIO_FLOOR_BYTES = 1024 * 1024
#: Parts of a workbook; the export has 14.
MAX_PARTS = 1000
#: Elements of a part other than a sheet or the shared strings (styles, theme, drawings: the
#: export's largest has 202). openpyxl holds those parts whole in memory.
MAX_OTHER_PART_ELEMENTS = 10_000
#: XML elements per cell (``<c>``, ``<v>``, an inline string's ``<is><t>``) and per row.
ELEMENTS_PER_CELL = 4
#: Cells of one row: the most a sheet can have (column XFD). openpyxl holds a row whole.
MAX_ROW_CELLS = 16_384
#: Nesting of any part (the export's deepest: 9).
MAX_XML_DEPTH = 64
#: Bytes of a part handed to the parser at a time.
PART_CHUNK_BYTES = 64 * 1024
#: Elements counted between two looks at the clock.
CLOCK_EVERY = 4096
#: Parts whose root holds the data, counted against the rows and cells limits.
SHEET_ROOT = "worksheet"
SHARED_STRINGS_ROOT = "sst"
#: A JSON string; linear (it always matches once started), unterminated strings included.
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
BRACKET_STEP = [0] * 256
BRACKET_STEP[ord("[")] = BRACKET_STEP[ord("{")] = 1
BRACKET_STEP[ord("]")] = BRACKET_STEP[ord("}")] = -1


def refuse(message: str) -> ValueError:
    """The importer's :class:`~products.importers.ema.ExportFormatError` (imported here, late:
    ``ema`` imports this module)."""
    from products.importers.ema import ExportFormatError

    return ExportFormatError(message)


@dataclass(frozen=True)
class ImportLimits:
    upload_bytes: int
    unzipped_bytes: int
    compression_ratio: int
    rows: int
    cells: int
    json_depth: int
    seconds: float

    @classmethod
    def from_settings(cls) -> ImportLimits:
        """The limits as configured now (tests change them with the ``settings`` fixture)."""
        return cls(
            upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            unzipped_bytes=settings.IMPORT_MAX_UNZIPPED_BYTES,
            compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            rows=settings.IMPORT_MAX_ROWS,
            cells=settings.IMPORT_MAX_CELLS,
            json_depth=settings.IMPORT_MAX_JSON_DEPTH,
            seconds=settings.IMPORT_MAX_SECONDS,
        )


class Deadline:
    """``check()`` raises once ``IMPORT_MAX_SECONDS`` have passed since reading began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self.ends:
            raise refuse(
                f"reading the export took longer than the limit of {self.seconds:g} seconds "
                "(IMPORT_MAX_SECONDS)"
            )


def _over(what: str, limit: int, setting: str) -> ValueError:
    """``_over("the sheet has more rows", 20000, "IMPORT_MAX_ROWS")``: one line."""
    return refuse(f"{what} than the limit of {limit:,} ({setting})")


def check_upload_size(size: int, limits: ImportLimits) -> None:
    """The admin's form checks an upload's size with this before storing it."""
    if size > limits.upload_bytes:
        raise refuse(
            f"the file has {size:,} bytes, more than the limit of {limits.upload_bytes:,} "
            "(IMPORT_MAX_UPLOAD_BYTES)"
        )


def check_workbook(data: bytes, limits: ImportLimits, deadline: Deadline) -> None:
    """Check the zip's directory, then stream every part; raise at the first limit."""
    if data.count(b"PK\x01\x02") > MAX_PARTS:  # directory entries, counted before reading them
        raise refuse(f"not the EMA's export: more than {MAX_PARTS:,} parts in the zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise refuse(f"not a readable XLSX workbook ({exc})") from exc
    with archive:
        parts = archive.infolist()
        _check_directory(parts, limits)
        for part in parts:
            _check_part(archive, part, limits, deadline)


def _check_directory(parts: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > limits.unzipped_bytes or total > limits.unzipped_bytes:
            what = (
                f"part {part.filename} of the workbook unpacks to {part.file_size:,} bytes"
                if part.file_size > limits.unzipped_bytes
                else f"the parts of the workbook unpack to more than {total:,} bytes"
            )
            raise refuse(
                f"{what}, more than the limit of {limits.unzipped_bytes:,} "
                "(IMPORT_MAX_UNZIPPED_BYTES)"
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR_BYTES and ratio > limits.compression_ratio:
            raise refuse(
                f"part {part.filename} of the workbook is compressed {ratio:,.0f} to 1, more "
                f"than the limit of {limits.compression_ratio:,} to 1 "
                "(IMPORT_MAX_COMPRESSION_RATIO)"
            )


class _PartScan:
    """Counts one part's elements with expat, holding none of them: memory stays flat."""

    def __init__(self, name: str, limits: ImportLimits, deadline: Deadline) -> None:
        self.name, self.limits, self.deadline = name, limits, deadline
        self.root = ""
        self.depth = self.elements = self.rows = self.cells = self.row_cells = self.strings = 0
        self.element_limit = MAX_OTHER_PART_ELEMENTS

    def start(self, tag: str, attributes) -> None:
        self.depth += 1
        self.elements += 1
        name, limits = self.name, self.limits
        tag = tag.rpartition("}")[2]
        if not self.root:
            self.root = tag
            if tag in (SHEET_ROOT, SHARED_STRINGS_ROOT):
                self.element_limit = ELEMENTS_PER_CELL * limits.cells
        elif self.root == SHEET_ROOT and tag == "row":
            self.rows += 1
            self.row_cells = 0
            if self.rows > limits.rows:
                raise _over(f"sheet {name} has more rows", limits.rows, "IMPORT_MAX_ROWS")
            number = attributes.get("r", "")
            if number.isdigit() and int(number[:12]) > limits.rows:  # openpyxl fills the gap
                raise refuse(
                    f"sheet {name} numbers a row {int(number[:12]):,}, beyond the limit of "
                    f"{limits.rows:,} rows (IMPORT_MAX_ROWS)"
                )
        elif self.root == SHEET_ROOT and tag == "c":
            self.cells += 1
            self.row_cells += 1
            if self.cells > limits.cells:
                raise _over(f"sheet {name} has more cells", limits.cells, "IMPORT_MAX_CELLS")
            if self.row_cells > MAX_ROW_CELLS:
                raise _over(
                    f"row {self.rows:,} of sheet {name} has more cells",
                    MAX_ROW_CELLS,
                    "the most a sheet can have",
                )
        elif self.root == SHARED_STRINGS_ROOT and tag == "si":
            self.strings += 1
            if self.strings > limits.cells:
                raise _over(
                    f"the shared strings ({name}) hold more strings",
                    limits.cells,
                    "IMPORT_MAX_CELLS",
                )
        if self.elements > self.element_limit:
            setting = (
                "a fixed limit for parts other than sheets and shared strings"
                if self.element_limit == MAX_OTHER_PART_ELEMENTS
                else f"{ELEMENTS_PER_CELL} x IMPORT_MAX_CELLS"
            )
            raise _over(f"part {name} holds more XML elements", self.element_limit, setting)
        if self.depth > MAX_XML_DEPTH:
            raise _over(f"part {name} nests XML deeper", MAX_XML_DEPTH, "a fixed limit")
        if self.elements % CLOCK_EVERY == 0:
            self.deadline.check()

    def end(self, tag: str) -> None:
        self.depth -= 1

    def refuse_dtd(self, *args) -> None:
        """A DTD is where entities are declared: the export never has one, so none is read."""
        raise refuse(
            f"part {self.name} of the workbook declares a DTD, which the export never does "
            "(refused: entities could make it an XML bomb)"
        )


def _check_part(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: ImportLimits, deadline: Deadline
) -> None:
    """Stream one part through expat; a part that is not XML (an image) is skipped."""
    scan = _PartScan(part.filename, limits, deadline)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.StartDoctypeDeclHandler = scan.refuse_dtd
    parser.EntityDeclHandler = scan.refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(PART_CHUNK_BYTES):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError:
        return  # not XML (an image); if openpyxl needs it as XML, it says so itself
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
        raise refuse(f"not a readable XLSX workbook ({part.filename}: {exc})") from None
    deadline.check()


def check_json(data: bytes, limits: ImportLimits) -> None:
    """Nesting and number of values of a JSON text, counted without building it."""
    skeleton = JSON_STRING.sub(b'""', data)  # brackets and commas inside strings do not count
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    values = containers + skeleton.count(b",") + 1
    if values > limits.cells:
        raise _over("the JSON holds more values", limits.cells, "IMPORT_MAX_CELLS")
    brackets = skeleton.translate(None, NOT_BRACKETS)
    depth = max(accumulate(map(BRACKET_STEP.__getitem__, brackets)), default=0)
    if depth > limits.json_depth:
        raise refuse(
            f"the JSON is nested {depth:,} deep, more than the limit of {limits.json_depth:,} "
            "(IMPORT_MAX_JSON_DEPTH)"
        )


def read_limited(source: Path | IO[bytes], limits: ImportLimits) -> bytes:
    """The bytes of a path or an open binary file, never more than the upload limit (plus one)."""
    if isinstance(source, Path):
        with open(source, "rb") as stream:
            status = os.fstat(stream.fileno())
            if stat.S_ISREG(status.st_mode):
                check_upload_size(status.st_size, limits)
            data = stream.read(limits.upload_bytes + 1)  # a FIFO or a device is bounded too
    else:
        data = source.read(limits.upload_bytes + 1)
    if len(data) > limits.upload_bytes:
        raise refuse(
            f"the file has more bytes than the limit of {limits.upload_bytes:,} "
            "(IMPORT_MAX_UPLOAD_BYTES)"
        )
    return data
