"""Top-level routes: the public pages, the API, the admin and the health check."""

from django.contrib import admin
from django.urls import include, path

from atmp_catalogue.views import healthz, ping

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/ping", ping, name="ping"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("products.api.urls")),
    path("", include("products.urls")),
]
