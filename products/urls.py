"""Public pages of the catalogue (paths of SPEC.md), cached per catalogue version for visitors."""

from django.urls import path

from products import views
from products.caching import cached_page

app_name = "products"

urlpatterns = [
    path("", cached_page(views.HomeView.as_view()), name="home"),
    path("products/", cached_page(views.ProductListView.as_view()), name="product_list"),
    path("products/export.csv", views.product_export, name="product_export"),
    path(
        "products/<slug:slug>/",
        cached_page(views.ProductDetailView.as_view()),
        name="product_detail",
    ),
    path("categories/", cached_page(views.CategoryListView.as_view()), name="category_list"),
    path(
        "categories/<slug:slug>/",
        cached_page(views.CategoryDetailView.as_view()),
        name="category_detail",
    ),
    path(
        "therapeutic-areas/",
        cached_page(views.TherapeuticAreaListView.as_view()),
        name="therapeutic_area_list",
    ),
    path(
        "therapeutic-areas/<slug:slug>/",
        cached_page(views.TherapeuticAreaDetailView.as_view()),
        name="therapeutic_area_detail",
    ),
]
