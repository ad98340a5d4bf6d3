"""Import the EMA's medicines export (XLSX or JSON):
``manage.py import_ema FILE [--dry-run] [--only NUMBER]… [--skip NUMBER]…``."""

import getpass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from products.importers.ema import ExportFormatError, import_file
from products.locks import CatalogueBusy


class Command(BaseCommand):
    help = (
        "Import the advanced-therapy rows of the EMA's medicines export (XLSX, or its JSON form) "
        "and the rows of products the catalogue holds; print the diff and a summary. All or "
        "nothing: on any error the database stays as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The export, e.g. medicines-output-….xlsx")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the diff; change nothing."
        )
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument(
            "--only",
            action="append",
            metavar="NUMBER",
            help="Import only this product (EMA product number, e.g. EMEA/H/C/004090); repeatable.",
        )
        choice.add_argument(
            "--skip",
            action="append",
            default=[],
            metavar="NUMBER",
            help="Leave this product exactly as it is (EMA product number); repeatable.",
        )

    def handle(self, *args, file: Path, dry_run: bool, only, skip, **options):
        try:
            report = import_file(file, dry_run=dry_run, run_by=_who(), only=only, skip=skip)
        except (OSError, ExportFormatError, ValidationError, CatalogueBusy) as exc:
            raise CommandError(f"{file}: {_message(exc)}") from exc
        except KeyboardInterrupt as exc:
            raise CommandError(f"{file}: interrupted; nothing was changed") from exc
        for line in report.diff_lines():
            self.stdout.write(line)
        prefix = "dry run, nothing changed: " if dry_run else ""
        self.stdout.write(f"{prefix}{report.summary}")


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _who() -> str:
    try:
        return f"{getpass.getuser()} (manage.py import_ema)"
    except (KeyError, OSError):
        return "manage.py import_ema"
