"""Shared fixtures: the real catalogue, loaded once per session through the validating importer.

After the load the suite keeps two copies of that state: the rows of every table (put back,
in a fraction of a second, after a transactional test emptied the database) and a template
database that a test needing a database of its own (a served site, a backup) clones.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from psycopg import sql
from pytest_django.plugin import blocking_manager_key

from products.importers.catalogue import load_catalogue
from products.models import Product
from tests.served import clone_database, drop_database, start_gunicorn

CATALOGUE_FILE = Path(settings.BASE_DIR) / "fixtures" / "catalogue.json"
#: Fixtures and marks whose test ends by emptying every table (pytest-django's flush).
FLUSHING = {"transactional_db", "live_server", "django_db_reset_sequences"}
#: Table -> its rows (COPY text format) as the session's load left them.
_snapshot: dict[str, bytes] = {}


@pytest.fixture(scope="session")
def catalogue_data():
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, catalogue_data):
    """Load the catalogue once; each test runs in a transaction that is rolled back.

    Yields the names of two templates (databases never opened, which ``clone_database``
    copies): the test database as migrated, and as loaded.
    """
    settings_dict, name = connection.settings_dict, connection.settings_dict["NAME"]
    if name != settings.DATABASES["default"]["TEST"]["NAME"]:  # never the database of the URL
        pytest.fail(f"the tests would load the catalogue into {name}, not a test database")
    templates = {"migrated": f"{name}_migrated", "catalogue": f"{name}_template"}
    with django_db_blocker.unblock():
        connection.close()  # a template must have no other session
        clone_database(settings_dict, name, templates["migrated"])
        load_catalogue(catalogue_data)
        _snapshot.update(read_tables())
        connection.close()
        clone_database(settings_dict, name, templates["catalogue"])
    yield templates
    with django_db_blocker.unblock():
        for template in templates.values():
            drop_database(settings_dict, template)


@pytest.fixture(scope="session")
def catalogue_template(django_db_setup) -> str:
    """A database holding the catalogue as loaded, never opened: ``clone_database`` copies it."""
    return django_db_setup["catalogue"]


@pytest.fixture(scope="session")
def migrated_template(django_db_setup) -> str:
    """A database migrated and empty, never opened: ``clone_database`` copies it."""
    return django_db_setup["migrated"]


def read_tables() -> dict[str, bytes]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    rows = {}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            statement = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
            with cursor.cursor.copy(statement) as copy:
                rows[table] = b"".join(bytes(chunk) for chunk in copy)
    return rows


def restore_catalogue() -> None:
    """Every table as the session's load left it, triggers off (as pg_restore does).

    Turning triggers off takes a superuser (the embedded server's ``postgres`` is one); on a
    server of ``DATABASE_URL`` where the suite's role is not, the catalogue is loaded again.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser')")
        if cursor.fetchone()[0] != "on":
            load_catalogue(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))
            return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        names = sql.SQL(", ").join(map(sql.Identifier, _snapshot))
        cursor.execute(sql.SQL("TRUNCATE {} CASCADE").format(names))
        for table, rows in _snapshot.items():
            if rows:
                statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                with cursor.cursor.copy(statement) as copy:
                    copy.write(rows)
    ContentType.objects.clear_cache()  # the flush had made them again, with other keys


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test that emptied the database (live server, transactional), the catalogue again."""
    result = yield
    marker = item.get_closest_marker("django_db")
    transactional = marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    # With no next test the session has ended: the test database is gone already.
    if _snapshot and nextitem and (transactional or FLUSHING & set(item.fixturenames)):
        with item.config.stash[blocking_manager_key].unblock():
            restore_catalogue()
    return result


@pytest.fixture
def catalogue(db):
    """The real catalogue (every test finds it loaded: see ``pytest_runtest_teardown``)."""
    return Product.objects.all()


@pytest.fixture(scope="session")
def served_catalogue(catalogue_template, tmp_path_factory):
    """The catalogue under gunicorn with production settings, on a database of its own.

    For the tests that only read: the site of the browser tests, the load and the limits of
    gunicorn. Started once per session (per worker under xdist).
    """
    name = f"{catalogue_template.removesuffix('_template')}_served"
    url = clone_database(connection.settings_dict, catalogue_template, name)
    server = start_gunicorn(url, tmp_path_factory.mktemp("served") / "gunicorn.log", workers=3)
    yield server
    server.stop()
    drop_database(connection.settings_dict, name)


#: Session fixtures that build on the test database (and so need pytest-django to make one).
TEMPLATES = {"catalogue_template", "migrated_template"}


def pytest_collection_modifyitems(items):
    """A test that needs a template needs the test database, even if it never queries it itself
    (a deployment's servers, a served site): pytest-django makes the test database only for the
    tests it knows use one, and a run of those tests alone would load the catalogue into the
    database of ``DATABASE_URL`` instead."""
    for item in items:
        if TEMPLATES & set(item.fixturenames) and not item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.django_db)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown without it (-p no:xdist)
def pytest_xdist_make_scheduler(config, log):
    """``make test`` (``--dist loadfile``): a module's tests run on one worker, and the browser
    package's all on one, so that one Chromium and one served site serve them all."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/"):
                return "tests/browser"
            return super()._split_scope(nodeid)

    return BrowserTogether(config, log)


def pytest_configure(config):
    """Tests render templates without running collectstatic first.

    Each pytest process (each xdist worker) gets its own throwaway database, so two runs may
    share the test server.
    """
    settings.DATABASES["default"]["TEST"]["NAME"] = f"test_atmp_catalogue_{os.getpid()}"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    # Tests read the context a page was rendered with, which a cached page has not; the caching
    # tests (tests/test_caching.py) and the served site (browser, load) keep it on.
    settings.CATALOGUE_CACHE_PAGES = False
    # Tests edit and read back at once; tests/test_caching.py checks the shared reading.
    settings.CATALOGUE_VERSION_MAX_AGE = 0
    settings.WHITENOISE_USE_FINDERS = True
    # A user made or signed in by a test in this process needs no 1,000,000 PBKDF2 rounds (half
    # a second each, twice per admin test); servers started by the tests keep the real hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
