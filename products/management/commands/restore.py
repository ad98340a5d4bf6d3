"""`make restore FILE=...`: bring back a ``make backup`` file, in one transaction.

The database named by ``DATABASE_URL`` (or the embedded one of ``make run``) is emptied of what
the dump holds and filled from it with ``pg_restore --clean --single-transaction``: if anything
fails, nothing changes. Into a new, empty database it works the same.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from products.management.commands.backup import postgres_program, run


class Command(BaseCommand):
    help = "Restore a backup (pg_dump custom format) into the catalogue's database, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A file written by `make backup`.")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        database = settings.DATABASES["default"]
        connections.close_all()  # this process holds no lock on what pg_restore replaces
        run(
            [
                postgres_program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={database['NAME']}",
                str(file),
            ],
            database=database,
        )
        self.stdout.write(f"restored {file} into {database['NAME']!r}")
