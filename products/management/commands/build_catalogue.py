"""Regenerate fixtures/catalogue.json from the fact sheet and the editors' curation."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.importers.factsheet import build_catalogue

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "Build fixtures/catalogue.json from the fact sheet and fixtures/curation.json."

    def add_arguments(self, parser):
        parser.add_argument("--sheet", type=Path, default=FIXTURES / "source" / "ema_atmps.json")
        parser.add_argument("--curation", type=Path, default=FIXTURES / "curation.json")
        parser.add_argument("--output", type=Path, default=FIXTURES / "catalogue.json")

    def handle(self, *args, sheet: Path, curation: Path, output: Path, **options):
        try:
            data = build_catalogue(
                json.loads(sheet.read_text(encoding="utf-8")),
                json.loads(curation.read_text(encoding="utf-8")),
            )
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{sheet}: {exc}") from exc
        output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(f"wrote {len(data['products'])} products to {output}")
