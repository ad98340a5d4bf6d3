"""Helpers for the tests that need a real server: gunicorn in a subprocess, on loopback.

The server runs the project's WSGI application with ``tests.served_settings``: production
settings (DEBUG off), except that static files are served from the source folders, as in the
rest of the suite, so no ``collectstatic`` is needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path

    def get(self, path: str, *, timeout: float = 10) -> tuple[int, dict, bytes]:
        """Status, headers and body of a GET (errors are answers too, never exceptions)."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(database_url: str, log: Path, *, workers: int = 2, **env: str) -> Server:
    """gunicorn on a free loopback port; returns once it answers (any status) or fails."""
    port = free_port()
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
    handle = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "atmp_catalogue.wsgi",
            f"--config={BASE_DIR / 'gunicorn.conf.py'}",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--graceful-timeout=2",
            "--timeout=30",
        ],
        cwd=BASE_DIR,
        env=environment,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    server = Server(process=process, base=f"http://127.0.0.1:{port}", log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.output()}")
        try:
            server.get("/healthz/ping", timeout=2)
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{server.output()}")
