"""Run inside the benchmark's Django environment: choose the URLs and count their SQL queries.

``python -m bench.probe`` with ``DATABASE_URL`` naming a synthetic catalogue prints one JSON
object: the URL of each endpoint (real slugs, filters and misspellings from that catalogue), the
status each answers, the ETag of the API list, and, with Django's test client, the median time
of the request alone *cold* (the first after a write: the catalogue version bumped before each
sample) and *warm* (the same request again, from the cache), the SQL queries of a cold one and
its slowest queries. With ``BENCH_EXPLAIN_FILE`` set, the
plans (``EXPLAIN ANALYZE``) of every query of 5 ms or more are appended to that file.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from urllib.parse import urlencode

import django


def misspell(word: str) -> str:
    """A typo a user makes: one letter left out, lowercase (Kymriah -> kymrah)."""
    word = word.lower()
    missing = 2 * len(word) // 3
    return word[:missing] + word[missing + 1 :]


def misspelt_query(products, start: int) -> str:
    """The misspelt name of a product found from ``start`` on whose search finds it."""
    from products.models import Product

    for product in products[start : start + 20]:
        typo = misspell(product.name)
        if Product.objects.search(typo).filter(pk=product.pk).exists():
            return typo
    raise SystemExit("no misspelt name finds its product: is the search typo-tolerant?")


def choose_urls() -> dict[str, str]:
    from django.db.models import Count

    from products.models import Product, TherapeuticArea

    products = Product.objects.published().held_authorisation().order_by("pk")
    total = products.count()
    if not total:
        raise SystemExit("the benchmark database holds no published products")
    middle = products[total // 2]
    category = middle.category.slug if middle.category else "gene-therapy"
    # A therapeutic area of middling frequency among the category's products: a realistic
    # two-filter list, neither empty nor the whole catalogue.
    areas = list(
        TherapeuticArea.objects.filter(indications__product__category__slug=category)
        .annotate(n=Count("indications"))
        .order_by("-n", "slug")
        .values_list("slug", flat=True)
    )
    area = areas[len(areas) // 2]
    filters = urlencode({"category": category, "therapeutic_area": area})
    page_search = urlencode({"q": misspelt_query(products, total // 3)})
    api_search = urlencode({"q": misspelt_query(products, total // 5)})
    return {
        "home": "/",
        "list": "/products/",
        "list_filtered": f"/products/?{filters}",
        "list_misspelled_search": f"/products/?{page_search}",
        "detail": f"/products/{middle.slug}/",
        "api_list_filtered": f"/api/v1/products/?{filters}",
        "api_search": f"/api/v1/products/?{api_search}",
        "api_detail": f"/api/v1/products/{middle.slug}/",
        "csv_export": f"/products/export.csv?{filters}",
        "api_revalidation_304": f"/api/v1/products/?{filters}",
        "trivial": "/healthz/ping",
    }


#: Requests timed for each median: cold (each after a write) and warm (the same URL again).
SAMPLES = int(os.environ.get("BENCH_SAMPLES") or 7)


def bump_version() -> None:
    """What every write does to the caches: the catalogue version moves (its row, as the
    statement triggers of migration 0007 move it), so every cached entry is gone for readers."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE products_catalogueversion"
            " SET version = version + 1, changed_at = clock_timestamp() WHERE id = 1"
        )


def probe(*, explain_to: str = "") -> dict:
    from django.test import Client
    from django.test.utils import setup_test_environment

    from products.models import Product

    setup_test_environment()  # lets the test client in (ALLOWED_HOSTS gains "testserver")
    client = Client()
    urls = choose_urls()
    etag = client.get(urls["api_list_filtered"]).headers.get("ETag")
    results = {}
    for name, url in urls.items():
        headers = {"if-none-match": etag} if name == "api_revalidation_304" and etag else {}
        client.get(url, headers=headers)  # warm: templates, connection
        # Cold: the first request after a write, computed afresh (the version moved); warm: the
        # same request again, as every later visitor gets it until the next write.
        cold = []
        for _sample in range(SAMPLES):
            bump_version()
            cold.append(timed_request(client, url, headers))
        if headers:  # a revalidation after a write is a full answer; then the new ETag holds
            headers = {"if-none-match": client.get(urls["api_list_filtered"]).headers["ETag"]}
        warm = [timed_request(client, url, headers) for _sample in range(SAMPLES)]
        response, _queries, _elapsed, body = warm[-1]
        queries = cold[-1][1]
        timed = sorted(queries, key=lambda query: -float(query["time"]))
        results[name] = {
            "url": url,
            "status": response.status_code,
            "sql": len(queries),
            "warm_sql": len(warm[-1][1]),
            "cold_status": cold[-1][0].status_code,
            "bytes": len(body),
            # One request alone, in-process (no HTTP, no concurrency): where the time goes.
            "cold_ms": median_ms(sample[2] for sample in cold),
            "warm_ms": median_ms(sample[2] for sample in warm),
            "sql_ms": round(sum(float(query["time"]) for query in timed) * 1000, 1),
            "slowest_sql": [
                {"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"][:300]}
                for query in timed[:3]
            ],
        }
        if explain_to:
            explain(name, url, timed, explain_to)
    return {"endpoints": results, "products": Product.objects.count()}


def median_ms(seconds) -> float:
    return round(statistics.median(seconds) * 1000, 1)


def timed_request(client, url: str, headers: dict):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The log Django keeps is bounded (9,000 queries) and a capture is a slice of it read later:
    # start it afresh, and keep the queries of this request as a list.
    connection.queries_log.clear()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
    return response, list(queries.captured_queries), time.perf_counter() - started, body


def explain(name: str, url: str, queries: list[dict], path: str) -> None:
    """Append EXPLAIN (ANALYZE, BUFFERS) of the endpoint's queries of 5 ms or more to ``path``."""
    from django.db import connection

    with open(path, "a", encoding="utf-8") as out, connection.cursor() as cursor:
        out.write(f"\n===== {name}: {url}\n")
        for query in queries:
            if float(query["time"]) < 0.005:
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            out.write(f"\n--- {float(query['time']) * 1000:.1f} ms\n{query['sql']}\n{plan}\n")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmp_catalogue.settings")
    # Count the reading of the catalogue version in every request, whatever the timing.
    os.environ["CATALOGUE_VERSION_MAX_AGE"] = "0"
    django.setup()
    json.dump(probe(explain_to=os.environ.get("BENCH_EXPLAIN_FILE", "")), sys.stdout)


if __name__ == "__main__":
    main()
