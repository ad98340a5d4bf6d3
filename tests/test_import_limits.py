"""Bounded input: every bomb and limit of the EMA import (products/importers/limits.py) is one line
naming its setting, and changes nothing; pending admin uploads live in the database."""

from __future__ import annotations

import datetime
import html
import io
import re
import runpy
import sys
import tempfile
import threading
import zipfile
from itertools import accumulate
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from products.importers import limits
from products.importers.ema import ExportFormatError, read_export
from products.models import ImportRun, PendingImport, Product
from tests.ema_workbooks import (
    REAL_EXPORT,
    kymriah_row,
    medicine,
    real_medicine,
    snapshot,
    write_json,
    write_workbook,
)

SHEET = "xl/worksheets/sheet1.xml"
MIB = 1024 * 1024


def refused(path: Path, message: str) -> None:
    """``import_ema`` stops with exactly ``path: message`` (one line) and changes nothing."""
    kymriah = Product.objects.values().get(slug="kymriah")
    count = Product.objects.count()
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        call_command("import_ema", str(path), stdout=io.StringIO())
    assert str(caught.value) == f"{path}: {message}"
    assert "\n" not in str(caught.value)
    assert Product.objects.count() == count > 0
    assert Product.objects.values().get(slug="kymriah") == kymriah
    assert snapshot() == before
    assert not ImportRun.objects.exists()


def rezip(source: Path, target: Path, *, replace: dict[str, bytes]) -> Path:
    """Copy a workbook's parts, replacing some."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = replace.get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


def refused_with_part(tmp_path: Path, part: str, data: bytes, message: str) -> None:
    """A one-medicine workbook whose ``part`` is replaced by ``data`` is :func:`refused`."""
    name = f"{Path(part).stem}-replaced.xlsx"
    refused(rezip(workbook(tmp_path), tmp_path / name, replace={part: data}), message)


def deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def workbook(tmp_path: Path, name: str = "export.xlsx", rows: int = 1, **options) -> Path:
    numbers = (f"EMEA/H/C/0099{index:02d}" for index in range(1, rows + 1))
    medicines = [medicine(ema_product_number=number) for number in numbers]
    return write_workbook(tmp_path / name, medicines, **options)


def streamed_zip(target: Path, source: Path, name: str, chunks) -> Path:
    """``source``'s parts plus ``name``, deflated as it is written (a bomb costs no memory here)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename), zipfile.ZIP_DEFLATED)
        with new.open(deflated(name), "w") as part:
            for chunk in chunks:
                part.write(chunk)
    return target


# Zip bombs: the directory is checked before anything is parsed --------------------------------


@pytest.fixture
def nothing_parsed(monkeypatch):
    """Records every part handed to the XML scan and every call of openpyxl."""
    parsed = []
    monkeypatch.setattr(limits, "_check_part", lambda archive, part, *a: parsed.append(part))
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: parsed.append("openpyxl"))
    return parsed


def test_a_part_that_unpacks_too_large_is_refused_from_the_zip_directory(
    catalogue, tmp_path, nothing_parsed
):
    zeros = (bytes(MIB) for _ in range(60))  # 60 MiB of zeros: 60 KB on disk
    path = streamed_zip(tmp_path / "bomb.xlsx", workbook(tmp_path), "xl/bomb.xml", zeros)
    assert path.stat().st_size < 200_000
    refused(
        path,
        "part xl/bomb.xml of the workbook unpacks to 62,914,560 bytes, more than the limit of "
        "52,428,800 (IMPORT_MAX_UNZIPPED_BYTES)",
    )
    assert nothing_parsed == []


def test_parts_that_unpack_too_large_together_are_refused(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 15_000  # each part of the small workbook is under it
    path = workbook(tmp_path)
    with zipfile.ZipFile(path) as archive:
        sizes = [info.file_size for info in archive.infolist()]
    assert max(sizes) < 15_000 < sum(sizes)
    total = next(total for total in accumulate(sizes) if total > 15_000)
    refused(
        path,
        f"the parts of the workbook unpack to more than {total:,} bytes, more than the limit of "
        "15,000 (IMPORT_MAX_UNZIPPED_BYTES)",
    )


def test_a_highly_compressed_part_is_refused_from_the_zip_directory(
    catalogue, tmp_path, nothing_parsed
):
    zeros = (bytes(MIB) for _ in range(4))
    path = streamed_zip(tmp_path / "ratio.xlsx", workbook(tmp_path), "xl/padding.xml", zeros)
    with zipfile.ZipFile(path) as archive:
        part = archive.getinfo("xl/padding.xml")
    ratio = part.file_size / part.compress_size
    assert ratio > 900
    refused(
        path,
        f"part xl/padding.xml of the workbook is compressed {ratio:,.0f} to 1, more than the "
        "limit of 100 to 1 (IMPORT_MAX_COMPRESSION_RATIO)",
    )
    assert nothing_parsed == []


# XML bombs --------------------------------------------------------------------------------------


def _entity(n: int) -> str:
    expansion = f"&lol{n - 1};" * 10 if n else "lol"
    return f'<!ENTITY lol{n} "{expansion}">'


#: The "billion laughs": ten entities, each ten of the one before, in the sheet's first cell.
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz ['
    + "".join(_entity(n) for n in range(10))
    + ']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    "</sheetData></worksheet>"
).encode()


def test_an_xml_entity_bomb_is_refused_at_its_dtd(catalogue, tmp_path):
    assert b"<!ENTITY lol9 " in LAUGHS
    refused_with_part(
        tmp_path,
        SHEET,
        LAUGHS,
        f"part {SHEET} of the workbook declares a DTD, which the export never does (refused: "
        "entities could make it an XML bomb)",
    )


def test_openpyxl_refuses_entities_too(catalogue, tmp_path, monkeypatch):
    """The second guard: openpyxl parses with defusedxml (installed), were the scan skipped."""
    assert openpyxl.DEFUSEDXML is True
    monkeypatch.setattr(limits, "check_workbook", lambda *args: None)
    path = rezip(workbook(tmp_path), tmp_path / "laughs.xlsx", replace={SHEET: LAUGHS})
    with pytest.raises(ExportFormatError) as caught:
        read_export(path)
    assert str(caught.value).startswith("not a readable XLSX workbook (ValueError: Unable to read")
    assert "\n" not in str(caught.value)
    causes, cause = [], caught.value
    while cause := cause.__cause__ or cause.__context__:
        causes.append(type(cause).__name__)
    assert "EntitiesForbidden" in causes, causes


def test_millions_of_shared_strings_stop_at_the_cells_limit(catalogue, tmp_path, settings):
    # Three million empty strings deflate 1,000 to 1; the ratio guard is tested above and is
    # raised here so that the count of strings must be what stops the file.
    settings.IMPORT_MAX_COMPRESSION_RATIO = 100_000
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings = (b"<si><t/></si>" * 100_000 for _ in range(30))
    path = streamed_zip(
        tmp_path / "strings.xlsx",
        workbook(tmp_path),
        "xl/sharedStrings.xml",
        [head, *strings, b"</sst>"],
    )
    assert path.stat().st_size < 100_000
    refused(
        path,
        "the shared strings (xl/sharedStrings.xml) hold more strings than the limit of "
        "1,000,000 (IMPORT_MAX_CELLS)",
    )


# Rows, cells, size, time ------------------------------------------------------------------------


def test_a_part_with_more_elements_than_styles_need_is_refused(catalogue, tmp_path):
    styles = b"<styleSheet>" + b"<xf/>" * 10_000 + b"</styleSheet>"  # with its root: 10,001
    refused_with_part(
        tmp_path,
        "xl/styles.xml",
        styles,
        "part xl/styles.xml holds more XML elements than the limit of 10,000 (a fixed limit for "
        "parts other than sheets and shared strings)",
    )


def test_xml_nested_too_deep_is_refused(catalogue, tmp_path):
    styles = b"<a>" * 65 + b"</a>" * 65
    refused_with_part(
        tmp_path,
        "xl/styles.xml",
        styles,
        "part xl/styles.xml nests XML deeper than the limit of 64 (a fixed limit)",
    )


def test_a_zip_of_a_thousand_parts_is_refused_before_its_directory_is_read(catalogue, tmp_path):
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(1001):
            archive.writestr(f"part{number}.xml", b"")
    refused(path, "not the EMA's export: more than 1,000 parts in the zip")


def test_a_sheet_with_too_many_rows_is_refused(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 2
    path = workbook(tmp_path, rows=2, banner_rows=0)  # the header and two medicines
    refused(path, f"sheet {SHEET} has more rows than the limit of 2 (IMPORT_MAX_ROWS)")


def _sheet(rows: str) -> bytes:
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def test_a_row_numbered_beyond_the_rows_limit_is_refused(catalogue, tmp_path):
    # openpyxl would hand over every empty row up to it, one by one.
    sheet = _sheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"/>')
    refused_with_part(
        tmp_path,
        SHEET,
        sheet,
        f"sheet {SHEET} numbers a row 1,048,576, beyond the limit of 20,000 rows (IMPORT_MAX_ROWS)",
    )


def test_a_row_wider_than_a_sheet_can_be_is_refused(catalogue, tmp_path):
    # openpyxl holds a row whole: one row may not take the whole cells limit.
    sheet = _sheet('<row r="1">' + "<c><v>1</v></c>" * 16_385 + "</row>")
    refused_with_part(
        tmp_path,
        SHEET,
        sheet,
        f"row 1 of sheet {SHEET} has more cells than the limit of 16,384 "
        "(the most a sheet can have)",
    )


def test_a_sheet_with_too_many_cells_is_refused(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_CELLS = 50
    path = workbook(tmp_path, rows=1, banner_rows=0)
    refused(path, f"sheet {SHEET} has more cells than the limit of 50 (IMPORT_MAX_CELLS)")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    path = workbook(tmp_path)
    refused(
        path,
        f"the file has {path.stat().st_size:,} bytes, more than the limit of 1,000 "
        "(IMPORT_MAX_UPLOAD_BYTES)",
    )


@pytest.mark.parametrize("form", ["xlsx", "json"])
def test_reading_stops_at_the_time_limit(catalogue, tmp_path, settings, form):
    settings.IMPORT_MAX_SECONDS = 0
    if form == "xlsx":
        path = workbook(tmp_path)
    else:
        path = write_json(tmp_path / "export.json", [medicine()])
    refused(path, "reading the export took longer than the limit of 0 seconds (IMPORT_MAX_SECONDS)")


# JSON ------------------------------------------------------------------------------------------


def test_json_nested_deeper_than_the_limit_is_refused_before_parsing(catalogue, tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 1000 + b"]" * 1000)
    refused(
        path, "the JSON is nested 1,000 deep, more than the limit of 20 (IMPORT_MAX_JSON_DEPTH)"
    )


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    path = write_json(tmp_path / "export.json", [medicine(therapeutic_indication="[[[[" * 100)])
    [row] = read_export(path).rows
    assert row.indication_text == "[[[[" * 100


def test_json_deeper_than_python_reads_is_one_line(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_JSON_DEPTH = 1_000_000  # the limit raised past Python's recursion limit
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    refused(
        path,
        "the JSON is nested deeper than Python can read (RecursionError; lower "
        "IMPORT_MAX_JSON_DEPTH)",
    )


@pytest.mark.skipif(
    not hasattr(sys, "get_int_max_str_digits"), reason="Python 3.11 limits integer digits"
)
def test_a_4300_digit_integer_is_one_line(catalogue, tmp_path):
    path = tmp_path / "digits.json"
    path.write_text('[{"revision_number": ' + "7" * 4301 + "}]")
    refused(
        path,
        "the JSON holds an integer of more than 4,300 digits, the limit of Python "
        "(PYTHONINTMAXSTRDIGITS)",
    )


def test_json_with_too_many_values_is_refused_before_parsing(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_CELLS = 50
    path = write_json(tmp_path / "export.json", [medicine()])  # 39 keys and values: 41 values
    assert read_export(path).rows
    path = write_json(tmp_path / "export.json", [medicine(), medicine()])
    refused(path, "the JSON holds more values than the limit of 50 (IMPORT_MAX_CELLS)")


def test_json_with_too_many_records_is_refused(catalogue, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 1
    rows = [medicine(), medicine(ema_product_number="EMEA/H/C/009902")]
    path = write_json(tmp_path / "export.json", rows, wrap=True)
    refused(path, "the JSON holds 2 records, more than the limit of 1 (IMPORT_MAX_ROWS)")


# The real export --------------------------------------------------------------------------------


#: The defaults of atmp_catalogue/settings.py, README and .env.example.
DEFAULTS = {
    "IMPORT_MAX_UPLOAD_BYTES": 20 * MIB,
    "IMPORT_MAX_UNZIPPED_BYTES": 50 * MIB,
    "IMPORT_MAX_COMPRESSION_RATIO": 100,
    "IMPORT_MAX_ROWS": 20_000,
    "IMPORT_MAX_CELLS": 1_000_000,
    "IMPORT_MAX_JSON_DEPTH": 20,
    "IMPORT_MAX_SECONDS": 20,
}


def test_the_defaults_are_those_documented(monkeypatch):
    base = Path(django_settings.BASE_DIR)
    for name in DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    module = runpy.run_path(str(base / "atmp_catalogue" / "settings.py"))  # no side effects
    assert {name: module[name] for name in DEFAULTS} == DEFAULTS
    example = dict(
        line.split("=", 1)
        for line in (base / ".env.example").read_text().splitlines()
        if line.startswith("IMPORT_MAX_")
    )
    assert {name: float(value) for name, value in example.items()} == DEFAULTS


def test_the_real_export_reads_within_the_default_limits(settings):
    for name, value in DEFAULTS.items():  # whatever this machine's environment sets
        setattr(settings, name, value)
    export = read_export(REAL_EXPORT)
    assert len(export.rows) == 2623
    assert export.generated_at.isoformat() == "2025-10-27T06:13:00+01:00"


# Pending uploads of the admin -------------------------------------------------------------------

IMPORT_URL = "admin:products_importrun_import"


def preview(client, path: Path):
    with open(path, "rb") as handle:
        return client.post(reverse(IMPORT_URL), {"file": handle, "action": "preview"})


def answer(client, token: str, action: str = "confirm"):
    """Confirm or cancel, and follow the redirect to the page that shows the outcome."""
    return client.post(reverse(IMPORT_URL), {"token": token, "action": action}, follow=True)


def flashed(response) -> list[str]:
    """The messages shown on the page ``answer`` was sent to, read from its HTML: the test
    client's ``response.context`` collects the templates rendered in every thread at once, so
    two clients answering in two threads could each read the other's messages."""
    listed = re.search(r'<ul class="messagelist">(.*?)</ul>', response.content.decode(), re.S)
    items = re.findall(r"<li[^>]*>(.*?)</li>", listed.group(1), re.S) if listed else []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def refused_upload(client, path: Path, message: str) -> None:
    """The admin's upload form shows exactly ``message``, keeps nothing and changes nothing."""
    before = snapshot()
    page = preview(client, path)
    assert page.status_code == 200
    assert page.context["form"].errors["file"] == [message]
    assert not PendingImport.objects.exists()
    assert snapshot() == before


def test_an_upload_over_the_size_limit_is_a_form_error(admin_client, catalogue, tmp_path, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    path = workbook(tmp_path)
    size = path.stat().st_size
    message = f"the file has {size:,} bytes, more than the limit of 1,000 (IMPORT_MAX_UPLOAD_BYTES)"
    refused_upload(admin_client, path, message)


def test_a_bomb_uploaded_in_the_admin_is_a_form_error(admin_client, catalogue, tmp_path):
    path = rezip(workbook(tmp_path), tmp_path / "laughs.xlsx", replace={SHEET: LAUGHS})
    refused_upload(
        admin_client,
        path,
        f"part {SHEET} of the workbook declares a DTD, which the export never does (refused: "
        "entities could make it an XML bomb)",
    )


def test_a_preview_keeps_the_upload_in_the_database(admin_client, admin_user, catalogue, tmp_path):
    path = workbook(tmp_path, "medicines-output.xlsx")
    page = preview(admin_client, path)
    assert page.status_code == 200
    pending = PendingImport.objects.get()
    assert pending.token == page.context["token"]
    assert len(pending.token) >= 40
    assert (pending.file_name, pending.uploaded_by) == ("medicines-output.xlsx", admin_user)
    assert bytes(pending.data) == path.read_bytes()
    assert "ema_import_uploads" not in admin_client.session  # the session holds no paths


def test_another_instance_confirms_with_nothing_on_local_disk(
    admin_client, admin_user, catalogue, tmp_path, monkeypatch
):
    token = preview(admin_client, workbook(tmp_path, "medicines-output.xlsx")).context["token"]
    # Another web machine: its own empty temporary directory, and a session of its own.
    other_tmp = tmp_path / "other-machine-tmp"
    other_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(other_tmp))
    other_instance = Client()
    other_instance.force_login(admin_user)
    done = answer(other_instance, token)
    run = ImportRun.objects.get()
    assert done.redirect_chain == [(reverse("admin:products_importrun_change", args=[run.pk]), 302)]
    assert (run.file_name, run.created) == ("medicines-output.xlsx", 1)
    assert Product.objects.filter(ema_product_number="EMEA/H/C/009901").exists()
    assert not PendingImport.objects.exists()
    assert list(other_tmp.iterdir()) == []


@pytest.mark.parametrize(
    ("action", "message", "created"),
    [
        ("confirm", "Imported export.xlsx: created 1, updated 0, unchanged 0, flagged for review 0",
         1),
        ("cancel", "Import cancelled; nothing was changed.", 0),
    ],
)  # fmt: skip
def test_confirm_and_cancel_remove_the_upload(admin_client, catalogue, tmp_path, action, message,
                                              created):  # fmt: skip
    token = preview(admin_client, workbook(tmp_path)).context["token"]
    response = answer(admin_client, token, action)
    assert flashed(response) == [message]
    assert Product.objects.filter(ema_product_number="EMEA/H/C/009901").count() == created
    assert not PendingImport.objects.exists()
    again = answer(admin_client, token)
    assert flashed(again) == ["That upload has expired; please upload the file again."]
    assert ImportRun.objects.count() == created


def test_a_failed_confirmation_removes_the_upload_and_changes_nothing(
    admin_client, catalogue, tmp_path, settings
):
    token = preview(admin_client, workbook(tmp_path)).context["token"]
    settings.IMPORT_MAX_ROWS = 2  # tightened between preview and confirmation
    before = snapshot()
    response = answer(admin_client, token)
    assert response.redirect_chain == [(reverse(IMPORT_URL), 302)]
    assert flashed(response) == [  # the admin writes a message with a capital first letter
        f"Export.xlsx: sheet {SHEET} numbers a row 9, beyond the limit of 2 rows (IMPORT_MAX_ROWS)"
    ]
    assert snapshot() == before
    assert not PendingImport.objects.exists()


def test_a_failed_preview_keeps_nothing(admin_client, catalogue, tmp_path):
    path = write_workbook(tmp_path / "x.xlsx", [medicine(orphan_medicine="Vielleicht")])
    page = preview(admin_client, path)
    assert page.context["form"].errors["file"]
    assert not PendingImport.objects.exists()


def test_another_user_cannot_confirm_or_cancel_an_upload(
    admin_client, catalogue, tmp_path, django_user_model
):
    token = preview(admin_client, workbook(tmp_path)).context["token"]
    other = django_user_model.objects.create_superuser("other", password="x")
    other_client = Client()
    other_client.force_login(other)
    for action in ("confirm", "cancel"):
        response = answer(other_client, token, action)
        assert response.redirect_chain == [(reverse(IMPORT_URL), 302)]
        assert flashed(response) == ["That upload has expired; please upload the file again."]
    assert not ImportRun.objects.exists()
    assert not Product.objects.filter(ema_product_number="EMEA/H/C/009901").exists()
    assert PendingImport.objects.get().token == token  # still the uploader's to confirm
    answer(admin_client, token)
    assert ImportRun.objects.get().created == 1


def _pending(user, age: datetime.timedelta) -> PendingImport:
    pending = PendingImport.objects.create(
        token=f"token-{age.total_seconds():.0f}", file_name="x.xlsx", data=b"x", uploaded_by=user
    )
    PendingImport.objects.filter(pk=pending.pk).update(created_at=timezone.now() - age)
    return pending


def test_uploads_older_than_a_day_are_removed_when_the_form_is_used(admin_client, admin_user):
    old = _pending(admin_user, datetime.timedelta(hours=25))
    fresh = _pending(admin_user, datetime.timedelta(hours=23))
    assert admin_client.get(reverse(IMPORT_URL)).status_code == 200
    assert list(PendingImport.objects.values_list("pk", flat=True)) == [fresh.pk]
    stale = answer(admin_client, old.token)
    assert flashed(stale) == ["That upload has expired; please upload the file again."]


def test_an_expired_upload_cannot_be_confirmed(admin_client, admin_user, catalogue):
    old = _pending(admin_user, datetime.timedelta(hours=25))
    response = answer(admin_client, old.token)
    assert flashed(response) == ["That upload has expired; please upload the file again."]
    assert not PendingImport.objects.exists()
    assert not ImportRun.objects.exists()


def test_clear_pending_imports_removes_uploads_older_than_a_day(admin_user):
    _pending(admin_user, datetime.timedelta(days=3))
    _pending(admin_user, datetime.timedelta(hours=25))
    fresh = _pending(admin_user, datetime.timedelta(minutes=5))
    out = io.StringIO()
    call_command("clear_pending_imports", stdout=out)
    assert out.getvalue() == "removed 2 pending upload(s) older than a day\n"
    assert list(PendingImport.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_import_once(catalogue, admin_user, tmp_path):
    """A double click reaching two web instances: one request takes the upload, one finds none."""
    uploader = Client()
    uploader.force_login(admin_user)
    token = preview(uploader, workbook(tmp_path)).context["token"]
    instances = [Client(), Client()]
    for instance in instances:
        instance.force_login(admin_user)
    start = threading.Barrier(len(instances))
    outcomes: list[str] = []

    def confirm(instance: Client) -> None:
        try:
            start.wait()
            outcomes.extend(flashed(answer(instance, token)))
        except Exception as exc:  # a server error, shown in the assertion below
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [
        "Imported export.xlsx: created 1, updated 0, unchanged 0, flagged for review 0",
        "That upload has expired; please upload the file again.",
    ]
    assert ImportRun.objects.get().created == 1
    assert Product.objects.filter(ema_product_number="EMEA/H/C/009901").count() == 1
    assert not PendingImport.objects.exists()


def test_the_same_workbook_read_again_is_not_parsed_again_unless_the_limits_changed(
    tmp_path, settings, monkeypatch
):
    """The admin reads an upload at its preview and again at its confirmation."""
    path = write_workbook(tmp_path / "export.xlsx", [kymriah_row()])
    opened = []
    load_workbook = openpyxl.load_workbook
    monkeypatch.setattr(
        openpyxl, "load_workbook", lambda *a, **k: opened.append(1) or load_workbook(*a, **k)
    )
    first = read_export(path)
    again = read_export(path, file_name="renamed.xlsx")
    assert len(opened) == 1
    assert again.rows == first.rows and again.rows is not first.rows
    assert (again.file_name, again.generated_at) == ("renamed.xlsx", first.generated_at)
    write_workbook(path, [kymriah_row(), real_medicine("Hemgenix")])
    assert len(read_export(path).rows) == 2 and len(opened) == 2  # other bytes: read anew
    settings.IMPORT_MAX_CELLS = 50  # stricter limits: checked again, and refused
    with pytest.raises(ExportFormatError, match="IMPORT_MAX_CELLS"):
        read_export(path)
