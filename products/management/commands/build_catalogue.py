"""Regenerate fixtures/catalogue.json from the fact sheet, the EMA export and the curation."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.importers.ema import ExportFormatError, read_export
from products.importers.factsheet import build_catalogue

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SOURCE = FIXTURES / "source"


def read_sources(sheet: Path, curation: Path, export: Path, changes: Path | None) -> dict:
    """The build's inputs, read (the changes file is optional)."""
    rows = {row.product_number: row for row in read_export(export).rows}
    return {
        "sheet": json.loads(sheet.read_text(encoding="utf-8")),
        "curation": json.loads(curation.read_text(encoding="utf-8")),
        "export_rows": rows,
        "changes": (
            json.loads(changes.read_text(encoding="utf-8"))
            if changes and changes.exists()
            else None
        ),
    }


class Command(BaseCommand):
    help = (
        "Build fixtures/catalogue.json from the fact sheet (values at first authorisation), the "
        "EMA's export (the register's values now), the dated changes and fixtures/curation.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sheet", type=Path, default=SOURCE / "ema_atmps.json")
        parser.add_argument("--curation", type=Path, default=FIXTURES / "curation.json")
        parser.add_argument(
            "--export", type=Path, default=SOURCE / "ema_medicines_output_2025-10-27.xlsx"
        )
        parser.add_argument("--changes", type=Path, default=SOURCE / "ema_atmps_changes.json")
        parser.add_argument("--output", type=Path, default=FIXTURES / "catalogue.json")

    def handle(self, *args, sheet, curation, export, changes, output, **options):
        try:
            inputs = read_sources(sheet, curation, export, changes)
            data = build_catalogue(
                inputs["sheet"],
                inputs["curation"],
                export_rows=inputs["export_rows"],
                changes=inputs["changes"],
            )
        except (OSError, ValueError, KeyError, ExportFormatError) as exc:
            raise CommandError(f"{sheet}: {exc}") from exc
        output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(f"wrote {len(data['products'])} products to {output}")
