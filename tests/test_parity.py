"""One filter definition, two front ends: the page and the API list the same products."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import resolve, reverse

from products.api.views import ProductViewSet
from products.filters import ProductFilterSet

QUERIES = [
    "category=gene-therapy&status=withdrawn",
    "category=gene-therapy",
    "category=gene-therapy&category=tissue-engineered",
    "status=application-withdrawn&status=refused",
    "therapeutic_area=hemophilia-b",
    "mechanism=cd19-car-t&mechanism=bcma-car-t",
    "holder=novartis-europharm-limited",
    "cell_source=allogeneic",
    "orphan=true&prime=false",
    "conditional=true",
    "exceptional_circumstances=false&category=somatic-cell-therapy",
    "authorised_from=2020-01-01&authorised_to=2022-12-31",
    "q=kymria",
    "q=tisagenlecleucel",
    "ordering=-authorisation_date",
    "ordering=authorisation_date&category=gene-therapy",
    "ordering=-name",
    "page=2",
    "",
]


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def test_both_views_share_one_filterset_class():
    page_view = resolve(reverse("products:product_list")).func.view_class
    assert page_view.filterset_class is ProductViewSet.filterset_class is ProductFilterSet


@pytest.mark.parametrize("query", QUERIES)
def test_page_and_api_list_the_same_products(client, catalogue, query):
    page = client.get(reverse("products:product_list") + "?" + query)
    api = client.get(reverse("api:product-list") + "?" + query)
    assert page.status_code == 200 and api.status_code == 200, api.content
    page_slugs = [product.slug for product in page.context["page_obj"]]
    assert page_slugs
    assert page_slugs == [row["slug"] for row in api.json()["results"]]
    assert page.context["page_obj"].paginator.count == api.json()["count"]


def test_the_done_when_query_gives_the_withdrawn_gene_therapies_on_both(client, catalogue):
    query = "?category=gene-therapy&status=withdrawn"
    page = client.get(reverse("products:product_list") + query)
    api = client.get(reverse("api:product-list") + query)
    expected = ["beqvez", "skysona", "zynteglo"]
    assert [product.slug for product in page.context["page_obj"]] == expected
    assert [row["slug"] for row in api.json()["results"]] == expected
    for slug in expected:
        assert reverse("products:product_detail", kwargs={"slug": slug}) in page.content.decode()
