"""Top-level routes: the public pages, the API, the admin, the health check and the metrics."""

from django.contrib import admin
from django.urls import include, path

from atmp_catalogue.views import healthz, metrics, ping

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/ping", ping, name="ping"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("products.api.urls")),
    path("", include("products.urls")),
]
