"""Caching on the catalogue version: every write moves it, and nothing cached is ever stale."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from products import models
from products.caching import CACHE_ALIAS, cache_key, catalogue_stamp, lookup, store
from products.models import AuthorisationEvent, CatalogueVersion, Company, Product
from products.partial_dates import partial_date_sort_key
from products.querysets import latest_events

LIST = reverse("products:product_list")


@pytest.fixture
def page_cache(settings):
    """Pages cached as in production (the other tests render every page afresh)."""
    settings.CATALOGUE_CACHE_PAGES = True
    caches["catalogue"].clear()


def version() -> tuple[int, datetime.datetime]:
    row = CatalogueVersion.objects.get()
    return row.version, row.changed_at


def kymriah() -> Product:
    return Product.objects.get(slug="kymriah")


WRITES = {
    "product": lambda: Product.objects.filter(slug="kymriah").update(target="CD19"),
    "new indication": lambda: models.Indication.objects.create(
        product=kymriah(), condition="Something new", position=9
    ),
    "indication's areas": lambda: (
        models.Indication.objects.filter(product__slug="kymriah")
        .first()
        .therapeutic_areas.add(models.TherapeuticArea.objects.get(slug="melanoma"))
    ),
    "product's mechanisms": lambda: kymriah().mechanisms.clear(),
    "event": lambda: AuthorisationEvent.objects.filter(product__slug="kymriah").delete(),
    "category": lambda: models.Category.objects.filter(slug="combined").update(name="Combined"),
    "mechanism": lambda: models.MechanismOfAction.objects.update(description="Renamed"),
    "therapeutic area": lambda: models.TherapeuticArea.objects.filter(slug="melanoma").update(
        name="M"
    ),
    "holder": lambda: Company.objects.filter(slug="novartis-europharm-limited").update(name="N"),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_to_the_catalogue_moves_the_version(catalogue, write):
    before = version()
    write()
    after = version()
    assert after[0] > before[0]
    assert after[1] > before[1]


def test_writes_elsewhere_leave_the_version(catalogue, django_user_model):
    before = version()
    models.ImportRun.objects.create(file_name="export.xlsx")
    django_user_model.objects.create_user("reader", password="x-Pass-123")
    assert version() == before


def test_the_stamp_is_read_once_per_request(catalogue, rf):
    request = rf.get("/")
    with CaptureQueriesContext(connection) as queries:
        first = catalogue_stamp(request)
        second = catalogue_stamp(request)
    assert first is second
    assert len(queries) == 1


def test_visitors_share_a_reading_for_at_most_the_max_age(catalogue, rf, settings, admin_user):
    settings.CATALOGUE_VERSION_MAX_AGE = 60
    first = catalogue_stamp(rf.get("/"))
    Product.objects.filter(slug="kymriah").update(target="CD19")
    with CaptureQueriesContext(connection) as queries:
        assert catalogue_stamp(rf.get("/")) == first  # a visitor, within the max age
    assert len(queries) == 0
    curator = rf.get("/")
    curator.user = admin_user
    fresh = catalogue_stamp(curator)  # a signed-in user sees the edit at once
    assert fresh != first
    assert catalogue_stamp() == fresh  # as does any call outside a request
    settings.CATALOGUE_VERSION_MAX_AGE = 0
    Product.objects.filter(slug="kymriah").update(target="CD19 again")
    assert catalogue_stamp(rf.get("/")) != fresh


def test_a_truncated_version_row_comes_back_with_the_next_write(catalogue):
    CatalogueVersion.objects.all().delete()
    assert catalogue_stamp().key == "empty"
    Product.objects.filter(slug="kymriah").update(target="CD19")
    assert CatalogueVersion.objects.get().version == 1
    assert catalogue_stamp().key.startswith("1@")


# --- Pages -------------------------------------------------------------------------------------


def count_queries(client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def test_a_lock_won_just_after_another_instance_stored_the_page_reads_it(monkeypatch):
    # Between this instance's first look and its lock, another stores the page and lets go of
    # its own lock: the lock is free, but the page must not be computed a second time.
    cache = caches[CACHE_ALIAS]
    key = cache_key("race", datetime.datetime.now().isoformat())
    real_get = cache.get
    looks = []

    def get(name, *args, **kwargs):
        value = real_get(name, *args, **kwargs)
        if name == key and not looks:
            looks.append(value)
            store(key, "computed by the other instance")
        return value

    monkeypatch.setattr(cache, "get", get)
    assert lookup(key, "page") == "computed by the other instance"
    assert looks == [None]
    assert real_get(f"{key}:lock") is None  # the lock taken to look again is let go


@pytest.mark.parametrize(
    "url",
    [
        "/",
        LIST + "?category=gene-therapy&therapeutic_area=multiple-myeloma",
        LIST + "?q=kymria",
        reverse("products:product_detail", args=["kymriah"]),
        reverse("products:category_list"),
        reverse("products:therapeutic_area_detail", args=["multiple-myeloma"]),
    ],
)
def test_a_visitor_s_second_request_is_the_cached_page(client, catalogue, page_cache, url):
    first, cold = count_queries(client, url)
    second, warm = count_queries(client, url)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert warm == 1 < cold  # the catalogue version only
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_an_edit_shows_on_the_next_visit(client, catalogue, page_cache):
    url = reverse("products:product_detail", args=["kymriah"])
    assert b"Novartis Europharm Limited" in client.get(url).content
    Company.objects.filter(slug="novartis-europharm-limited").update(name="Novartis Renamed AG")
    html = client.get(url).content.decode()
    assert "Novartis Renamed AG" in html
    listed = client.get(LIST + "?holder=novartis-europharm-limited").content.decode()
    assert "Novartis Renamed AG" in listed


def test_signed_in_users_always_get_a_fresh_page(client, catalogue, page_cache, admin_user):
    client.get(LIST)
    assert client.get(LIST).context is None  # a visitor's: the cached page, no template rendered
    client.force_login(admin_user)
    # Rendered afresh (its facet counts may come from the cache: a query count tells little).
    assert client.get(LIST).context is not None


def test_pages_with_mistakes_are_not_cached(client, catalogue, page_cache):
    url = LIST + "?category=nope"
    first, _cold = count_queries(client, url)
    second, again = count_queries(client, url)
    assert first.status_code == second.status_code == 400
    assert again > 1


def test_pages_are_cached_per_host(client, catalogue, page_cache, settings):
    settings.ALLOWED_HOSTS = ["testserver", "atmp.example.org"]
    url = reverse("products:product_detail", args=["kymriah"])
    client.get(url)
    other = client.get(url, HTTP_HOST="atmp.example.org").content.decode()
    assert "http://atmp.example.org/products/kymriah/" in other  # its JSON-LD URL


def test_facet_counts_are_reused_across_pages_and_orderings(client, catalogue):
    caches["catalogue"].clear()
    base = LIST + "?status=authorised&status=withdrawn&page_size=5"
    first, cold = count_queries(client, base)
    second, warm = count_queries(client, base + "&page=2&ordering=-name")
    assert first.status_code == second.status_code == 200
    # The count queries, all reused: the single-valued groups not in use and status (counted
    # under every status in the same pass) in one query (products/facets.py); therapeutic
    # areas and mechanisms one each.
    assert cold - warm == 3 < len(first.context["facets"])
    counts = {
        facet.param: [(o.value, o.count) for o in facet.options]
        for facet in first.context["facets"]
    }
    assert counts == {
        facet.param: [(o.value, o.count) for o in facet.options]
        for facet in second.context["facets"]
    }


# --- The faster queries give the same answers ---------------------------------------------------


@pytest.mark.parametrize(
    "field", ["status", "category__slug", "holder__slug", "cell_source", "is_orphan"]
)
def test_count_by_a_product_field_matches_a_distinct_count(catalogue, field):
    products = Product.objects.published().with_mechanisms(["cd19-car-t", "bcma-car-t"])
    expected = {
        row[field]: row["count"]
        for row in Product.objects.filter(pk__in=products.values("pk"))
        .values(field)
        .annotate(count=Count("pk", distinct=True))
    }
    assert expected
    assert {row[field]: row["count"] for row in products.count_by(field)} == expected


def test_latest_events_are_the_newest_by_exact_or_partial_date(catalogue):
    product = kymriah()
    for partial in ("2026", "2026-04", "2026-11", "2025-12"):
        AuthorisationEvent.objects.create(
            product=product, kind="renewal", date_partial=partial, note="partial"
        )
    AuthorisationEvent.objects.create(
        product=product, kind="renewal", date=datetime.date(2026, 4, 30), note="exact"
    )
    everything = sorted(
        AuthorisationEvent.objects.exclude(date__isnull=True, date_partial=""),
        key=lambda e: (partial_date_sort_key(e.date, e.date_partial), e.pk),
        reverse=True,
    )
    for limit in (1, 3, 8, 20):
        latest = latest_events(AuthorisationEvent.objects.all(), limit=limit)
        assert [e.pk for e in latest] == [e.pk for e in everything[:limit]]
    added = [e.date_partial or e.date.isoformat() for e in everything if e.product == product]
    assert added[:5] == ["2026", "2026-11", "2026-04", "2026-04-30", "2025-12"]


def test_a_group_lists_at_most_its_busiest_options_and_the_selected_one(
    client, catalogue, monkeypatch
):
    monkeypatch.setattr("products.facets.MAX_OPTIONS", 3)
    rarest = (
        Company.objects.filter(products__status="authorised", products__is_published=True)
        .annotate(n=Count("products"))
        .order_by("n", "slug")
        .first()
    )
    response = client.get(LIST + f"?holder={rarest.slug}")
    holders = next(f for f in response.context["facets"] if f.param == "holder")
    assert holders.help_text
    counts = [option.count for option in holders.options if not option.selected]
    assert len(counts) == 3
    assert [(o.value, o.count > 0) for o in holders.options if o.selected] == [(rarest.slug, True)]
    everyone = Product.objects.published().held_authorisation().count_by("holder__slug")
    assert min(counts) >= sorted((row["count"] for row in everyone), reverse=True)[2]
    areas = next(f for f in response.context["facets"] if f.param == "therapeutic_area")
    assert len([o for o in areas.options if not o.selected]) <= 3
