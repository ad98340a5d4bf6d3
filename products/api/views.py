"""The read-only JSON API: products and the four vocabularies, cacheable, documented.

Products are filtered by ``ProductFilterSet``, the very class of the HTML list, so a page's query
string is a valid API query. Everything here is public and read-only: there is no
authentication, every write method answers 405, and anonymous clients are throttled.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import caches
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.http import http_date, quote_etag
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
from rest_framework.response import Response

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
from products.caching import CACHE_ALIAS, TIMEOUT, cache_key, catalogue_stamp, digest
from products.choices import HELD_AUTHORISATION
from products.filters import ProductFilterSet
from products.models import SLUG_PATTERN, Category, Product

#: How long a client or a CDN may reuse a response without asking again (seconds).
CACHE_MAX_AGE = 300
#: Bumped when the JSON of a product changes shape, so that old ETags stop matching.
REPRESENTATION_VERSION = "1"

SLUG_RE = re.compile(SLUG_PATTERN)


class CataloguePagination(PageNumberPagination):
    """``page`` and ``page_size`` (1 to ``CATALOGUE_MAX_PAGE_SIZE``); a bad value is a 400.

    DRF answers a page past the end with 404 and ignores a bad ``page_size``; SPEC.md makes both
    the user's mistake, answered ``{"page": [...]}`` or ``{"page_size": [...]}``.
    """

    page_size_query_param = "page_size"
    max_page_size = settings.CATALOGUE_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        raw = request.query_params.get(self.page_query_param, "1")
        if raw in self.last_page_strings:
            raw = str(paginator.num_pages)
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["Give a page number: 1, 2, 3…"]})
        number = int(raw)
        if number > paginator.num_pages:
            raise ValidationError(
                {
                    self.page_query_param: [
                        f"Page {number} is past the end: the last page is {paginator.num_pages}."
                    ]
                }
            )
        self.page = paginator.page(number)
        return list(self.page)

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

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code in (200, 304):
            patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE)
        return response


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
class ProductViewSet(PublicReadOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """Published products. The list is filtered by the same ``ProductFilterSet`` as the page."""

    queryset = Product.objects.published().with_related()
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet

    def filter_queryset(self, queryset):
        # The filters select lists; a product's own URL names it whatever its status.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def dispatch(self, request, *args, **kwargs):
        # A revalidation of the JSON this catalogue version would send again is answered before
        # DRF's negotiation, throttling and filtering: it costs what a trivial view costs (it is
        # not counted by the throttle, as it makes no query and sends no body).
        if request.method in ("GET", "HEAD") and "HTTP_IF_NONE_MATCH" in request.META:
            self.stamp = catalogue_stamp(request)
            self.etag = product_etag(self.stamp, request.get_full_path(), "application/json")
            if request.META["HTTP_IF_NONE_MATCH"] == self.etag:
                response = self._stamp(HttpResponseNotModified())
                patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE)
                return response
        return super().dispatch(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        cached = self._from_cache()
        return super().list(request, *args, **kwargs) if cached is None else cached

    def retrieve(self, request, *args, **kwargs):
        cached = self._from_cache()
        return super().retrieve(request, *args, **kwargs) if cached is None else cached

    def _from_cache(self) -> HttpResponse | None:
        """A 304, or the response already rendered for this catalogue version; else None.

        The validators depend only on the catalogue version and the request, so a revalidation
        costs one primary-key lookup: no filtering, counting or serialising. ``Last-Modified``
        is the catalogue's last change (never older than the selection's own).
        """
        request = self.request
        self.stamp = catalogue_stamp(request)
        self.etag = product_etag(self.stamp, request.get_full_path(), request.accepted_media_type)
        last = self.stamp.changed_at
        not_modified = get_conditional_response(
            request, etag=self.etag, last_modified=int(last.timestamp()) if last else None
        )
        if not_modified is not None:
            return self._stamp(not_modified)
        hit = caches[CACHE_ALIAS].get(self._cache_key())
        if hit is None:
            return None
        content, content_type = hit
        return self._stamp(HttpResponse(content, content_type=content_type))

    def _cache_key(self) -> str:
        return cache_key("api", self.etag)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "etag", None) and response.status_code == 200:
            if isinstance(response, Response):  # rendered now, kept for this catalogue version
                response.render()
                caches[CACHE_ALIAS].set(
                    self._cache_key(), (response.content, response["Content-Type"]), TIMEOUT
                )
            self._stamp(response)
        return response

    def _stamp(self, response):
        response["ETag"] = self.etag
        if self.stamp.changed_at:
            response["Last-Modified"] = http_date(self.stamp.changed_at.timestamp())
        return response


def product_etag(stamp, full_path: str, media_type: str) -> str:
    """The validator of a product response: the catalogue version, the query and the format."""
    return quote_etag(digest(REPRESENTATION_VERSION, stamp.key, full_path, media_type))


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


class VocabularyViewSet(PublicReadOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """A vocabulary with its product counts (one query per page); ETag from the content.

    Holders, mechanisms and therapeutic areas list the terms a published product uses
    (``ProductQuerySet.terms_in_use``): a draft's new term is a 404 until it is published.

    Querysets order explicitly: Django ignores ``Meta.ordering`` in aggregating queries.
    """

    filter_backends: tuple = ()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response.render()
            set_response_etag(response)
            return get_conditional_response(request, etag=response["ETag"], response=response)
        return response


def vocabulary_schema(plural: str, singular: str, serializer, example: OpenApiExample):
    return extend_schema_view(
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


@vocabulary_schema("categories", "category", CategorySerializer, examples.CATEGORY_LIST)
class CategoryViewSet(VocabularyViewSet):
    """The four legal classes of ATMP."""

    queryset = Category.objects.annotate(product_count=published_count("products")).order_by(
        "position", "name"
    )
    serializer_class = CategorySerializer


@vocabulary_schema(
    "therapeutic areas",
    "therapeutic area",
    TherapeuticAreaSerializer,
    examples.THERAPEUTIC_AREA_LIST,
)
class TherapeuticAreaViewSet(VocabularyViewSet):
    """The EMA's therapeutic-area terms of the indications."""

    queryset = (
        Product.objects.published()
        .terms_in_use("indications__therapeutic_areas")
        .annotate(product_count=published_count("indications__product"))
        .order_by("name")
    )
    serializer_class = TherapeuticAreaSerializer


@vocabulary_schema(
    "mechanisms", "mechanism of action", MechanismSerializer, examples.MECHANISM_LIST
)
class MechanismViewSet(VocabularyViewSet):
    """How the products work."""

    queryset = (
        Product.objects.published()
        .terms_in_use("mechanisms")
        .annotate(product_count=published_count("products"))
        .order_by("name")
    )
    serializer_class = MechanismSerializer


@vocabulary_schema(
    "holders", "marketing authorisation holder", HolderSerializer, examples.HOLDER_LIST
)
class HolderViewSet(VocabularyViewSet):
    """Marketing authorisation holders (and applicants)."""

    queryset = (
        Product.objects.published()
        .terms_in_use("holder")
        .annotate(product_count=published_count("products"))
        .order_by("name")
    )
    serializer_class = HolderSerializer
