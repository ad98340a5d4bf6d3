"""Security headers on every kind of response, and an admin closed to anonymous visitors.

``check --deploy`` with production values is tested in ``test_settings.py``.
"""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
import yaml
from django.core.cache import caches
from django.db import OperationalError
from django.test import Client

from atmp_catalogue.middleware import MAX_QUERY_STRING
from products.models import Product
from tests.factories import ProductFactory
from tests.served import BASE_DIR

SURFACES = (
    "/",
    "/products/",
    "/products/?category=gene-therapy",
    "/products/kymriah/",
    "/products/export.csv",
    "/categories/",
    "/api/v1/products/",
    "/api/v1/products/kymriah/",
    "/api/v1/docs/",
    "/healthz",
    "/admin/login/",
    "/no-such-page/",
)


def directives(header: str) -> dict[str, str]:
    parts = (part.strip() for part in header.split(";"))
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in parts if part}


@pytest.mark.parametrize("path", SURFACES)
def test_every_response_carries_the_security_headers(client, catalogue, path):
    response = client.get(path)
    assert response.status_code in (200, 404), response.status_code

    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert "'unsafe-inline'" not in policy.get("script-src", "")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_the_not_found_page_shows_no_debugging_details(client, catalogue):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"URLconf" not in response.content
    assert b"Traceback" not in response.content


def test_the_database_unavailable_page_carries_the_headers_too(client, catalogue):
    failure = OperationalError("connection to server failed: No such file or directory")
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=failure):
        response = client.get("/products/")
    assert response.status_code == 503
    assert b"Temporarily unavailable" in response.content
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


SOCKET_FAILURE = (
    'connection to server on socket "/srv/atmp/.data/postgres/.s.PGSQL.5432" failed: '
    "No such file or directory\n\tIs the server running locally?"
)


@pytest.mark.parametrize("path", ["/healthz", "/products/", "/api/v1/products/"])
def test_an_outage_tells_no_internal_detail(client, catalogue, caplog, path):
    failure = OperationalError(SOCKET_FAILURE)
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=failure):
        response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    for detail in ("/srv/atmp", ".s.PGSQL", "socket", "5432", "Is the server running"):
        assert detail not in body, (path, detail)
    assert "unavailable" in body
    assert "/srv/atmp/.data/postgres/.s.PGSQL.5432" in caplog.text  # for the operator


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/products/product/",
        "/admin/products/product/add/",
        "/admin/auth/user/",
        "/admin/products/importrun/",
    ],
)
def test_the_admin_is_closed_without_login(client, catalogue, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_an_anonymous_post_to_the_admin_changes_nothing(client, catalogue):
    product = Product.objects.get(slug="kymriah")
    response = client.post(
        f"/admin/products/product/{product.pk}/change/", {"name": "Defaced", "slug": "kymriah"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    product.refresh_from_db()
    assert product.name == "Kymriah"


def test_the_api_refuses_to_write(client, catalogue):
    response = client.post(
        "/api/v1/products/", {"name": "Injected"}, content_type="application/json"
    )
    assert response.status_code in (403, 405)
    assert not Product.objects.filter(name="Injected").exists()


# --- Drafts stay private, their vocabulary too -------------------------------------------------


@pytest.fixture
def draft(catalogue):
    """A draft with a holder, a mechanism and a therapeutic area that no other product uses."""
    product = ProductFactory(is_published=False)
    terms = {
        "holder": product.holder,
        "mechanism": product.mechanisms.get(),
        "therapeutic_area": product.indications.get().therapeutic_areas.get(),
    }
    return {"product": product, "names": {k: t.name for k, t in terms.items()}} | {
        param: term.slug for param, term in terms.items()
    }


DRAFT_TERMS = (
    ("holder", "/api/v1/holders/"),
    ("mechanism", "/api/v1/mechanisms/"),
    ("therapeutic_area", "/api/v1/therapeutic-areas/"),
)


def api_slugs(client, path: str) -> set[str]:
    body = client.get(path, {"page_size": 100}).json()
    assert body["count"] == len(body["results"]) > 0
    return {row["slug"] for row in body["results"]}


def schema_enums(client) -> dict[str, list[str]]:
    caches["catalogue"].clear()
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    operation = schema["paths"]["/api/v1/products/"]["get"]
    enums = {}
    for parameter in operation["parameters"]:
        values = parameter["schema"].get("enum") or parameter["schema"].get("items", {}).get("enum")
        if values:
            enums[parameter["name"]] = values
    return enums


@pytest.mark.parametrize("param, path", DRAFT_TERMS)
def test_a_drafts_new_term_is_in_no_public_vocabulary(client, draft, param, path):
    slug = draft[param]
    assert slug not in api_slugs(client, path)
    detail = client.get(f"{path}{slug}/")
    assert detail.status_code == 404 and set(detail.json()) == {"detail"}
    assert slug not in schema_enums(client)[param]


@pytest.mark.parametrize("param, path", DRAFT_TERMS)
def test_a_drafts_new_term_is_refused_as_a_filter_like_an_unknown_slug(client, draft, param, path):
    slug = draft[param]
    for value in (slug, "no-such-term"):
        api = client.get("/api/v1/products/", {param: value})
        assert api.status_code == 400 and list(api.json()) == [param], value
        page = client.get("/products/", {param: value})
        assert page.status_code == 400, value
        assert list(page.context["errors"]) == [param], value
        # The panel offers no option for it, not even "(0)" as when the draft's term passed.
        assert draft["names"][param] not in page.content.decode()


def test_a_therapeutic_area_named_only_by_a_draft_has_no_page(client, draft):
    assert client.get(f"/therapeutic-areas/{draft['therapeutic_area']}/").status_code == 404
    assert draft["therapeutic_area"] not in client.get("/therapeutic-areas/").content.decode()


@pytest.mark.parametrize("param, path", DRAFT_TERMS)
def test_publishing_the_draft_makes_its_terms_public(client, draft, param, path):
    Product.objects.filter(pk=draft["product"].pk).update(is_published=True)
    slug = draft[param]
    assert slug in api_slugs(client, path)
    detail = client.get(f"{path}{slug}/")
    assert detail.status_code == 200 and detail.json()["product_count"] == 1
    assert slug in schema_enums(client)[param]
    assert client.get("/api/v1/products/", {param: slug}).json()["count"] == 1


# --- Error formats -----------------------------------------------------------------------------

READ_ONLY_SURFACES = [path for path in SURFACES if path not in ("/admin/login/", "/no-such-page/")]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
@pytest.mark.parametrize("path", READ_ONLY_SURFACES)
def test_a_write_to_a_read_only_surface_is_a_405_not_the_csrf_page(catalogue, path, method):
    client = Client(enforce_csrf_checks=True)  # as a browser or a script meets the site
    response = getattr(client, method)(path, {"name": "Injected"})
    assert response.status_code == 405, (path, response.status_code)
    assert set(response["Allow"].replace(" ", "").split(",")) <= {"GET", "HEAD", "OPTIONS"}
    assert "GET" in response["Allow"]
    assert b"CSRF" not in response.content
    assert not Product.objects.filter(name="Injected").exists()


def test_the_admin_still_refuses_a_post_without_its_csrf_token(catalogue):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "admin", "password": "x"})
    assert response.status_code == 403
    assert b"CSRF" in response.content


def long_query(length: int) -> str:
    """A query string of exactly ``length`` bytes: repeated mechanisms, then an ignored ``pad``."""
    query = "&".join(["mechanism=cd19-car-t"] * ((length - 10) // 21))
    return query + "&pad=" + "x" * (length - len(query) - 5)


def test_long_query_is_as_long_as_asked():
    assert len(long_query(MAX_QUERY_STRING)) == MAX_QUERY_STRING
    assert len(long_query(5000)) == 5000


@pytest.mark.parametrize("path", ["/api/v1/products/", "/api/v1/holders/", "/api/v1/nothing/"])
def test_an_over_long_query_string_is_a_json_414_under_the_api(client, catalogue, path):
    response = client.get(f"{path}?{long_query(MAX_QUERY_STRING + 1)}")
    assert response.status_code == 414
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f"The query string is too long: {MAX_QUERY_STRING + 1} bytes, and at most "
        f"{MAX_QUERY_STRING} are accepted. Ask for fewer values at once."
    }


@pytest.mark.parametrize("path", ["/", "/products/", "/products/export.csv", "/healthz"])
def test_an_over_long_query_string_is_a_414_page_elsewhere(client, catalogue, path):
    response = client.get(f"{path}?{long_query(MAX_QUERY_STRING + 1)}")
    assert response.status_code == 414
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>Address too long</h1>" in response.content
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_query_string_at_the_limit_is_answered(client, catalogue):
    response = client.get(f"/api/v1/products/?{long_query(MAX_QUERY_STRING)}")
    assert response.status_code == 200
    once = client.get("/api/v1/products/?mechanism=cd19-car-t").json()
    assert response.json()["results"] == once["results"] and once["count"] > 1


@pytest.fixture
def gunicorn(served_catalogue):
    """The catalogue under gunicorn, started as `make run`, Docker and the benchmark start it."""
    return served_catalogue


def test_gunicorn_lets_django_answer_every_query_string_the_site_refuses(monkeypatch, tmp_path):
    # The configuration sets PROMETHEUS_MULTIPROC_DIR when unset: not in this process for good,
    # or every gunicorn the tests start later would share one folder of metrics.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    namespace: dict = {}
    exec((BASE_DIR / "gunicorn.conf.py").read_text(), namespace)
    longest_path = len("GET /api/v1/therapeutic-areas/? HTTP/1.1") + 200  # and a long slug
    assert namespace["limit_request_line"] >= MAX_QUERY_STRING + 1 + longest_path
    assert namespace["limit_request_line"] <= 8190  # gunicorn's own maximum


def test_gunicorn_serves_a_query_string_over_its_default_limit(gunicorn):
    query = long_query(MAX_QUERY_STRING)  # a request line over gunicorn's default, 4094 bytes
    status, headers, body = gunicorn.get(f"/api/v1/products/?{query}")
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path, content_type, text",
    [
        ("/api/v1/products/", "application/json", b'"detail": "The query string is too long'),
        ("/products/", "text/html; charset=utf-8", b"<h1>Address too long</h1>"),
    ],
)
def test_gunicorn_passes_an_over_long_query_string_to_django(gunicorn, path, content_type, text):
    status, headers, body = gunicorn.get(f"{path}?{long_query(6000)}")
    assert status == 414
    assert headers["Content-Type"] == content_type
    assert text in body


def test_gunicorns_master_imports_the_fhir_models_before_its_workers_fork(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # as above
    namespace: dict = {}
    exec((BASE_DIR / "gunicorn.conf.py").read_text(), namespace)
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True))
    with mock.patch("products.fhir.resource_model") as resource_model:
        namespace["when_ready"](server)
    imported = {call.args[0] for call in resource_model.call_args_list}
    assert imported == {
        "MedicinalProductDefinition",
        "RegulatedAuthorization",
        "Bundle",
        "OperationOutcome",
    }
    with mock.patch("products.fhir.resource_model") as resource_model:
        namespace["when_ready"](SimpleNamespace(cfg=SimpleNamespace(preload_app=False)))
    assert resource_model.call_count == 0  # without preloading, Django is not set up there
