"""Load the catalogue data (fixtures/catalogue.json) through the validating importer."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.importers.catalogue import load_catalogue
from products.locks import CatalogueBusy
from products.models import Product


class Command(BaseCommand):
    help = "Load fixtures/catalogue.json, all or nothing (--if-empty: only into an empty one)."

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=Path(settings.BASE_DIR) / "fixtures" / "catalogue.json",
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if products exist.")

    def handle(self, *args, file: Path, if_empty: bool, **options):
        if if_empty and Product.objects.exists():
            self.stdout.write(
                f"catalogue already holds {Product.objects.count()} products; not loading"
            )
            return
        try:
            report = load_catalogue(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError, CatalogueBusy) as exc:
            raise CommandError(f"{file}: {exc}") from exc
        self.stdout.write(f"loaded {file.name}: {report}")
