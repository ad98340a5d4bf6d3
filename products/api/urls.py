"""Routes of the JSON API, mounted at ``/api/v1/``: names ``api:product-list`` and so on."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from products.api import views
from products.api.compare import CompareView
from products.api.docs import ApiDocsView

app_name = "api"

router = DefaultRouter(trailing_slash=True)
# No ``.json`` suffix routes: JSON is the only format, and a slug of any characters must reach
# the view (and get a JSON 404) rather than miss every route.
router.include_format_suffixes = False
router.register("products", views.ProductViewSet, basename="product")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("therapeutic-areas", views.TherapeuticAreaViewSet, basename="therapeutic-area")
router.register("mechanisms", views.MechanismViewSet, basename="mechanism")
router.register("holders", views.HolderViewSet, basename="holder")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(), name="docs"),
    path("compare/", CompareView.as_view(), name="compare"),
    *router.urls,
    # Anything else under /api/v1/ is a JSON 404 too (a path without its final slash is first
    # redirected by APPEND_SLASH, as everywhere on the site).
    re_path(r"^.*/$", views.not_found, name="not-found"),
]
