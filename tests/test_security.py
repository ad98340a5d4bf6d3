"""Security headers on every kind of response, and an admin closed to anonymous visitors.

``check --deploy`` with production values is tested in ``test_settings.py``.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from products.models import Product

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
