"""``manage.py import_ema FILE [--dry-run]``: a thin command over products/importers/ema.py."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from products.importers import ema
from products.models import ImportRun, Product
from tests.ema_workbooks import REAL_EXPORT, medicine, snapshot, write_workbook


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("import_ema", *args, stdout=out)
    return out.getvalue().splitlines()


def test_a_dry_run_prints_the_diff_and_changes_nothing(catalogue):
    """On a fresh catalogue the export of 27/10/2025 is no news but one proposal."""
    before = snapshot()
    lines = run(str(REAL_EXPORT), "--dry-run")
    assert snapshot() == before
    assert not ImportRun.objects.exists()
    assert lines == [
        "Breyanzi (EMEA/H/C/004731): unchanged",
        "  flagged for review: proposed therapeutic area(s) from the export's MeSH column, for a "
        "curator to place on an indication: Mediastinal Neoplasms",
        "dry run, nothing changed: created 0, updated 0, unchanged 44, flagged for review 1",
    ]


def test_a_dry_run_on_an_older_catalogue_shows_what_changed(catalogue):
    """A catalogue that still holds the flags at authorisation as its flags now (as before
    migration 0009) learns the register's values, each change dated by the export."""
    Product.objects.filter(slug="carvykti").update(is_conditional=True)
    Product.objects.get(slug="carvykti").events.filter(kind="conversion").delete()
    lines = run(str(REAL_EXPORT), "--dry-run")
    carvykti = lines.index("Carvykti (EMEA/H/C/005095): updated")
    assert lines[carvykti + 1 : carvykti + 3] == [
        "  is_conditional: yes -> no",
        "  event added: Conversion from conditional to standard authorisation (by 2025-10-27)",
    ]
    assert lines[-1] == (
        "dry run, nothing changed: created 0, updated 1, unchanged 43, flagged for review 1"
    )


def test_a_real_run_prints_its_diff_and_is_recorded(catalogue, tmp_path):
    path = write_workbook(tmp_path / "medicines-output.xlsx", [medicine()])
    lines = run(str(path))
    assert lines[0] == "Testagene (EMEA/H/C/009901): created"
    assert lines[-1] == "created 1, updated 0, unchanged 0, flagged for review 0"
    run_record = ImportRun.objects.get()
    assert (run_record.file_name, run_record.created, run_record.dry_run) == (
        "medicines-output.xlsx",
        1,
        False,
    )
    assert run_record.run_by.endswith("(manage.py import_ema)")
    assert run_record.diff.splitlines() == lines[:-1]
    assert Product.objects.get(slug="testagene").is_published is False


def test_importing_the_real_export_again_updates_nothing(catalogue):
    first = run(str(REAL_EXPORT))
    assert first[-1] == "created 0, updated 0, unchanged 44, flagged for review 1"
    before = snapshot(without=("products.ImportRun",))
    second = run(str(REAL_EXPORT))
    assert second[-1] == "created 0, updated 0, unchanged 44, flagged for review 1"
    assert snapshot(without=("products.ImportRun",)) == before
    # What is left is for curators only: one product, with its reason.
    assert sum(not line.startswith(" ") for line in second[:-1]) == 1
    assert all("flagged for review" in line for line in second[:-1] if line.startswith(" "))
    assert [run.updated for run in ImportRun.objects.order_by("started_at")] == [0, 0]


def _truncated(tmp_path):
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(REAL_EXPORT.read_bytes()[:400_000])
    return path


def _text_file(tmp_path):
    path = tmp_path / "medicines.xlsx"
    path.write_text("Category,Name of medicine\nHuman,Kymriah\n")
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "missing.xlsx", "No such file or directory"),
        (lambda tmp: tmp, "Is a directory"),
        (_text_file, "neither an XLSX workbook nor JSON"),
        (_truncated, "not a readable XLSX workbook"),
        (
            lambda tmp: write_workbook(tmp / "x.xlsx", [medicine()], sheet="Medicines"),
            "no sheet 'Medicine' (sheets: Medicines)",
        ),
        (
            lambda tmp: write_workbook(
                tmp / "x.xlsx", [medicine()], rename={"Orphan medicine": "Orphan drug"}
            ),
            "row 9, column X: unknown column 'Orphan drug'",
        ),
        (
            lambda tmp: write_workbook(
                tmp / "x.xlsx",
                [
                    medicine(),
                    medicine(ema_product_number="EMEA/H/C/009902", advanced_therapy="Peut-être"),
                ],
            ),  # fmt: skip
            "row 11, column S (Advanced therapy): 'Peut-être' is not a yes/no value",
        ),
        (
            lambda tmp: write_workbook(
                tmp / "x.xlsx",
                [medicine(medicine_status="Withdrawn", **{ema.END_DATE: "01/01/2020"})],
            ),
            "row 10 (EMEA/H/C/009901): column "
            "'Withdrawal / expiry / revocation / lapse of marketing authorisation date': "
            "The status date cannot be before the first authorisation.",
        ),
    ],
)
def test_a_bad_file_is_one_line_and_changes_nothing(catalogue, tmp_path, make, reason):
    path = make(tmp_path)
    before = snapshot()
    with pytest.raises(CommandError) as caught:
        run(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message
    assert snapshot() == before


def test_an_interrupted_run_changes_nothing(catalogue, tmp_path, monkeypatch):
    original = ema._Importer.update

    def interrupted(self, row, product):
        original(self, row, product)  # the first product is saved, then the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(ema._Importer, "update", interrupted)
    before = snapshot()
    with pytest.raises(CommandError, match=r"interrupted; nothing was changed$"):
        run(str(REAL_EXPORT))
    assert snapshot() == before


def test_the_command_exits_non_zero_with_one_line(tmp_path):
    path = _text_file(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "import_ema", str(path)],
        cwd=settings.BASE_DIR,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {path}: neither an XLSX workbook nor JSON"
    ]
