"""Routes of the JSON API, mounted at ``/api/v1/``: names ``api:product-list`` and so on."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from products.api import fhir_views, views
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

FHIR_TYPES = "MedicinalProductDefinition|RegulatedAuthorization"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(), name="docs"),
    path("compare/", CompareView.as_view(), name="compare"),
    *router.urls,
    # FHIR R5 (products/api/fhir_views.py): no trailing slash, as FHIR's REST API has none.
    re_path(
        rf"^fhir/(?P<resource_type>{FHIR_TYPES})$",
        fhir_views.FHIRSearchView.as_view(),
        name="fhir-search",
    ),
    re_path(
        rf"^fhir/(?P<resource_type>{FHIR_TYPES})/(?P<slug>[^/]+)$",
        fhir_views.FHIRReadView.as_view(),
        name="fhir-read",
    ),
    re_path(r"^fhir(/.*)?$", fhir_views.FHIRNotFoundView.as_view(), name="fhir-not-found"),
    # Anything else under /api/v1/ is a JSON 404 too (a path without its final slash is first
    # redirected by APPEND_SLASH, as everywhere on the site).
    re_path(r"^.*/$", views.not_found, name="not-found"),
]
