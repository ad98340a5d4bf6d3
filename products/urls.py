"""Public pages of the catalogue (paths of SPEC.md)."""

from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/export.csv", views.product_export, name="product_export"),
    path("products/<slug:slug>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("categories/", views.CategoryListView.as_view(), name="category_list"),
    path("categories/<slug:slug>/", views.CategoryDetailView.as_view(), name="category_detail"),
    path(
        "therapeutic-areas/",
        views.TherapeuticAreaListView.as_view(),
        name="therapeutic_area_list",
    ),
    path(
        "therapeutic-areas/<slug:slug>/",
        views.TherapeuticAreaDetailView.as_view(),
        name="therapeutic_area_detail",
    ),
]
