"""Public pages of the catalogue (paths of SPEC.md), cached per catalogue version for visitors.

Every page is read-only: GET and HEAD. Anything else is a 405 with ``Allow``, never the CSRF
failure page (a page that accepts no write has no form to protect).
"""

from collections.abc import Callable

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from products import compare, data_views, feeds, views
from products.caching import cached_page

app_name = "products"


def read_only(view):
    """GET and HEAD only: a 405 for any other method, before the CSRF check could refuse it."""
    return csrf_exempt(require_safe(view))


def page(view_class):
    """A public page: read-only, and served from the cache of its catalogue version."""
    return read_only(cached_page(view_class.as_view()))


def data_page(template_name: str, page_context: Callable[[], dict]):
    """A page of the open-data section: read-only, its context built afresh on each request."""
    return read_only(
        data_views.DataPageView.as_view(template_name=template_name, page_context=page_context)
    )


urlpatterns = [
    path("", page(views.HomeView), name="home"),
    path("products/", page(views.ProductListView), name="product_list"),
    path("products/export.csv", read_only(views.product_export), name="product_export"),
    path("products/feed/", read_only(feeds.product_list_feed), name="product_list_feed"),
    path("products/<slug:slug>/", page(views.ProductDetailView), name="product_detail"),
    path("products/<str:slug>/feed/", read_only(feeds.product_feed), name="product_feed"),
    path("compare/", page(compare.CompareView), name="compare"),
    path("categories/", page(views.CategoryListView), name="category_list"),
    path("categories/<slug:slug>/", page(views.CategoryDetailView), name="category_detail"),
    path("therapeutic-areas/", page(views.TherapeuticAreaListView), name="therapeutic_area_list"),
    path(
        "therapeutic-areas/<slug:slug>/",
        page(views.TherapeuticAreaDetailView),
        name="therapeutic_area_detail",
    ),
    # Open data: releases are files, read on each request (products/data_views.py).
    path(
        "data/",
        data_page("products/data_releases.html", data_views.release_list_context),
        name="data_releases",
    ),
    path("data/<str:version>/", read_only(data_views.release_folder), name="data_release"),
    # Not cached by catalogue version: an import run (not a catalogue table) changes it too.
    path(
        "data-quality/",
        data_page("products/data_quality.html", data_views.data_quality_context),
        name="data_quality",
    ),
    path(
        "data-quality/export.csv", read_only(data_views.data_quality_csv), name="data_quality_csv"
    ),
    path(
        "data-quality/export.json",
        read_only(data_views.data_quality_json),
        name="data_quality_json",
    ),
    path(
        "data/<str:version>/<str:name>",
        read_only(data_views.release_file),
        name="data_release_file",
    ),
]
