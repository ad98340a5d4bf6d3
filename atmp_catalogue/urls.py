"""Top-level routes: the public pages, the API, the admin, the health check and the metrics."""

from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps
from django.urls import include, path

from atmp_catalogue.views import healthz, metrics, ping
from products.caching import versioned
from products.sitemaps import SITEMAPS, robots_txt
from products.urls import read_only

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/ping", ping, name="ping"),
    path("metrics", metrics, name="metrics"),
    # An index of one sitemap per kind of page: each stays under the 50,000 addresses a sitemap
    # may hold (a kind with more is paged, and the index names every page).
    path(
        "sitemap.xml",
        read_only(versioned(sitemaps.index)),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        read_only(versioned(sitemaps.sitemap)),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("robots.txt", read_only(robots_txt), name="robots_txt"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("products.api.urls")),
    path("", include("products.urls")),
]
