"""``/api/v1/compare/?products=a,b,c``: the comparison of the ``/compare/`` page, as JSON.

The same ``CompareForm`` reads the parameter and the same ``build_comparison`` makes the rows:
``{"products": [{"slug", "name", "url", "html_url"}, …], "rows": [{"key", "label",
"differs", "values"}, …]}``, ``values`` holding one machine value per product, in order.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from products.api.views import (
    NOT_MODIFIED,
    THROTTLED,
    TOO_LONG,
    PublicReadOnlyMixin,
    bad_request_response,
    cached_api,
)
from products.compare import MAX_PRODUCTS, MIN_PRODUCTS, CompareForm, build_comparison

COMPARISON_SCHEMA = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "html_url": {"type": "string", "format": "uri"},
                },
            },
        },
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "example": "cell_source"},
                    "label": {"type": "string", "example": "Cell source"},
                    "differs": {"type": "boolean"},
                    "values": {"type": "array", "items": {}},
                },
            },
        },
    },
}


class CompareView(PublicReadOnlyMixin, APIView):
    """2 to 4 published products side by side; an unknown slug or too many is a 400."""

    filter_backends: tuple = ()
    pagination_class = None

    @extend_schema(
        summary="Compare products",
        description=(
            f"{MIN_PRODUCTS} to {MAX_PRODUCTS} published products side by side, as on the "
            "`/compare/` page: one row per fact (category, mechanisms, target, cell source, "
            "delivery, indications, therapeutic areas, holder, status and dates, each flag at "
            "authorisation and now, the timeline), with `values` in the order of `products` "
            "and `differs` true where they are not all equal. Responses carry an `ETag`; send "
            "`If-None-Match` for a 304."
        ),
        parameters=[
            OpenApiParameter(
                "products",
                OpenApiTypes.STR,
                required=True,
                description="Slugs separated by commas (or the parameter repeated).",
                examples=[
                    OpenApiExample("Three CAR-T products", value="kymriah,yescarta,breyanzi")
                ],
            )
        ],
        responses={
            200: OpenApiResponse(response=COMPARISON_SCHEMA, description="The comparison."),
            304: NOT_MODIFIED,
            400: bad_request_response("products", "No published product is called “kymria”."),
            414: TOO_LONG,
            429: THROTTLED,
        },
    )
    @method_decorator(cached_api)
    def get(self, request, *args, **kwargs):
        form = CompareForm(request.query_params)
        if not form.is_valid():
            return Response({"products": form.errors["products"]}, status=400)
        products = form.cleaned_data["products"]
        rows = build_comparison(products)
        return Response(
            {
                "products": [
                    {
                        "slug": product.slug,
                        "name": product.name,
                        "url": request.build_absolute_uri(
                            reverse("api:product-detail", kwargs={"slug": product.slug})
                        ),
                        "html_url": request.build_absolute_uri(product.get_absolute_url()),
                    }
                    for product in products
                ],
                "rows": [
                    {
                        "key": row.key,
                        "label": row.label,
                        "differs": row.differs,
                        "values": row.values,
                    }
                    for row in rows
                ],
            }
        )
