"""The read-only JSON API: products and the four vocabularies, cacheable, documented.

Products are filtered by ``ProductFilterSet``, the very class of the HTML list, so a page's query
string is a valid API query. Everything here is public and read-only: there is no
authentication, every write method answers 405, and anonymous clients are throttled.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.paginator import EmptyPage
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.utils.decorators import method_decorator
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from atmp_catalogue.middleware import MAX_QUERY_STRING
from products.api import examples
from products.api.schema import VocabularyFilterExtension  # noqa: F401 (registers it)
from products.api.serializers import (
    CategorySerializer,
    DetailSerializer,
    HolderSerializer,
    MechanismSerializer,
    ProductSerializer,
    TherapeuticAreaSerializer,
)
from products.caching import cached_page, conditional
from products.choices import HELD_AUTHORISATION
from products.filters import ProductFilterSet
from products.models import SLUG_PATTERN, Category, Product

#: How long a client or a CDN may reuse a response without asking again (seconds).
CACHE_MAX_AGE = 300

SLUG_RE = re.compile(SLUG_PATTERN)


class CataloguePagination(PageNumberPagination):
    """``page`` and ``page_size`` (1 to ``CATALOGUE_MAX_PAGE_SIZE``); a bad value is a 400.

    DRF answers a page past the end with 404 and ignores a bad ``page_size``; SPEC.md makes both
    the user's mistake, answered ``{"page": [...]}`` or ``{"page_size": [...]}``. DRF's
    ``paginate_queryset`` does the rest.
    """

    page_size_query_param = "page_size"
    max_page_size = settings.CATALOGUE_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            reason = f"Give a whole number from 1 to {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [reason]})
        return int(raw)

    def get_page_number(self, request, paginator):
        """DRF's page number, checked here (where the paginator is known): a bad one is a 400."""
        raw = super().get_page_number(request, paginator)
        if not (str(raw).isascii() and str(raw).isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["Give a page number: 1, 2, 3…"]})
        try:
            return paginator.validate_number(raw)
        except EmptyPage:
            reason = f"Page {raw} is past the end: the last page is {paginator.num_pages}."
            raise ValidationError({self.page_query_param: [reason]}) from None

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        properties = envelope["properties"]
        properties["count"]["example"] = 32
        properties["next"]["example"] = f"{examples.BASE}/api/v1/products/?page=2"
        properties["previous"]["example"] = None
        return envelope

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    "Page number (from 1). A page past the end is a 400 keyed `page`."
                )
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
                parameter["description"] = (
                    f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
                )
        return parameters


def bad_request_response(example_parameter: str, example_reason: str) -> OpenApiResponse:
    return OpenApiResponse(
        response={
            "type": "object",
            "description": "Each rejected query parameter with the reasons.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        description="A query parameter has a value the API cannot use; the body names it.",
        examples=[
            OpenApiExample(
                "Rejected parameter",
                value={example_parameter: [example_reason]},
                status_codes=["400"],
            )
        ],
    )


NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the `If-None-Match` ETag (or `If-Modified-Since` date) still holds."
)
THROTTLED = OpenApiResponse(
    response=DetailSerializer,
    description="Too many requests from this address; `Retry-After` gives the seconds to wait.",
)
NOT_FOUND = OpenApiResponse(response=DetailSerializer, description="No such published term.")
TOO_LONG = OpenApiResponse(
    response=DetailSerializer,
    description=f"The query string is longer than {MAX_QUERY_STRING:,} bytes.",
)


def not_found(request, *args, **kwargs) -> JsonResponse:
    """A JSON 404 for a path under ``/api/v1/`` that names no endpoint."""
    return JsonResponse({"detail": "Not found."}, status=404)


def public_get(view):
    """A public GET of the catalogue: revalidated by its version with ``Cache-Control``.

    Applied to ``dispatch``, so that a revalidation that still holds is a 304 before DRF's
    negotiation, throttle and filtering (measured in bench/README.md: it pays).
    """
    return conditional(view, max_age=CACHE_MAX_AGE)


def cached_api(view):
    """The response rendered for this catalogue version: after DRF's throttle, before its
    filtering, counting and serialising."""
    return cached_page(view, kind="api")


class PublicReadOnlyMixin:
    """Public, unauthenticated, read-only, and cacheable by clients and shared caches."""

    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)
    pagination_class = CataloguePagination
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"  # any one path segment; get_object() answers 404 for non-slugs

    def get_object(self):
        # A string that cannot be a slug cannot name anything: answer 404 without asking the
        # database (which also rejects characters such as NUL).
        if not SLUG_RE.match(self.kwargs.get(self.lookup_field, "")):
            raise Http404
        return super().get_object()

    @method_decorator(public_get)
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)


class CatalogueViewSet(PublicReadOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """A read-only collection of the catalogue, its responses kept per catalogue version."""

    @method_decorator(cached_api)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @method_decorator(cached_api)
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


PRODUCT_LIST_DESCRIPTION = """\
Published products, filtered, searched, ordered and paginated with the query parameters of the
catalogue's `/products/` page (a page's query string is a valid query here).

Without `status`, the list holds the products that hold or have held an EU marketing
authorisation (authorised, suspended, withdrawn, expired, lapsed, revoked); `status` selects
exactly the statuses it names, from all eleven. Repeat a parameter for OR
(`?category=gene-therapy&category=combined`). A value the API cannot use is a 400 naming the
parameter, never an empty list.

Responses carry `ETag`, `Last-Modified` (the catalogue's last change) and `Cache-Control`; send
`If-None-Match` or `If-Modified-Since` for a 304.
"""


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description=PRODUCT_LIST_DESCRIPTION,
        responses={
            200: ProductSerializer(many=True),
            304: NOT_MODIFIED,
            400: bad_request_response(
                "category",
                "Select a valid choice. cell-therapy is not one of the available choices.",
            ),
            414: TOO_LONG,
            429: THROTTLED,
        },
        examples=[examples.PRODUCT_LIST],
    ),
    retrieve=extend_schema(
        summary="One product",
        description="A published product by its slug (its current brand name). Any status.",
        responses={
            200: ProductSerializer,
            304: NOT_MODIFIED,
            404: NOT_FOUND,
            414: TOO_LONG,
            429: THROTTLED,
        },
        examples=[examples.PRODUCT],
    ),
)
class ProductViewSet(CatalogueViewSet):
    """Published products. The list is filtered by the same ``ProductFilterSet`` as the page."""

    queryset = Product.objects.published().with_related()
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet

    def filter_queryset(self, queryset):
        # The filters select lists; a product's own URL names it whatever its status.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


def published_count(relation: str) -> Count:
    """Published products in the default list (held an authorisation), counted once each."""
    return Count(
        relation,
        filter=Q(
            **{
                f"{relation}__is_published": True,
                f"{relation}__status__in": HELD_AUTHORISATION,
            }
        ),
        distinct=True,
    )


class VocabularyViewSet(CatalogueViewSet):
    """A vocabulary with its product counts (one query per page), kept per catalogue version.

    Holders, mechanisms and therapeutic areas list the terms a published product uses
    (``ProductQuerySet.terms_in_use``): a draft's new term is a 404 until it is published.

    Querysets order explicitly: Django ignores ``Meta.ordering`` in aggregating queries.
    """

    filter_backends: tuple = ()


def terms_with_counts(path: str, *, counted: str = "products"):
    """The terms at ``path`` that a published product uses, with their ``product_count`` (the
    products through ``counted``), by name."""
    return (
        Product.objects.published()
        .terms_in_use(path)
        .annotate(product_count=published_count(counted))
        .order_by("name")
    )


def vocabulary_schema(plural: str, singular: str, serializer, example: OpenApiExample):
    """The viewset's serializer and documentation."""

    def decorate(viewset):
        viewset.serializer_class = serializer
        return documented(viewset)

    documented = extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}",
            description=(
                f"Every {singular} that a published product uses (the categories: all four), "
                "with `product_count`, the number of published products in the default list "
                "(those that hold or have held an EU marketing authorisation), and "
                "`products_url`, the API's list of them. Responses carry an `ETag`; send "
                "`If-None-Match` for a 304."
            ),
            responses={
                200: serializer(many=True),
                304: NOT_MODIFIED,
                400: bad_request_response("page", "Page 9 is past the end: the last page is 1."),
                414: TOO_LONG,
                429: THROTTLED,
            },
            examples=[example],
        ),
        retrieve=extend_schema(
            summary=f"One {singular}",
            responses={
                200: serializer,
                304: NOT_MODIFIED,
                404: NOT_FOUND,
                414: TOO_LONG,
                429: THROTTLED,
            },
        ),
    )
    return decorate


@vocabulary_schema("categories", "category", CategorySerializer, examples.CATEGORY_LIST)
class CategoryViewSet(VocabularyViewSet):
    """The four legal classes of ATMP."""

    queryset = Category.objects.annotate(product_count=published_count("products")).order_by(
        "position", "name"
    )


@vocabulary_schema(
    "therapeutic areas",
    "therapeutic area",
    TherapeuticAreaSerializer,
    examples.THERAPEUTIC_AREA_LIST,
)
class TherapeuticAreaViewSet(VocabularyViewSet):
    """The EMA's therapeutic-area terms of the indications (counted through them)."""

    queryset = terms_with_counts("indications__therapeutic_areas", counted="indications__product")


@vocabulary_schema(
    "mechanisms", "mechanism of action", MechanismSerializer, examples.MECHANISM_LIST
)
class MechanismViewSet(VocabularyViewSet):
    """How the products work."""

    queryset = terms_with_counts("mechanisms")


@vocabulary_schema(
    "holders", "marketing authorisation holder", HolderSerializer, examples.HOLDER_LIST
)
class HolderViewSet(VocabularyViewSet):
    """Marketing authorisation holders (and applicants)."""

    queryset = terms_with_counts("holder")
