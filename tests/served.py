"""Helpers for the tests that need a real server: gunicorn in a subprocess, on loopback.

The server runs the project's WSGI application with ``tests.served_settings``: production
settings (DEBUG off), except that static files are served from the source folders, as in the
rest of the suite, so no ``collectstatic`` is needed, and passwords are hashed cheaply.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from bench.instances import BASE_DIR, Gunicorn


def database_url(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` naming the database of a Django connection's settings."""
    options = settings_dict.get("OPTIONS", {})
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    url = f"postgres://{credentials}{'' if host.startswith('/') else host}{port}/"
    url += quote(settings_dict["NAME"])
    socket_dir = host if host.startswith("/") else options.get("host")
    return url + (f"?host={quote(socket_dir)}" if socket_dir else "")


class Server(Gunicorn):
    """A gunicorn of the tests (``bench.instances.Gunicorn``) and how to ask it."""

    def get(self, path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
        """Status, headers and body of a GET (errors are answers too, never exceptions)."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")


def start_gunicorn(database_url: str, log: Path, *, workers: int = 2, **env: str) -> Server:
    """gunicorn on a free loopback port; returns once it answers (any status) or fails."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.served_settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "tests-only-not-secret",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_ANON_RATE": "1000000/second",
        "LOG_LEVEL": "ERROR",
        **env,
    }
    options = ("--graceful-timeout=2", "--timeout=30")
    return Server(
        environment,
        workers=workers,
        log_file=log,
        options=options,
        ready_path="/healthz/ping",
        any_status=True,
    )


def manage(*args: str, url: str, check: bool = True) -> subprocess.CompletedProcess:
    """``manage.py`` in a process of its own, on the database at ``url`` (and no other)."""
    skipped = ("DATABASE_REPLICA_URL", "REDIS_URL")
    environment = {name: value for name, value in os.environ.items() if name not in skipped}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**environment, "DATABASE_URL": url, "SECRET_KEY": "tests-only-not-secret"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, f"manage.py {args[0]}: {result.stdout}{result.stderr}"
    return result


def connect(settings_dict: dict, name: str) -> psycopg.Connection:
    """An autocommit connection to database ``name`` of a Django connection's server."""
    options = settings_dict.get("OPTIONS", {})
    return psycopg.connect(
        dbname=name,
        host=settings_dict.get("HOST") or options.get("host"),
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        autocommit=True,
    )


def create_database(settings_dict: dict, name: str, *, template: str | None = None) -> str:
    """Database ``name`` made anew, empty or a copy of ``template``; returns its URL."""
    drop_database(settings_dict, name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with connect(settings_dict, "postgres") as admin:
        admin.execute(statement)
    return database_url({**settings_dict, "NAME": name})


def clone_database(settings_dict: dict, template: str, name: str) -> str:
    """A copy of database ``template`` (which nobody may use meanwhile) named ``name``."""
    return create_database(settings_dict, name, template=template)


def copy_database_to(settings_dict: dict, source: str, url: str) -> None:
    """Database ``source`` (of the suite's server) into the empty database at ``url`` on another
    server: ``pg_dump | pg_restore``, seconds faster than ``migrate`` and ``load_catalogue`` in
    processes of their own, which the migration and catalogue tests cover."""
    from products.management.commands.backup import postgres_program

    dump = subprocess.Popen(
        [postgres_program("pg_dump"), "--format=custom", "--no-owner"]
        + ["--dbname", database_url({**settings_dict, "NAME": source})],
        stdout=subprocess.PIPE,
    )
    restore = subprocess.run(
        [postgres_program("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", url],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    dump.stdout.close()
    assert dump.wait(60) == 0 and restore.returncode == 0, f"pg_restore: {restore.stderr}"


def drop_database(settings_dict: dict, name: str) -> None:
    with connect(settings_dict, "postgres") as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
