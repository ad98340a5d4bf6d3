"""`bench/generate.py`: realistic, valid synthetic data, never into a real catalogue, and a
number of queries that does not grow with the size."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.generate import GenerationRefused, generate, generate_catalogue
from tests.served import clone_database
from tests.test_backup import drop_database, manage, settings_dict  # noqa: F401

CHECK = """
import collections, json
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from products.models import Product, SearchWord
invalid = []
products = Product.objects.prefetch_related(
    "events", "indications__therapeutic_areas", "mechanisms"
)
for product in products:
    try:
        product.full_clean()
        product.check_timeline()
        for related in [*product.indications.all(), *product.events.all()]:
            related.full_clean()
    except ValidationError as error:
        invalid.append(f"{product.slug}: {error}")
first = products[0]
area_ids_wrong = sum(
    p.therapeutic_area_ids
    != sorted({a.pk for i in p.indications.all() for a in i.therapeutic_areas.all()})
    for p in products
)
with connection.cursor() as cursor:  # words of the vectors missing from the search lexicon
    cursor.execute(
        "SELECT count(*) FROM (SELECT w.word FROM products_product p,"
        " products_searchword_of(p.search_vector) AS w(word)"
        " EXCEPT SELECT word FROM products_searchword) AS missing"
    )
    missing_words = cursor.fetchone()[0]
print(json.dumps({
    "products": products.count(),
    "invalid": invalid[:5],
    "statuses": sorted(collections.Counter(p.status for p in products)),
    "without_indication": sum(not p.indications.all() for p in products),
    "without_events": sum(not p.events.all() for p in products),
    "without_mechanism": sum(not p.mechanisms.all() for p in products),
    "searchable": Product.objects.exclude(search_vector=None).count(),
    "area_ids_wrong": area_ids_wrong,
    "with_area_ids": Product.objects.exclude(therapeutic_area_ids=[]).count(),
    "history": Product.history.count(),
    "update_times": Product.objects.values("updated_at").distinct().count(),
    "history_at_update": Product.history.filter(history_date=F("updated_at")).count(),
    "lexicon": SearchWord.objects.count(),
    "missing_words": missing_words,
    "found_by_typo": Product.objects.search(first.name[:-1] + "x").filter(pk=first.pk).exists(),
}))
"""


def run_generate(*args: str, url: str, check: bool = True) -> subprocess.CompletedProcess:
    """``bench.generate``'s command line (``python -m bench.generate``) on the database ``url``."""
    code = f"from bench.generate import main; main({list(args)!r})"
    return manage("shell", "-c", code, url=url, check=check)


@pytest.fixture
def bench_database(settings_dict, migrated_template):  # noqa: F811
    name = f"bench_test_{os.getpid()}"
    url = clone_database(settings_dict, migrated_template, name)
    yield url
    drop_database(settings_dict, name)


def test_generates_valid_related_searchable_products(bench_database):
    output = run_generate("--size=100", url=bench_database).stdout
    assert "100 products" in output
    report = json.loads(manage("shell", "-c", CHECK, url=bench_database).stdout.splitlines()[-1])
    assert report["products"] == 100
    assert report["invalid"] == []
    assert len(report["statuses"]) >= 8  # the register's statuses, not only "authorised"
    assert report["without_indication"] == report["without_events"] == 0
    assert report["without_mechanism"] == 0
    assert report["searchable"] == 100  # the search triggers ran for every product
    assert report["area_ids_wrong"] == 0 and report["with_area_ids"] > 80  # and saw the areas
    assert report["history"] == 100
    assert report["update_times"] > 95  # products changed at different times, as in a register
    assert report["history_at_update"] == 100  # each history record at its product's last change
    assert report["lexicon"] > 100 and report["missing_words"] == 0  # the lexicon is complete
    assert report["found_by_typo"] is True

    again = run_generate("--size=100", "--if-needed", url=bench_database)
    assert "already holds 100" in again.stdout
    refused = run_generate("--size=100", url=bench_database, check=False)
    assert refused.returncode != 0 and "--replace" in refused.stderr


def test_refuses_a_database_with_real_products(catalogue):
    with pytest.raises(GenerationRefused, match="holds real products"):
        generate_catalogue(size=10)
    assert catalogue.filter(verification="synthetic").count() == 0


def test_the_number_of_queries_does_not_grow_with_the_size(db, django_assert_max_num_queries):
    """Vocabularies are written in bulk and their ids read back once: no query per row."""

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            counts = generate(size=size, seed=2, log=lambda message: None)
        assert counts["products"] == size
        return len(captured)

    small = queries(20)
    with django_assert_max_num_queries(small):
        # 20 times the products, and more holders and therapeutic areas.
        generate(size=400, seed=2, log=lambda message: None)
