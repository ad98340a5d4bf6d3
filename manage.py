#!/usr/bin/env python
"""Django's command-line utility. With no DATABASE_URL it uses the embedded PostgreSQL."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmp_catalogue.settings")
    from atmp_catalogue.localdb import LocalDatabaseError, configure_environment

    try:
        configure_environment()
    except LocalDatabaseError as exc:
        sys.exit(f"Error: {exc}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
