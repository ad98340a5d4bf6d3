"""The read-only JSON API (`/api/v1/`): every endpoint, filter, error, cache header and limit."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

import pytest
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.http import http_date
from rest_framework.throttling import AnonRateThrottle

from products.choices import HELD_AUTHORISATION, EventKind, Status
from products.filters import ProductFilterSet
from products.models import (
    AuthorisationEvent,
    CatalogueVersion,
    Category,
    Company,
    Indication,
    MechanismOfAction,
    Product,
    TherapeuticArea,
)

PRODUCTS = reverse("api:product-list")
VOCABULARIES = {
    "api:category-list": ("category", Category, lambda p: [p.category] if p.category else []),
    "api:therapeutic-area-list": (
        "therapeutic_area",
        TherapeuticArea,
        lambda p: [area for i in p.indications.all() for area in i.therapeutic_areas.all()],
    ),
    "api:mechanism-list": ("mechanism", MechanismOfAction, lambda p: list(p.mechanisms.all())),
    "api:holder-list": ("holder", Company, lambda p: [p.holder] if p.holder else []),
}
#: The fields SPEC.md promises for every product, and those this API adds.
SPEC_FIELDS = {
    "slug", "name", "inn", "ema_product_number", "category", "mechanisms", "platform", "target",
    "cell_source", "delivery", "indications", "holder", "status", "authorisation_date",
    "status_date", "conditional", "exceptional_circumstances", "accelerated_assessment", "prime",
    "orphan", "atc_code", "epar_url", "events", "url", "html_url", "updated_at",
    # Added in the second wave: each flag's value at first authorisation.
    "orphan_at_authorisation", "conditional_at_authorisation",
    "exceptional_circumstances_at_authorisation", "accelerated_assessment_at_authorisation",
    "prime_at_authorisation",
}  # fmt: skip
EXTRA_FIELDS = {
    "aliases", "authorisation_date_partial", "route_of_administration", "description", "sources",
    "status_reason", "source_links", "unverified",
}  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The anonymous throttle counts in the cache: every test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


def get(client, url, query=None, **headers):
    if query:
        url = f"{url}?{urlencode(query, doseq=True)}"
    return client.get(url, headers=headers)


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def listed(**filters) -> set[str]:
    """Slugs of the default list (published, held an authorisation), narrowed by ORM filters."""
    queryset = Product.objects.published().held_authorisation().filter(**filters)
    return set(queryset.values_list("slug", flat=True))


def all_slugs(client, query=None) -> list[str]:
    response = get(client, PRODUCTS, {**(query or {}), "page_size": 100})
    assert response.json()["next"] is None
    return slugs(response)


# --- The "done when" -------------------------------------------------------------------


def test_withdrawn_gene_therapies_are_exactly_beqvez_skysona_and_zynteglo(client, catalogue):
    response = get(client, PRODUCTS, {"category": "gene-therapy", "status": "withdrawn"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == len(listed(category__slug="gene-therapy", status="withdrawn"))
    assert [row["slug"] for row in body["results"]] == ["beqvez", "skysona", "zynteglo"]
    assert {row["status"] for row in body["results"]} == {"withdrawn"}
    assert {row["category"]["slug"] for row in body["results"]} == {"gene-therapy"}


# --- The list ----------------------------------------------------------------------------------


def test_default_list_holds_the_published_products_that_held_an_authorisation(client, catalogue):
    body = get(client, PRODUCTS, {"page_size": 100}).json()
    expected = listed()
    assert body["count"] == len(expected) > 20
    assert {row["slug"] for row in body["results"]} == expected
    assert {row["status"] for row in body["results"]} <= set(HELD_AUTHORISATION)
    assert "amtagvi" not in expected  # an application withdrawn: only with ?status=


def test_unpublished_products_are_neither_listed_nor_shown(client, catalogue):
    Product.objects.filter(slug="kymriah").update(is_published=False)
    assert "kymriah" not in all_slugs(client)
    assert "kymriah" not in all_slugs(client, {"q": "kymriah"})
    response = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"}))
    assert response.status_code == 404


def test_list_is_ordered_by_name_by_default(client, catalogue):
    names = [row["name"] for row in get(client, PRODUCTS, {"page_size": 100}).json()["results"]]
    assert names[:3] == ["Abecma", "Adstiladrin", "Alofisel"]
    assert names == sorted(names, key=str.lower)


# --- One product -------------------------------------------------------------------------------


def test_product_carries_every_field_of_the_spec_nested_and_absolute(client, catalogue):
    response = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"}))
    assert response.status_code == 200
    kymriah = response.json()
    assert set(kymriah) == SPEC_FIELDS | EXTRA_FIELDS
    assert kymriah["name"] == "Kymriah"
    assert kymriah["inn"] == "tisagenlecleucel"
    assert kymriah["ema_product_number"] == "EMEA/H/C/004090"
    assert kymriah["category"] == {
        "slug": "gene-therapy",
        "name": "Gene therapy medicinal product",
        "abbreviation": "GTMP",
    }
    assert kymriah["mechanisms"] == [{"slug": "cd19-car-t", "name": "CD19-directed CAR-T cells"}]
    assert kymriah["holder"] == {
        "slug": "novartis-europharm-limited",
        "name": "Novartis Europharm Limited",
    }
    assert (kymriah["cell_source"], kymriah["delivery"]) == ("autologous", "ex-vivo")
    assert kymriah["status"] == "authorised"
    assert kymriah["authorisation_date"] == "2018-08-23"
    assert (kymriah["orphan"], kymriah["prime"], kymriah["conditional"]) == (True, True, False)
    assert kymriah["atc_code"] == "L01XL04"
    assert kymriah["epar_url"] == "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah"
    assert kymriah["url"] == "http://testserver/api/v1/products/kymriah/"
    assert kymriah["html_url"] == "http://testserver/products/kymriah/"
    assert datetime.datetime.fromisoformat(kymriah["updated_at"]).tzinfo is not None
    assert kymriah["sources"] and all(isinstance(source, str) for source in kymriah["sources"])


def test_indications_carry_condition_therapeutic_areas_and_orphan(client, catalogue):
    kymriah = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"})).json()
    assert len(kymriah["indications"]) == Product.objects.get(slug="kymriah").indications.count()
    follicular = kymriah["indications"][2]
    assert follicular["condition"] == "Relapsed or refractory follicular lymphoma"
    assert follicular["therapeutic_area"] == [
        {"slug": "lymphoma-follicular", "name": "Lymphoma, Follicular"}
    ]
    assert follicular["orphan"] is True


def test_events_are_the_timeline_in_time_order_with_partial_dates(client, catalogue):
    kymriah = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"})).json()
    assert [(e["kind"], e["date"], e["date_partial"]) for e in kymriah["events"]] == [
        ("orphan-designation", "2016-10-14", None),
        ("positive-opinion", None, "2018-06"),
        ("initial-authorisation", "2018-08-23", None),
        ("orphan-designation", "2021-07-19", None),
        ("extension-of-indication", "2022-04-29", None),
    ]
    assert all(event["note"] for event in kymriah["events"])
    extension = kymriah["events"][-1]
    assert extension["confidence"] == "verified" and extension["sources"]
    abecma = client.get(reverse("api:product-detail", kwargs={"slug": "abecma"})).json()
    conversion = next(e for e in abecma["events"] if e["kind"] == "conversion")
    assert (conversion["date"], conversion["date_partial"], conversion["known_by"]) == (
        None,
        None,
        "2025-10-27",
    )


def test_unknown_facts_stay_null(client, catalogue):
    kymriah = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"})).json()
    assert kymriah["status_date"] is None
    assert kymriah["accelerated_assessment_at_authorisation"] is None  # sources conflict
    assert kymriah["accelerated_assessment"] is False  # the EMA's register now
    elevidys = client.get(reverse("api:product-detail", kwargs={"slug": "elevidys"})).json()
    assert elevidys["conditional"] is None  # never authorised: not applicable
    assert elevidys["conditional_at_authorisation"] is None
    assert kymriah["authorisation_date_partial"] is None
    zemcelpro = client.get(reverse("api:product-detail", kwargs={"slug": "zemcelpro"})).json()
    assert zemcelpro["category"] is None  # the fact sheet gives none
    itvisma = client.get(reverse("api:product-detail", kwargs={"slug": "itvisma"})).json()
    assert itvisma["authorisation_date"] is None
    assert itvisma["authorisation_date_partial"] == "2026"


def test_empty_texts_are_null_not_empty_strings(client, catalogue):
    Product.objects.filter(slug="kymriah").update(platform="", target="", atc_code="", inn="")
    kymriah = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"})).json()
    assert [kymriah[field] for field in ("platform", "target", "atc_code", "inn")] == [None] * 4


def test_detail_shows_a_product_of_any_status(client, catalogue):
    response = client.get(reverse("api:product-detail", kwargs={"slug": "amtagvi"}))
    assert response.status_code == 200
    assert response.json()["status"] == "application-withdrawn"


def test_detail_ignores_list_parameters(client, catalogue):
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    response = client.get(url + "?status=bogus&page=99")
    assert response.status_code == 200
    assert response.json()["slug"] == "kymriah"


@pytest.mark.parametrize("slug", ["no-such-product", "Kymriah", "kymriah--x", "%00", "-"])
def test_unknown_slug_is_a_json_404(client, catalogue, slug):
    response = client.get(f"{PRODUCTS}{slug}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


# --- Filters: one test per parameter -----------------------------------------------------------


def test_category_filter_and_repeat_for_or(client, catalogue):
    gene = all_slugs(client, {"category": "gene-therapy"})
    assert set(gene) == listed(category__slug="gene-therapy") and "kymriah" in gene
    tissue = listed(category__slug="tissue-engineered")
    assert tissue
    both = all_slugs(client, {"category": ["gene-therapy", "tissue-engineered"]})
    assert set(both) == set(gene) | tissue


def test_category_not_known_selects_the_products_without_one(client, catalogue):
    assert all_slugs(client, {"category": "not-known"}) == ["zemcelpro"]
    either = all_slugs(client, {"category": ["not-known", "combined"]})
    assert set(either) == {"zemcelpro"} | listed(category__slug="combined")


def test_status_filter_selects_exactly_the_named_statuses_from_all_eleven(client, catalogue):
    withdrawn_applications = all_slugs(client, {"status": "application-withdrawn"})
    assert "amtagvi" in withdrawn_applications
    assert set(withdrawn_applications) == set(
        Product.objects.published()
        .filter(status=Status.APPLICATION_WITHDRAWN)
        .values_list("slug", flat=True)
    )
    either = all_slugs(client, {"status": ["refused", "expired"]})
    assert set(either) == set(
        Product.objects.published()
        .filter(status__in=["refused", "expired"])
        .values_list("slug", flat=True)
    )
    assert len(either) == len(set(either)) > 1  # each once


def test_therapeutic_area_filter_follows_indications(client, catalogue):
    assert all_slugs(client, {"therapeutic_area": "hemophilia-b"}) == ["beqvez", "hemgenix"]
    both = all_slugs(client, {"therapeutic_area": ["hemophilia-b", "hemophilia-a"]})
    assert set(both) == listed(
        indications__therapeutic_areas__slug__in=["hemophilia-a", "hemophilia-b"]
    )
    assert len(both) == len(set(both))  # each product once, though it matches twice


def test_mechanism_filter(client, catalogue):
    car_t = all_slugs(client, {"mechanism": "cd19-car-t"})
    assert "kymriah" in car_t and set(car_t) == listed(mechanisms__slug="cd19-car-t")
    either = all_slugs(client, {"mechanism": ["cd19-car-t", "bcma-car-t"]})
    assert set(either) == listed(mechanisms__slug__in=["cd19-car-t", "bcma-car-t"])
    assert "abecma" in either


def test_holder_filter(client, catalogue):
    assert all_slugs(client, {"holder": "novartis-europharm-limited"}) == [
        "kymriah",
        "luxturna",
        "zolgensma",
    ]


@pytest.mark.parametrize("value", ["autologous", "allogeneic", "none"])
def test_cell_source_filter(client, catalogue, value):
    found = all_slugs(client, {"cell_source": value})
    assert found and set(found) == listed(cell_source=value)


@pytest.mark.parametrize(
    "parameter, field",
    [
        ("orphan", "is_orphan"),
        ("conditional", "is_conditional"),
        ("exceptional_circumstances", "is_exceptional_circumstances"),
        ("prime", "is_prime"),
    ],
)
def test_boolean_filters(client, catalogue, parameter, field):
    yes = all_slugs(client, {parameter: "true"})
    no = all_slugs(client, {parameter: "false"})
    assert yes and no
    assert set(yes) == listed(**{field: True})
    assert set(no) == listed(**{field: False})
    assert len(yes) + len(no) < 32  # unknown (null) is neither


def test_authorisation_date_range_is_inclusive(client, catalogue):
    found = all_slugs(client, {"authorised_from": "2018-08-23", "authorised_to": "2018-11-22"})
    assert found == ["kymriah", "luxturna", "yescarta"]
    assert "alofisel" in all_slugs(client, {"authorised_to": "2018-03-23"})
    assert "alofisel" not in all_slugs(client, {"authorised_from": "2018-03-24"})


def test_search_forgives_a_typo(client, catalogue):
    assert "kymriah" in all_slugs(client, {"q": "kymria"})
    assert "kymriah" in all_slugs(client, {"q": "tisagenlecleucel"})


def test_search_combines_with_filters(client, catalogue):
    assert all_slugs(client, {"q": "kymriah", "category": "somatic-cell-therapy"}) == []
    assert "kymriah" in all_slugs(client, {"q": "kymriah", "category": "gene-therapy"})


def test_filters_combine_with_and(client, catalogue):
    found = all_slugs(client, {"category": "gene-therapy", "cell_source": "none", "prime": "true"})
    assert found
    assert set(found) == listed(category__slug="gene-therapy", cell_source="none", is_prime=True)


def test_the_api_uses_the_pages_filterset():
    from products.api.views import ProductViewSet

    assert ProductViewSet.filterset_class is ProductFilterSet


# --- Ordering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ordering", ["name", "-name"])
def test_ordering_by_name(client, catalogue, ordering):
    rows = get(client, PRODUCTS, {"ordering": ordering, "page_size": 100}).json()["results"]
    names = [row["name"].lower() for row in rows]
    assert len(names) == len(listed())
    assert names == sorted(names, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("ordering", ["authorisation_date", "-authorisation_date"])
def test_ordering_by_authorisation_date(client, catalogue, ordering):
    rows = get(client, PRODUCTS, {"ordering": ordering, "page_size": 100}).json()["results"]
    dates = [row["authorisation_date"] for row in rows if row["authorisation_date"]]
    assert len(rows) == len(listed())
    assert len(dates) == len(listed(authorisation_date__isnull=False)) < len(rows)
    assert dates == sorted(dates, reverse=ordering.startswith("-"))
    assert dates[0] == ("2009-10-05" if ordering == "authorisation_date" else max(dates))


# --- Bad input: 400 keyed by the parameter -----------------------------------------------------

BAD_VALUES = [
    ("category", "cell-therapy"),
    ("category", "GENE-THERAPY"),
    ("status", "bogus"),
    ("status", "Withdrawn"),
    ("therapeutic_area", "no-such-area"),
    ("mechanism", "no-such-mechanism"),
    ("holder", "no-such-holder"),
    ("cell_source", "xenogeneic"),
    ("authorised_from", "2020-13-01"),
    ("authorised_from", "yesterday"),
    ("authorised_to", "2020-02-30"),
    ("authorised_to", "99999-01-01"),
    ("ordering", "price"),
    ("ordering", "-updated_at"),
    ("q", "kym\x00riah"),
    ("q", "kym\x1briah"),
    ("page", "0"),
    ("page", "-1"),
    ("page", "two"),
    ("page", "1.5"),
    ("page", "3"),
    ("page", "99999999999999999999"),
    ("page_size", "0"),
    ("page_size", "101"),
    ("page_size", "ten"),
    ("page_size", "-5"),
]
BAD_BOOLEANS = [
    (parameter, value)
    for parameter in ("orphan", "conditional", "exceptional_circumstances", "prime")
    for value in ("maybe", "yes", "2")
]


@pytest.mark.parametrize("parameter, value", BAD_VALUES + BAD_BOOLEANS)
def test_bad_value_is_a_400_naming_the_parameter(client, catalogue, parameter, value):
    response = get(client, PRODUCTS, {parameter: value})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == [parameter]
    assert body[parameter] and all(isinstance(reason, str) and reason for reason in body[parameter])


def test_page_past_the_end_names_the_last_page(client, catalogue):
    response = get(client, PRODUCTS, {"page": "3"})
    assert response.json() == {"page": ["Page 3 is past the end: the last page is 2."]}


def test_every_bad_parameter_is_reported_at_once(client, catalogue):
    response = get(client, PRODUCTS, {"category": "nope", "authorised_from": "soon"})
    assert response.status_code == 400
    assert set(response.json()) == {"category", "authorised_from"}


def test_unknown_parameters_are_ignored(client, catalogue):
    assert get(client, PRODUCTS, {"colour": "blue"}).json()["count"] == len(listed())


# --- Pagination --------------------------------------------------------------------------------


def test_pagination_envelope_and_links(client, catalogue):
    first = get(client, PRODUCTS, {"category": "gene-therapy", "page_size": 5}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == len(listed(category__slug="gene-therapy"))
    assert first["previous"] is None
    assert first["next"] == (
        "http://testserver/api/v1/products/?category=gene-therapy&page=2&page_size=5"
    )
    assert len(first["results"]) == 5
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert not {r["slug"] for r in first["results"]} & {r["slug"] for r in second["results"]}
    assert second["previous"].endswith("?category=gene-therapy&page_size=5")


def test_default_page_size_is_twenty_and_last_page_holds_the_rest(client, catalogue):
    first = get(client, PRODUCTS).json()
    assert len(first["results"]) == 20
    last = get(client, PRODUCTS, {"page": "2"}).json()
    assert len(last["results"]) == len(listed()) - 20 and last["next"] is None
    assert slugs(get(client, PRODUCTS, {"page": "last"})) == [r["slug"] for r in last["results"]]


def test_page_size_of_one_hundred_is_allowed(client, catalogue):
    body = get(client, PRODUCTS, {"page_size": "100", "status": list(Status.values)}).json()
    assert body["count"] == Product.objects.published().count() > len(listed())
    assert len(body["results"]) == body["count"] and body["next"] is None


def test_an_empty_result_has_one_empty_page(client, catalogue):
    body = get(client, PRODUCTS, {"category": "combined", "status": "revoked"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    response = get(client, PRODUCTS, {"category": "combined", "status": "revoked", "page": "2"})
    assert response.status_code == 400
    assert list(response.json()) == ["page"]


# --- Vocabularies ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VOCABULARIES))
def test_vocabulary_counts_the_published_products_of_the_default_list(client, catalogue, name):
    _parameter, model, terms_of = VOCABULARIES[name]
    expected = {term.slug: 0 for term in model.objects.all()}
    for product in Product.objects.published().held_authorisation().with_related():
        for slug in {term.slug for term in terms_of(product)}:
            expected[slug] += 1
    body = get(client, reverse(name), {"page_size": 100}).json()
    assert body["count"] == len(expected) > 0
    counts = {row["slug"]: row["product_count"] for row in body["results"]}
    assert counts == expected
    assert max(counts.values()) > 1


def test_category_counts_are_those_of_the_catalogue(client, catalogue):
    rows = get(client, reverse("api:category-list")).json()["results"]
    assert [(row["slug"], row["product_count"]) for row in rows] == [
        ("gene-therapy", len(listed(category__slug="gene-therapy"))),
        ("somatic-cell-therapy", len(listed(category__slug="somatic-cell-therapy"))),
        ("tissue-engineered", len(listed(category__slug="tissue-engineered"))),
        ("combined", len(listed(category__slug="combined"))),
    ]
    assert rows[0]["product_count"] > 1
    assert rows[0]["abbreviation"] == "GTMP" and rows[0]["definition"]
    assert rows[0]["html_url"] == "http://testserver/categories/gene-therapy/"


@pytest.mark.parametrize("name", list(VOCABULARIES))
def test_each_terms_products_url_lists_product_count_products(client, catalogue, name):
    rows = get(client, reverse(name), {"page_size": 100}).json()["results"]
    assert rows
    for row in rows:
        listing = client.get(row["products_url"]).json()
        assert listing["count"] == row["product_count"], row["slug"]


def test_vocabularies_are_ordered_by_name(client, catalogue):
    for name in ("api:therapeutic-area-list", "api:mechanism-list", "api:holder-list"):
        names = [
            r["name"] for r in get(client, reverse(name), {"page_size": 100}).json()["results"]
        ]
        assert len(names) > 10 and names == sorted(names)


def test_unpublished_products_are_not_counted(client, catalogue):
    before = client.get(reverse("api:holder-detail", kwargs={"slug": "novartis-europharm-limited"}))
    assert before.json()["product_count"] > 1
    Product.objects.filter(slug="kymriah").update(is_published=False)
    after = client.get(reverse("api:holder-detail", kwargs={"slug": "novartis-europharm-limited"}))
    assert after.json()["product_count"] == before.json()["product_count"] - 1


@pytest.mark.parametrize(
    "name, slug, fields",
    [
        ("api:category-detail", "gene-therapy", {"abbreviation", "definition", "html_url"}),
        ("api:therapeutic-area-detail", "hemophilia-b", {"html_url"}),
        ("api:mechanism-detail", "cd19-car-t", {"description"}),
        ("api:holder-detail", "pfizer-europe-ma-eeig", set()),
    ],
)
def test_vocabulary_detail(client, catalogue, name, slug, fields):
    response = client.get(reverse(name, kwargs={"slug": slug}))
    assert response.status_code == 200
    term = response.json()
    assert {"slug", "name", "product_count", "url", "products_url"} | fields == set(term)
    assert term["slug"] == slug and term["product_count"] >= 1
    assert term["url"] == f"http://testserver{reverse(name, kwargs={'slug': slug})}"
    missing = client.get(reverse(name, kwargs={"slug": "no-such-term"}))
    assert missing.status_code == 404 and set(missing.json()) == {"detail"}


def test_vocabulary_page_past_the_end_is_a_400(client, catalogue):
    response = get(client, reverse("api:category-list"), {"page": "2"})
    assert response.status_code == 400
    assert response.json() == {"page": ["Page 2 is past the end: the last page is 1."]}


# --- Root, unknown paths, HEAD ----------------------------------------------------------------


def test_api_root_links_every_endpoint(client, catalogue):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        "products": "http://testserver/api/v1/products/",
        "categories": "http://testserver/api/v1/categories/",
        "therapeutic-areas": "http://testserver/api/v1/therapeutic-areas/",
        "mechanisms": "http://testserver/api/v1/mechanisms/",
        "holders": "http://testserver/api/v1/holders/",
    }


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/products/kymriah/events/"])
def test_unknown_api_paths_are_json_404s(client, catalogue, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_path_without_its_final_slash_is_redirected(client, catalogue):
    response = client.get("/api/v1/products?category=combined")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/products/?category=combined"


def test_head_gives_the_headers_without_a_body(client, catalogue):
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    response = client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == client.get(url)["ETag"]


# --- Read-only for everyone --------------------------------------------------------------------

WRITE_METHODS = ["post", "put", "patch", "delete"]
URLS = [
    PRODUCTS,
    reverse("api:product-detail", kwargs={"slug": "kymriah"}),
    reverse("api:category-list"),
    reverse("api:holder-detail", kwargs={"slug": "novartis-europharm-limited"}),
]


@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("url", URLS)
def test_writes_are_405_for_anyone(client, catalogue, method, url):
    response = getattr(client, method)(url, data={"name": "X"}, content_type="application/json")
    assert response.status_code == 405
    assert "not allowed" in response.json()["detail"]
    assert Product.objects.filter(name="X").count() == 0


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_writes_are_405_for_a_logged_in_superuser_too(client, catalogue, method, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "x-Pass-123")
    client.force_login(user)
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    response = getattr(client, method)(url, data={"name": "X"}, content_type="application/json")
    assert response.status_code == 405
    assert Product.objects.get(slug="kymriah").name == "Kymriah"


# --- HTTP caching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        PRODUCTS + "?category=gene-therapy",
        reverse("api:product-detail", kwargs={"slug": "kymriah"}),
    ],
)
def test_responses_carry_etag_last_modified_and_cache_control(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and len(response["ETag"]) > 10
    assert response["Last-Modified"].endswith("GMT")
    assert response["Cache-Control"] == "public, max-age=300"
    repeated = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert repeated.status_code == 304
    assert repeated.content == b""
    assert repeated["ETag"] == response["ETag"]
    assert repeated["Cache-Control"] == "public, max-age=300"
    since = client.get(url, headers={"If-Modified-Since": response["Last-Modified"]})
    assert since.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.json()


def test_last_modified_is_the_catalogue_s_last_change(client, catalogue):
    kymriah = Product.objects.get(slug="kymriah")
    kymriah.target = "CD19"
    kymriah.save()
    changed_at = CatalogueVersion.objects.get().changed_at
    assert changed_at >= kymriah.updated_at
    for url in (PRODUCTS + "?category=combined", reverse("api:product-detail", args=["kymriah"])):
        assert client.get(url)["Last-Modified"] == http_date(changed_at.timestamp())


def test_a_revalidation_costs_one_query_and_no_filtering(client, catalogue):
    url = PRODUCTS + "?category=gene-therapy&therapeutic_area=multiple-myeloma&q=cel"
    etag = client.get(url)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert [query["sql"] for query in queries] == [
        query["sql"] for query in queries if "products_catalogueversion" in query["sql"]
    ]
    assert len(queries) == 1


def test_revalidations_cost_no_throttle_and_carry_the_same_headers(client, catalogue, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    url = PRODUCTS + "?category=gene-therapy"
    etag = client.get(url)["ETag"]
    revalidations = [client.get(url, headers={"If-None-Match": etag}) for _ in range(5)]
    assert {response.status_code for response in revalidations} == {304}
    either = client.get(url, headers={"If-None-Match": f'"other", {etag}'})  # one of a list
    assert either.status_code == 304
    for header in ("ETag", "Last-Modified", "Cache-Control", "Vary"):
        assert revalidations[0][header] == either[header], header
    assert client.get(url).status_code == 200  # the second 200 (from the cache) is counted
    assert client.get(url).status_code == 429  # as the 200s are, and only they


def test_a_repeated_request_is_answered_from_the_cache(client, catalogue):
    url = PRODUCTS + "?category=gene-therapy&page_size=5"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert len(queries) == 1  # the catalogue version
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == "application/json"
    assert again["Cache-Control"] == "public, max-age=300"


def test_an_edit_is_served_at_once_despite_the_cache(client, catalogue):
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    assert client.get(url).json()["holder"]["name"] == "Novartis Europharm Limited"
    Company.objects.filter(slug="novartis-europharm-limited").update(name="Novartis Renamed")
    response = client.get(url)
    assert response.json()["holder"]["name"] == "Novartis Renamed"
    listed = get(client, PRODUCTS, {"holder": "novartis-europharm-limited"}).json()
    assert {item["holder"]["name"] for item in listed["results"]} == {"Novartis Renamed"}


def test_a_rolled_back_edit_leaves_the_version_and_the_cache_as_they_were(client, catalogue):
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    before = client.get(url)
    version = CatalogueVersion.objects.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        Product.objects.filter(slug="kymriah").update(target="rolled back")
        assert CatalogueVersion.objects.get().version == version.version + 1
        raise RuntimeError
    assert CatalogueVersion.objects.get() == version
    assert CatalogueVersion.objects.get().changed_at == version.changed_at
    after = client.get(url)
    assert after["ETag"] == before["ETag"]
    assert after.json()["target"] == before.json()["target"] != "rolled back"


def test_etag_changes_when_a_listed_product_changes(client, catalogue):
    url = PRODUCTS + "?holder=novartis-europharm-limited"
    etag = client.get(url)["ETag"]
    kymriah = Product.objects.get(slug="kymriah")
    kymriah.target = "CD19"
    kymriah.save()
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["results"][0]["target"] == "CD19"


def test_etag_differs_between_queries_and_pages(client, catalogue):
    etags = {
        client.get(PRODUCTS + query)["ETag"]
        for query in ("", "?page=2", "?ordering=-name", "?category=gene-therapy")
    }
    assert len(etags) == 4


def test_etag_of_an_unpublished_product_is_gone(client, catalogue):
    url = reverse("api:product-detail", kwargs={"slug": "kymriah"})
    etag = client.get(url)["ETag"]
    Product.objects.filter(slug="kymriah").update(is_published=False)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 404


def test_vocabulary_lists_answer_304_to_their_etag(client, catalogue):
    url = reverse("api:therapeutic-area-list")
    response = client.get(url)
    assert response.status_code == 200 and response["ETag"]
    assert response["Cache-Control"] == "public, max-age=300"
    assert client.get(url, headers={"If-None-Match": response["ETag"]}).status_code == 304
    TherapeuticArea.objects.filter(slug="adrenoleukodystrophy").update(name="ALD")
    assert client.get(url, headers={"If-None-Match": response["ETag"]}).status_code == 200


def test_errors_are_not_marked_cacheable(client, catalogue):
    response = get(client, PRODUCTS, {"category": "nope"})
    assert response.status_code == 400
    assert "public" not in response.get("Cache-Control", "")
    assert not response.has_header("ETag")


# --- CORS and throttling -----------------------------------------------------------------------


def test_cors_is_open_for_get(client, catalogue):
    response = client.get(PRODUCTS, headers={"Origin": "https://notebook.example.org"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        PRODUCTS,
        headers={
            "Origin": "https://notebook.example.org",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


def test_cors_exposes_the_cache_and_throttle_headers(client, catalogue):
    response = client.get(PRODUCTS, headers={"Origin": "https://notebook.example.org"})
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after"} <= exposed


def test_anonymous_clients_are_throttled_with_a_clear_429(client, catalogue, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    statuses = [client.get(PRODUCTS).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get(reverse("api:category-list"))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert "throttled" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60


# --- Queries: bounded, and constant as the catalogue grows --------------------------------------


def add_products(count: int) -> None:
    """``count`` more published products, each with every relation the API shows."""
    category = Category.objects.get(slug="gene-therapy")
    for number in range(count):
        holder = Company.objects.create(slug=f"holder-{number}", name=f"Holder {number}")
        product = Product.objects.create(
            name=f"Test product {number}",
            slug=f"test-product-{number}",
            category=category,
            holder=holder,
            status=Status.AUTHORISED,
            authorisation_date=datetime.date(2020, 1, 1) + datetime.timedelta(days=number),
            is_published=True,
        )
        mechanism = MechanismOfAction.objects.create(
            slug=f"mechanism-{number}", name=f"Mechanism {number}", description="How."
        )
        product.mechanisms.add(mechanism, MechanismOfAction.objects.get(slug="cd19-car-t"))
        for position in range(2):
            indication = Indication.objects.create(
                product=product, condition=f"Condition {position}", position=position
            )
            area = TherapeuticArea.objects.create(
                slug=f"area-{number}-{position}", name=f"Area {number} {position}"
            )
            indication.therapeutic_areas.add(area, TherapeuticArea.objects.get(slug="melanoma"))
        AuthorisationEvent.objects.create(
            product=product, kind=EventKind.POSITIVE_OPINION, date_partial="2019-11"
        )
        AuthorisationEvent.objects.create(
            product=product,
            kind=EventKind.INITIAL_AUTHORISATION,
            date=product.authorisation_date,
        )


def count_queries(client, url: str) -> int:
    """The queries of computing ``url`` afresh: no cached response, no throttle history."""
    for alias in caches:
        caches[alias].clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


QUERY_CAPS = [
    (PRODUCTS + "?page_size=100", 8),
    (PRODUCTS + "?page_size=100&category=gene-therapy&mechanism=cd19-car-t&q=cel", 12),
    (reverse("api:product-detail", kwargs={"slug": "kymriah"}), 7),
    # Each counts the catalogue version's read too (the ETag and the cache key).
    (reverse("api:category-list"), 3),
    (reverse("api:therapeutic-area-list") + "?page_size=100", 3),
    (reverse("api:mechanism-list") + "?page_size=100", 3),
    (reverse("api:holder-list") + "?page_size=100", 3),
    (reverse("api:holder-detail", kwargs={"slug": "novartis-europharm-limited"}), 2),
]


@pytest.mark.parametrize("url, cap", QUERY_CAPS)
def test_queries_are_few_and_constant_as_products_grow(
    client, catalogue, django_assert_max_num_queries, url, cap
):
    with django_assert_max_num_queries(cap):
        assert client.get(url).status_code == 200
    before = count_queries(client, url)
    add_products(25)
    assert count_queries(client, url) == before


def test_query_count_test_adds_products_the_api_shows(client, catalogue):
    add_products(3)
    body = get(client, PRODUCTS, {"q": "Test product", "page_size": 100}).json()
    rows = {row["slug"]: row for row in body["results"]}
    assert {"test-product-0", "test-product-1", "test-product-2"} <= set(rows)
    product = rows["test-product-1"]
    assert len(product["mechanisms"]) == 2
    assert [len(i["therapeutic_area"]) for i in product["indications"]] == [2, 2]
    assert [e["kind"] for e in product["events"]] == ["positive-opinion", "initial-authorisation"]
