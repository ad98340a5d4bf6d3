"""``/sitemap.xml`` and ``/robots.txt`` for search engines (``django.contrib.sitemaps``).

``/sitemap.xml`` is an index of one sitemap per kind of page (``/sitemap-products.xml``, …),
so that 100,000 products are still listed (a sitemap holds 50,000 addresses; Django pages a
larger one and the index names every page). Together they list every public page worth
indexing: home, the list, every published product (any status: its page is public), every
category and every therapeutic area a published product treats. Last-modified dates come
from the catalogue: a product's own ``updated_at`` (every writer saves the product row when its
indications or events change), a category's or area's newest published product, and the
catalogue's last change for the pages that summarise it. Drafts never appear.
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.http import HttpResponse
from django.urls import reverse

from products.caching import catalogue_stamp
from products.models import Category, Product

#: Paths crawlers have no use for: the admin, the API, downloads and the combinations of
#: products that comparisons make.
ROBOTS_DISALLOW = ("/admin/", "/api/", "/products/export.csv", "/compare/")


class CatalogueSitemap(Sitemap):
    """The pages that summarise the catalogue, dated by its last change."""

    changefreq = "daily"

    def items(self) -> list[str]:
        return [
            "products:home",
            "products:product_list",
            "products:category_list",
            "products:therapeutic_area_list",
        ]

    def location(self, name: str) -> str:
        return reverse(name)

    def lastmod(self, name: str):
        return catalogue_stamp().changed_at


class ProductSitemap(Sitemap):
    """Every published product page."""

    changefreq = "weekly"

    def items(self):
        return Product.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, product: Product):
        return product.updated_at

    def get_latest_lastmod(self):
        """For the index: one aggregate, not a pass over every product."""
        return Product.objects.published().aggregate(latest=Max("updated_at"))["latest"]


def published_updated_at(path: str) -> Max:
    """The newest ``updated_at`` of the published products at ``path`` from a vocabulary."""
    return Max(f"{path}__updated_at", filter=Q(**{f"{path}__is_published": True}))


class CategorySitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Category.objects.annotate(lastmod=published_updated_at("products")).order_by(
            "position", "name"
        )

    def lastmod(self, category: Category):
        return category.lastmod

    def get_latest_lastmod(self):
        return max(filter(None, (category.lastmod for category in self.items())), default=None)


class TherapeuticAreaSitemap(Sitemap):
    """Areas a published product treats (an area only drafts name is not public)."""

    changefreq = "weekly"

    def items(self):
        return (
            Product.objects.published()
            .terms_in_use("indications__therapeutic_areas")
            .annotate(lastmod=published_updated_at("indications__product"))
            .order_by("slug")
        )

    def lastmod(self, area):
        return area.lastmod

    def get_latest_lastmod(self):
        return max(filter(None, (area.lastmod for area in self.items())), default=None)


SITEMAPS = {
    "catalogue": CatalogueSitemap,
    "products": ProductSitemap,
    "categories": CategorySitemap,
    "therapeutic-areas": TherapeuticAreaSitemap,
}


def robots_txt(request) -> HttpResponse:
    """Crawl everything public but the paths of ``ROBOTS_DISALLOW``; the sitemap's address."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW)]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
