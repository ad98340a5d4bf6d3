"""`make run`: prepare the database and static files, then serve the catalogue with gunicorn."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from atmp_catalogue.localdb import stop_embedded_server


def describe_database() -> str:
    db = settings.DATABASES["default"]
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host") or "localhost"
    port = db.get("PORT") or "5432"
    return f"PostgreSQL at {host}:{port}, database {db.get('NAME')!r}"


def check_database() -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise CommandError(
            f"cannot reach {describe_database()}: {reason}. Check that the server runs and that "
            "DATABASE_URL names the right host, port, user and password."
        ) from None


#: Beside the collected files: the digest of the sources they were collected from.
STATIC_STAMP = ".sources-sha256"


def static_sources_digest() -> str:
    """A digest of every static source file (path, size, time) and of the storage collecting
    them: it changes when a file, an installed package's files or the storage change."""
    digest = hashlib.sha256(repr(settings.STORAGES["staticfiles"]).encode())
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_static() -> None:
    """``collectstatic``, unless STATIC_ROOT already holds these very sources: it compresses
    every file anew each time, seconds of CPU at each start."""
    stamp = Path(settings.STATIC_ROOT) / STATIC_STAMP
    digest = static_sources_digest()
    if stamp.is_file() and stamp.read_text() == digest:
        return
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.parent.mkdir(parents=True, exist_ok=True)  # none where there was nothing to collect
    stamp.write_text(digest)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"port {port} on {host} is already in use ({exc.strerror}); stop what runs "
                f"there or choose another port, e.g. PORT={port + 1} make run"
            ) from None


def interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Migrate, load the catalogue into an empty database, collect static files and serve."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3"))
        )

    def handle(self, *args, **options):
        try:
            self.serve(**options)
        finally:
            # Ctrl-C, SIGTERM or an error: the embedded PostgreSQL (without DATABASE_URL) stops
            # too, whoever started it and whichever command still uses it.
            connection.close()
            stop_embedded_server()

    def serve(self, *, host: str, port: int, workers: int, **options):
        check_port_free(host, port)
        check_database()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        call_command("load_catalogue", if_empty=True)
        call_command("create_roles", verbosity=0)
        collect_static()
        self.stdout.write(f"serving the catalogue on http://{host}:{port}/ (Ctrl-C stops it)")
        self.stdout.flush()
        connection.close()
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "atmp_catalogue.wsgi",
            f"--config={settings.BASE_DIR / 'gunicorn.conf.py'}",
            f"--bind={host}:{port}",
            f"--workers={workers}",
            "--access-logfile=-",
            "--graceful-timeout=5",
        ]
        process = subprocess.Popen(gunicorn, env=os.environ.copy())
        # `kill`, systemd or a container stop send SIGTERM: stop as Ctrl-C does, so that the
        # embedded PostgreSQL stops with it (``handle``).
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGHUP, interrupt)  # the terminal closed
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGTERM)
            code = process.wait()
            self.stdout.write("stopped")
            return
        if code not in (0, -signal.SIGTERM):
            raise CommandError(f"gunicorn exited with status {code}")
