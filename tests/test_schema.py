"""The OpenAPI 3 schema: valid, complete, and true of the live API (a bounded schemathesis run)."""

from __future__ import annotations

import pytest
import schemathesis
import yaml
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from rest_framework.throttling import AnonRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from products.choices import CellSource, Status
from products.filters import ProductFilterSet

SCHEMA = reverse("api:schema")
GET_OPERATIONS = {
    "/api/v1/products/",
    "/api/v1/products/{slug}/",
    "/api/v1/categories/",
    "/api/v1/categories/{slug}/",
    "/api/v1/therapeutic-areas/",
    "/api/v1/therapeutic-areas/{slug}/",
    "/api/v1/mechanisms/",
    "/api/v1/mechanisms/{slug}/",
    "/api/v1/holders/",
    "/api/v1/holders/{slug}/",
    "/api/v1/compare/",
}


@pytest.fixture
def openapi(client, catalogue):
    cache.clear()
    response = client.get(SCHEMA)
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def product_list_parameters(openapi) -> dict[str, dict]:
    operation = openapi["paths"]["/api/v1/products/"]["get"]
    return {parameter["name"]: parameter for parameter in operation["parameters"]}


def test_schema_is_valid_openapi_3(openapi):
    assert openapi["openapi"].startswith("3.")
    validate_schema(openapi)  # raises on any violation of the OpenAPI 3 JSON schema
    assert openapi["info"]["title"] == "ATMP Catalogue API"


def test_schema_documents_exactly_the_read_operations(openapi):
    assert set(openapi["paths"]) == GET_OPERATIONS
    for path, operations in openapi["paths"].items():
        assert set(operations) == {"get"}, path


def test_schema_is_also_served_as_json(client, catalogue):
    response = client.get(SCHEMA + "?format=json")
    assert response.status_code == 200
    assert response.json()["paths"]["/api/v1/products/"]["get"]["operationId"] == "products_list"


def test_every_filter_of_the_filterset_is_a_documented_parameter(openapi):
    parameters = product_list_parameters(openapi)
    assert set(ProductFilterSet.base_filters) | {"page", "page_size"} == set(parameters)
    assert all(parameter["in"] == "query" for parameter in parameters.values())
    assert all(parameter.get("description") for parameter in parameters.values())


def test_parameters_carry_types_and_allowed_values(openapi):
    parameters = product_list_parameters(openapi)
    schema = {name: parameter["schema"] for name, parameter in parameters.items()}
    assert schema["q"]["type"] == "string"
    assert schema["status"]["type"] == "array"
    assert set(schema["status"]["items"]["enum"]) == set(Status.values)
    assert set(schema["cell_source"]["enum"]) == set(CellSource.values)
    assert {"gene-therapy", "somatic-cell-therapy", "tissue-engineered", "combined"} <= set(
        schema["category"]["items"]["enum"]
    )
    assert "not-known" in schema["category"]["items"]["enum"]  # Zemcelpro's: none stated
    assert "hemophilia-b" in schema["therapeutic_area"]["items"]["enum"]
    assert "cd19-car-t" in schema["mechanism"]["items"]["enum"]
    assert "novartis-europharm-limited" in schema["holder"]["enum"]
    for name in ("orphan", "conditional", "exceptional_circumstances", "prime"):
        assert schema[name]["type"] == "boolean" or set(schema[name]["enum"]) == {"true", "false"}
    for name in ("authorised_from", "authorised_to"):
        assert (schema[name]["type"], schema[name]["format"]) == ("string", "date")
    ordering = schema["ordering"].get("items", schema["ordering"])
    assert set(ordering["enum"]) == {"name", "-name", "authorisation_date", "-authorisation_date"}
    assert schema["page"] == {"type": "integer", "minimum": 1}
    assert (schema["page_size"]["minimum"], schema["page_size"]["maximum"]) == (1, 100)
    assert parameters["category"]["explode"] is True  # repeat the parameter for OR


def test_schema_gives_example_responses(openapi):
    product = openapi["paths"]["/api/v1/products/{slug}/"]["get"]["responses"]
    example = product["200"]["content"]["application/json"]["examples"]["Kymriah"]["value"]
    assert example["slug"] == "kymriah" and example["events"]
    listing = openapi["paths"]["/api/v1/products/"]["get"]["responses"]
    assert listing["200"]["content"]["application/json"]["examples"]["Products"]["value"]["count"]
    assert set(listing) >= {"200", "304", "400", "429"}
    bad = listing["400"]["content"]["application/json"]["examples"]
    assert any("category" in example["value"] for example in bad.values())
    for path in GET_OPERATIONS:
        responses = openapi["paths"][path]["get"]["responses"]
        assert "200" in responses and ("404" in responses or "400" in responses), path


def test_product_schema_marks_unknown_facts_nullable_and_areas_as_a_list(openapi):
    product = openapi["components"]["schemas"]["Product"]["properties"]
    for field in ("category", "holder", "authorisation_date", "status_date", "orphan", "inn"):
        assert product[field].get("nullable") or any(
            option.get("nullable") for option in product[field].get("allOf", [])
        ), field
    indication = openapi["components"]["schemas"]["Indication"]["properties"]
    assert indication["therapeutic_area"]["type"] == "array"
    assert "list" in indication["therapeutic_area"]["description"]


def test_docs_page_serves_swagger_ui_without_inline_script(client, catalogue):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "<script>" not in page  # the start-up script is a separate file
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("api:schema") in script.content.decode()


# --- Property-based: schemathesis against the live test server ----------------------------------

#: No server error, and responses as documented. Left out: ``positive_data_acceptance``, since
#: a schema-valid request may still be the user's mistake (a page past the end is a 400).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_api_conforms_to_its_schema(live_server, catalogue, monkeypatch):
    """For every GET operation, generated requests meet no server error, and every answer has a
    documented status, content type and body.

    Runs schemathesis' strategies under Hypothesis directly: its pytest loader
    (``from_fixture``) does not work with pytest 9 yet.
    """
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    cache.clear()
    schema = schemathesis.openapi.from_url(f"{live_server.url}{SCHEMA}?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} == GET_OPERATIONS
    assert {operation.method.upper() for operation in operations} == {"GET"}
    calls: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case):
            response = case.call_and_validate(checks=CHECKS)
            calls.append(response.status_code)

        conforms()

    assert len(calls) >= 10 * len(operations)
    assert 200 in calls and 404 in calls


def test_api_survives_requests_that_break_its_schema(live_server, catalogue, monkeypatch):
    """Schema-violating requests (negative mode) get a documented 4xx in JSON, never a 5xx."""
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    cache.clear()
    schema = schemathesis.openapi.from_url(f"{live_server.url}{SCHEMA}?format=json")
    calls: list[int] = []

    # The list operations: their query parameters have types and values to break (a detail's
    # slug is any string, so no request can break its schema).
    lists = [result.ok() for result in schema.get_all_operations()]
    lists = [operation for operation in lists if "{slug}" not in operation.path]
    assert len(lists) == 6  # five lists and the comparison

    for operation in lists:

        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def rejected(case):
            response = case.call_and_validate(
                checks=[not_a_server_error, status_code_conformance, content_type_conformance]
            )
            calls.append(response.status_code)

        rejected()

    assert 400 in calls and max(calls) < 500
