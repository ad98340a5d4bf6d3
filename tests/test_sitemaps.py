"""sitemap.xml and robots.txt (issue 16): every public product, category and area page, dated."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from products.models import Category, Product
from tests.factories import ProductFactory, TherapeuticAreaFactory

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

pytestmark = pytest.mark.django_db


def urls_of(client) -> dict[str, str | None]:
    """Every address of every sitemap the index names, with its ``lastmod``."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert index["Content-Type"].startswith("application/xml")
    root = ET.fromstring(index.content)
    assert root.tag == f"{SITEMAP}sitemapindex"
    urls = {}
    for entry in root.findall(f"{SITEMAP}sitemap"):
        location = entry.find(f"{SITEMAP}loc").text.removeprefix("http://testserver")
        part = ET.fromstring(client.get(location).content)
        assert part.tag == f"{SITEMAP}urlset"
        for url in part.findall(f"{SITEMAP}url"):
            lastmod = url.find(f"{SITEMAP}lastmod")
            address = url.find(f"{SITEMAP}loc").text.removeprefix("http://testserver")
            urls[address] = lastmod.text if lastmod is not None else None
    return urls


def test_the_sitemap_lists_every_public_product_category_and_area(client, catalogue):
    urls = urls_of(client)
    products = Product.objects.published()
    for product in products:
        assert urls[product.get_absolute_url()] == product.updated_at.date().isoformat()
    for category in Category.objects.all():
        assert category.get_absolute_url() in urls
    areas = products.terms_in_use("indications__therapeutic_areas")
    assert areas.count() > 10
    for area in areas:
        assert urls[area.get_absolute_url()]  # dated by its newest product
    for page in ("/", "/products/", "/categories/", "/therapeutic-areas/"):
        assert urls[page]
    assert len(urls) == products.count() + Category.objects.count() + areas.count() + 4


def test_drafts_and_their_areas_stay_out_of_the_sitemap(client, catalogue):
    area = TherapeuticAreaFactory(slug="draft-only-area")
    draft = ProductFactory(slug="draftex", is_published=False, indications=[])
    draft.indications.create(condition="Something").therapeutic_areas.set([area])
    urls = urls_of(client)
    assert "/products/draftex/" not in urls
    assert "/therapeutic-areas/draft-only-area/" not in urls


def test_a_product_saved_moves_its_lastmod(client, catalogue):
    product = Product.objects.get(slug="kymriah")
    Product.objects.filter(pk=product.pk).update(
        updated_at=datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.timezone.utc)
    )
    urls = urls_of(client)
    assert urls["/products/kymriah/"] == "2026-11-30"
    assert urls["/categories/gene-therapy/"] >= "2026-11-30"


def test_the_sitemap_is_a_304_until_the_catalogue_changes(client, catalogue):
    first = client.get("/sitemap.xml")
    assert client.get("/sitemap.xml", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    ProductFactory(slug="newex")
    second = client.get("/sitemap.xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert "/products/newex/" in urls_of(client)


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert "Disallow: /compare/" in lines
    assert lines[-1] == "Sitemap: http://testserver/sitemap.xml"
    assert client.post("/robots.txt").status_code == 405


def test_an_unknown_sitemap_section_is_a_404(client):
    assert client.get("/sitemap-nothing.xml").status_code == 404
