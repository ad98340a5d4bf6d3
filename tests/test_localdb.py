"""Who stops the embedded PostgreSQL: the last process that uses it, and `make run` on exit.

Each test drives real processes (``manage.py``'s set-up, ``configure_environment``) against one
throwaway embedded server of this module, in a temporary data directory: never the data of
`make run` or of the test suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings

from atmp_catalogue import localdb

#: A manage.py-like process: set up as manage.py does, say "ready", then act as told.
PROCESS = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from atmp_catalogue.localdb import configure_environment, stop_embedded_server

    configure_environment(Path(sys.argv[1]))
    print("ready", flush=True)
    what = sys.argv[2]
    if what == "wait":  # a long command (a shell): until its input ends
        sys.stdin.read()
    elif what == "serve":  # `make run`: until its input ends, then stop as the serve command does
        sys.stdin.read()
        stop_embedded_server()
    elif what == "crash":  # killed without its exit handlers
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.fixture(scope="module")
def pgdata(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("handles-postgres") / "pgdata"


def running(pgdata: Path) -> bool:
    """Whether a PostgreSQL server runs on ``pgdata`` (its pid file names a live process)."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    return localdb.is_running(int(pid_file.read_text().split()[0]))


def start(pgdata: Path, what: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-c", PROCESS, str(pgdata), what],
        cwd=settings.BASE_DIR,
        env={**env, "SECRET_KEY": "tests-only-not-secret"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if what != "crash" or line:
        assert line == "ready\n", process.stderr.read() if process.poll() is not None else line
    return process


def finish(process: subprocess.Popen) -> int:
    _out, err = process.communicate(timeout=60)
    assert "Traceback" not in err, err
    return process.returncode


@pytest.fixture
def stopped(pgdata):
    """Each test starts with the server stopped, and leaves it stopped."""
    assert not running(pgdata)
    yield
    if running(pgdata):  # a failed test: stop it for the next one
        finish(start(pgdata, "serve"))
    assert not running(pgdata)


def test_a_command_that_started_the_server_stops_it_on_exit(pgdata, stopped):
    command = start(pgdata, "exit")
    assert finish(command) == 0
    assert not running(pgdata)


def test_a_command_leaves_the_server_to_make_run_that_uses_it(pgdata, stopped):
    server = start(pgdata, "serve")
    assert finish(start(pgdata, "exit")) == 0
    assert running(pgdata)  # make run still serves with it
    assert finish(server) == 0
    assert not running(pgdata)


def test_make_run_stops_the_server_a_command_started(pgdata, stopped):
    shell = start(pgdata, "wait")  # e.g. `manage.py shell` started it, and is still open
    server = start(pgdata, "serve")
    assert finish(server) == 0
    assert not running(pgdata)
    assert finish(shell) == 0


def test_a_command_that_started_it_stops_it_after_make_run_ended(pgdata, stopped):
    shell = start(pgdata, "wait")
    assert finish(start(pgdata, "exit")) == 0  # a command joined and left
    assert running(pgdata)  # the shell still uses it
    assert finish(shell) == 0
    assert not running(pgdata)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_command_ended_by_a_signal_stops_the_server_it_started(pgdata, stopped, signum):
    command = start(pgdata, "wait")
    command.send_signal(signum)
    assert finish(command) == 128 + signum
    assert not running(pgdata)


def test_a_killed_command_does_not_keep_the_server_running_for_ever(pgdata, stopped):
    crashed = start(pgdata, "crash")
    crashed.wait(60)
    assert crashed.returncode == -signal.SIGKILL
    assert running(pgdata)  # nobody left to stop it: its number is still in the list
    assert finish(start(pgdata, "exit")) == 0  # the next user finds it dead, and is the last
    assert not running(pgdata)


def test_the_serve_command_stops_the_embedded_server_however_it_ends():
    """`make run` calls ``stop_embedded_server`` after gunicorn, on Ctrl-C as on an error."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    gunicorn = mock.Mock()
    gunicorn.wait.side_effect = [KeyboardInterrupt, 0]  # Ctrl-C, then gunicorn's exit
    module = "products.management.commands.serve"
    with (
        mock.patch(f"{module}.check_port_free"),
        mock.patch(f"{module}.check_database"),
        mock.patch(f"{module}.call_command"),
        mock.patch(f"{module}.collect_static"),
        mock.patch(f"{module}.subprocess.Popen", return_value=gunicorn),
        mock.patch(f"{module}.signal.signal"),
        mock.patch(f"{module}.stop_embedded_server") as stop,
    ):
        call_command("serve", "--port=1", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert gunicorn.send_signal.call_args == mock.call(signal.SIGTERM)
        assert stop.call_count == 1
        gunicorn.wait.side_effect = [3]  # gunicorn failed
        with pytest.raises(CommandError, match="gunicorn exited with status 3"):
            call_command("serve", "--port=1", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert stop.call_count == 2
