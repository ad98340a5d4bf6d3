"""`make backup` and `make restore FILE=...`: a change survives a backup and a restore.

The test works in two databases of its own on the suite's PostgreSQL server (never the test
database itself): a source, migrated and loaded with the catalogue, and an empty one to restore
into. Both are dropped at the end.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from django.conf import settings
from psycopg import sql

from tests.served import BASE_DIR, connect, create_database, drop_database, manage

CHANGE = (
    "from products.models import Product; p = Product.objects.get(slug='kymriah'); "
    "p.name = {name!r}; p._change_reason = 'backup test'; p.save()"
)


def fingerprint(settings_dict: dict, name: str) -> dict[str, str]:
    """Row count and digest of every table of a database."""
    result = {}
    with connect(settings_dict, name) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL(
                "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} t"
            ).format(sql.Identifier(table))
            count, digest = conn.execute(query).fetchone()
            result[table] = f"{count}:{digest}"
    return result


def rows(settings_dict: dict, name: str, query: str) -> list[tuple]:
    with connect(settings_dict, name) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture(scope="module")
def settings_dict():
    """How to reach the suite's PostgreSQL server (its databases are named per test below)."""
    return dict(settings.DATABASES["default"])


@pytest.fixture(scope="module")
def source(settings_dict, catalogue_template):
    """A database of this module's own, migrated and holding the catalogue (the suite's copy)."""
    name = f"backup_source_{os.getpid()}"
    url = create_database(settings_dict, name, template=catalogue_template)
    yield name, url
    drop_database(settings_dict, name)


@pytest.fixture
def target(settings_dict):
    """An empty database to restore into."""
    name = f"backup_target_{os.getpid()}"
    url = create_database(settings_dict, name)
    yield name, url
    drop_database(settings_dict, name)


def test_a_change_survives_backup_and_restore_into_a_fresh_database(
    settings_dict, source, target, tmp_path
):
    source, source_url = source
    target, target_url = target
    manage("shell", "-c", CHANGE.format(name="Kymriah (backed up)"), url=source_url)

    dump = tmp_path / "catalogue.dump"
    output = manage("backup", f"--output={dump}", url=source_url).stdout
    assert f"to {dump}" in output
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert not list(tmp_path.glob("*.partial"))

    manage("restore", str(dump), url=target_url)

    before, after = fingerprint(settings_dict, source), fingerprint(settings_dict, target)
    assert after == before
    assert int(after["products_product"].split(":")[0]) > 40
    assert int(after["products_historicalproduct"].split(":")[0]) > 40
    history = rows(
        settings_dict,
        target,
        "SELECT h.name, h.history_type, h.history_change_reason FROM products_historicalproduct h "
        "JOIN products_product p ON p.id = h.id WHERE p.slug = 'kymriah' ORDER BY h.history_id",
    )
    assert history[0][:2] == ("Kymriah", "+")
    assert history[-1] == ("Kymriah (backed up)", "~", "backup test")
    # The restored database is a working catalogue: migrations are up to date.
    assert manage("migrate", "--check", url=target_url).returncode == 0


def test_restore_brings_back_the_catalogue_of_the_backup(settings_dict, source, tmp_path):
    source, source_url = source
    dump = tmp_path / "catalogue.dump"
    manage("backup", f"--output={dump}", url=source_url)
    backed_up = fingerprint(settings_dict, source)

    manage("shell", "-c", CHANGE.format(name="Changed after the backup"), url=source_url)
    assert fingerprint(settings_dict, source) != backed_up

    manage("restore", str(dump), url=source_url)
    assert fingerprint(settings_dict, source) == backed_up

    # A file that is no backup: one line, non-zero exit, and the database untouched.
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"not a dump\n" * 100)
    result = manage("restore", str(garbage), url=source_url, check=False)
    assert result.returncode != 0
    assert "pg_restore failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(settings_dict, source) == backed_up


def test_the_makefile_targets_run_the_commands():  # -n: print the recipes, run nothing
    backup = subprocess.run(
        ["make", "-n", "backup", "FILE=x.dump"], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert 'manage.py backup --output "x.dump"' in backup.stdout
    restore = subprocess.run(
        ["make", "-n", "restore", "FILE=x.dump"], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert 'manage.py restore "x.dump"' in restore.stdout
