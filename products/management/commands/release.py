"""`manage.py release`: write a new release of the open data (products/releases.py).

Prints the version, the folder and each file with its size and SHA-256; a folder that cannot be
written is one line and a non-zero exit.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from products.releases import ReleaseError, write_release


class Command(BaseCommand):
    help = (
        "Write the whole public catalogue as a new release (CSV, JSON, datapackage.json, "
        "changelog, SHA256SUMS) into RELEASES_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            type=Path,
            help="Where releases are kept (default: the RELEASES_DIR setting).",
        )

    def handle(self, *args, directory: Path | None = None, **options):
        try:
            release = write_release(directory=directory)
        except ReleaseError as exc:
            raise CommandError(str(exc)) from exc
        changes = release.changes
        self.stdout.write(
            f"release {release.version}: {release.product_count} products in {release.path}"
        )
        self.stdout.write(
            f"since {changes.get('previous') or 'nothing (first release)'}: added "
            f"{len(changes['added'])}, removed {len(changes['removed'])}, changed "
            f"{len(changes['changed'])}"
        )
        for file in release.files:
            self.stdout.write(f"  {file.sha256}  {file.size:>9,} B  {file.name}")
