"""FHIR R5 endpoints under ``/api/v1/fhir/``: read a product's resources, search them in a Bundle.

``GET /api/v1/fhir/MedicinalProductDefinition/<slug>`` and ``.../RegulatedAuthorization/<slug>``
read one published product (any status); ``GET /api/v1/fhir/<type>?category=…&status=…`` is a
searchset ``Bundle`` filtered by ``ProductFilterSet``, the class of the list page and the JSON
API (so its parameters and defaults are theirs), paged by ``_count`` (1 to 100, default 20) and
``page``. Everything is ``application/fhir+json``, whatever the client asks for; an error is an
``OperationOutcome`` (a bad parameter is a 400 whose issue names it in ``expression``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, renderers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from products import fhir
from products.api.views import CACHE_MAX_AGE, SLUG_RE
from products.filters import ProductFilterSet
from products.models import Product

#: Parameters of the search that are not filters.
PAGING = ("_count", "page", "_format")


class FHIRJSONRenderer(renderers.JSONRenderer):
    media_type = fhir.MEDIA_TYPE
    format = "fhir"
    charset = None  # JSON is UTF-8 by definition


class AlwaysFHIR(BaseContentNegotiation):
    """FHIR JSON is the only format: an ``Accept`` of JSON, FHIR JSON or anything gets it."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BadParameter(exceptions.APIException):
    status_code = 400

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 429: "throttled"}


@extend_schema(exclude=True)  # FHIR's own specification describes these resources
class FHIRView(APIView):
    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)
    renderer_classes = (FHIRJSONRenderer,)
    content_negotiation_class = AlwaysFHIR

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        response = super().handle_exception(exc)
        status = response.status_code
        if isinstance(exc, BadParameter):
            issues = [
                {
                    "severity": "error",
                    "code": "invalid",
                    "diagnostics": f"{param}: {' '.join(messages)}",
                    "expression": [param],
                }
                for param, messages in exc.errors.items()
            ]
            response.data = {"resourceType": "OperationOutcome", "issue": issues}
        else:
            detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
            response.data = fhir.operation_outcome(
                ISSUE_CODES.get(status, "processing"), str(detail) or "Error."
            )
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            patch_cache_control(response, public=True, max_age=CACHE_MAX_AGE)
        return response

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/api/v1/fhir/")


class FHIRReadView(FHIRView):
    """One published product as ``MedicinalProductDefinition`` or ``RegulatedAuthorization``."""

    def get(self, request, resource_type: str, slug: str):
        if not SLUG_RE.match(slug):
            raise Http404
        product = Product.objects.published().with_related().filter(slug=slug).first()
        if product is None:
            raise exceptions.NotFound(f"No published product {slug}.")
        return Response(fhir.RESOURCES[resource_type](product))


def _whole_number(params, name: str, *, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= (maximum or int(raw))):
        limit = f" from 1 to {maximum}" if maximum else " from 1"
        raise BadParameter({name: [f"Give a whole number{limit}."]})
    return int(raw)


class FHIRSearchView(FHIRView):
    """A searchset ``Bundle`` of published products, with the list's filters."""

    def get(self, request, resource_type: str):
        params = request.query_params
        filters = params.copy()
        for name in PAGING:
            filters.pop(name, None)
        filterset = ProductFilterSet(filters, queryset=Product.objects.published(), request=request)
        if not filterset.is_valid():
            raise BadParameter({k: [str(m) for m in v] for k, v in filterset.errors.items()})
        count = _whole_number(
            params,
            "_count",
            default=settings.CATALOGUE_PAGE_SIZE,
            maximum=settings.CATALOGUE_MAX_PAGE_SIZE,
        )
        number = _whole_number(params, "page", default=1)
        paginator = Paginator(filterset.qs.with_related(), count)
        if number > paginator.num_pages:
            raise BadParameter(
                {
                    "page": [
                        f"Page {number} is past the end: the last page is {paginator.num_pages}."
                    ]
                }
            )
        page = paginator.page(number)

        def url(page_number: int) -> str:
            query = params.copy()
            query["page"] = str(page_number)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        return Response(
            fhir.searchset(
                resource_type,
                list(page.object_list),
                base=self.base_url(),
                total=paginator.count,
                self_url=request.build_absolute_uri(),
                next_url=url(number + 1) if page.has_next() else None,
                previous_url=url(number - 1) if page.has_previous() else None,
            )
        )


class FHIRNotFoundView(FHIRView):
    """Anything else under ``/api/v1/fhir/``: a FHIR 404."""

    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound(
            "Not found: the resources are MedicinalProductDefinition and RegulatedAuthorization."
        )
