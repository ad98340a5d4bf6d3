"""`make run`'s command explains a bad set-up in one line instead of a traceback."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command

from bench.instances import free_port
from products.management.commands import serve as serve_command
from tests.test_backup import create_database, drop_database, settings_dict  # noqa: F401


def serve(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", "serve", *args],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], "SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_database_is_one_clear_line():
    port = free_port()
    result = serve(
        f"--port={free_port()}", env={"DATABASE_URL": f"postgres://u:p@127.0.0.1:{port}/atmp"}
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}" in lines[0]
    assert "Check that the server runs" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = serve(f"--port={port}", env={"DATABASE_URL": os.environ["DATABASE_URL"]})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"CommandError: port {port} on 127.0.0.1 is already in use (Address already in use); "
        f"stop what runs there or choose another port, e.g. PORT={port + 1} make run"
    )


def test_sigterm_stops_gunicorn_and_the_command_cleanly(
    settings_dict,  # noqa: F811
    catalogue_template,
):
    name = f"serve_test_{os.getpid()}"
    url = create_database(settings_dict, name, template=catalogue_template)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"--port={port}", "--workers=1"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ["PATH"], "SECRET_KEY": "x" * 50, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError("serve did not answer within 120 s")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "stopped" in output and "Traceback" not in output
        # gunicorn is gone: nothing answers on the port and it can be bound again. The probe sets
        # SO_REUSEADDR as gunicorn does: the closed /healthz connection may linger in TIME_WAIT on
        # the port, which only a listening socket, not a finished connection, should block.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        drop_database(settings_dict, name)


def test_static_files_are_collected_again_only_when_a_source_changed(settings, tmp_path):
    source = tmp_path / "static"
    source.mkdir()
    (source / "site.css").write_text("body { color: black }")
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = tmp_path / "collected"
    collected = tmp_path / "collected" / "site.css"
    with mock.patch.object(serve_command, "call_command", wraps=call_command) as command:
        serve_command.collect_static()
        assert command.call_count == 1
        assert collected.read_text() == "body { color: black }"

        serve_command.collect_static()  # the same sources: nothing to do
        assert command.call_count == 1

        (source / "site.css").write_text("body { color: navy }")
        later = time.time() + 10  # an edit after the collection (collectstatic compares times)
        os.utime(source / "site.css", (later, later))
        serve_command.collect_static()
        assert command.call_count == 2
        assert collected.read_text() == "body { color: navy }"
