"""Shared fixtures: the real catalogue, loaded once per session through the validating importer."""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

from products.importers.catalogue import load_catalogue
from products.models import Product

CATALOGUE_FILE = Path(settings.BASE_DIR) / "fixtures" / "catalogue.json"


@pytest.fixture(scope="session")
def catalogue_data():
    return json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, catalogue_data):
    """Load the catalogue once; each test runs in a transaction that is rolled back."""
    with django_db_blocker.unblock():
        load_catalogue(catalogue_data)


@pytest.fixture
def catalogue(db, catalogue_data):
    """The real catalogue. Reloaded when a transactional test (live server) flushed it."""
    if not Product.objects.exists():
        load_catalogue(catalogue_data)
    return Product.objects.all()


def pytest_configure(config):
    """Tests render templates without running collectstatic first.

    Each pytest process gets its own throwaway database, so two runs may share the test server.
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
