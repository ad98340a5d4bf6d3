"""FHIR R5 (`/api/v1/fhir/`): every resource validates with `fhir.resources`; search Bundles."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.urls import reverse
from fhir.resources.bundle import Bundle
from fhir.resources.medicinalproductdefinition import MedicinalProductDefinition
from fhir.resources.operationoutcome import OperationOutcome
from fhir.resources.regulatedauthorization import RegulatedAuthorization

from products.choices import Status
from products.models import Product
from tests.factories import ProductFactory
from tests.test_filters import INVALID_QUERIES

MODELS = {
    "MedicinalProductDefinition": MedicinalProductDefinition,
    "RegulatedAuthorization": RegulatedAuthorization,
}
FHIR_JSON = "application/fhir+json"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def read(client, resource_type: str, slug: str):
    return client.get(f"/api/v1/fhir/{resource_type}/{slug}")


@pytest.mark.parametrize("resource_type", MODELS)
def test_every_published_product_validates_as_each_resource(client, catalogue, resource_type):
    slugs = list(Product.objects.published().values_list("slug", flat=True))
    assert len(slugs) > 40
    for slug in slugs:
        response = read(client, resource_type, slug)
        assert response.status_code == 200, slug
        assert response["Content-Type"] == FHIR_JSON
        resource = MODELS[resource_type].model_validate_json(response.content)
        assert resource.id == slug
        assert resource.get_resource_type() == resource_type


def test_a_product_reads_as_fhir_with_its_facts(client, catalogue):
    kymriah = Product.objects.get(slug="kymriah")
    mpd = MedicinalProductDefinition.model_validate_json(
        read(client, "MedicinalProductDefinition", "kymriah").content
    )
    assert mpd.name[0].productName == "Kymriah"
    assert mpd.identifier[0].value == kymriah.ema_product_number == "EMEA/H/C/004090"
    assert mpd.ingredient[0].text == "tisagenlecleucel"
    codes = {coding.code for concept in mpd.classification for coding in concept.coding}
    assert {"gene-therapy", kymriah.atc_code} <= codes
    assert "diffuse large B-cell lymphoma" in mpd.indication

    ra = RegulatedAuthorization.model_validate_json(
        read(client, "RegulatedAuthorization", "kymriah").content
    )
    assert ra.subject[0].reference == "MedicinalProductDefinition/kymriah"
    assert ra.status.coding[0].code == "authorised"
    assert str(ra.validityPeriod.start) == "2018-08-23"
    assert ra.holder.display == kymriah.holder.name
    assert len(ra.indication) == kymriah.indications.count() > 1
    kinds = [application.type.coding[0].code for application in ra.case.application]
    assert "initial-authorisation" in kinds
    basis = {concept.coding[0].code for concept in ra.basis}
    assert basis == {"orphan", "prime"}  # true at first authorisation


def test_an_ended_authorisation_has_its_status_date_and_end(client, catalogue):
    glybera = RegulatedAuthorization.model_validate_json(
        read(client, "RegulatedAuthorization", "glybera").content
    )
    assert glybera.status.coding[0].code == "expired"
    assert str(glybera.statusDate) == "2017-10-28"
    assert str(glybera.validityPeriod.end) == "2017-10-28"
    # A partial date stays partial: Glybera's negative opinion is known to the year only.
    dates = [str(a.dateDateTime) for a in glybera.case.application if a.dateDateTime]
    assert "2011" in dates


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"category": "gene-therapy"}, {"category": "gene-therapy"}),
        ({"status": "withdrawn"}, {"status": "withdrawn"}),
        ({"status": "refused", "category": "gene-therapy"}, {"status": "refused"}),
    ],
)
@pytest.mark.parametrize("resource_type", MODELS)
def test_a_search_is_a_valid_searchset_of_the_apis_products(
    client, catalogue, query, expected, resource_type
):
    url = f"/api/v1/fhir/{resource_type}?{urlencode({**query, '_count': 100})}"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "searchset"
    api = client.get(f"{reverse('api:product-list')}?{urlencode({**query, 'page_size': 100})}")
    slugs = [row["slug"] for row in api.json()["results"]]
    assert slugs
    assert bundle.total == len(slugs)
    assert [entry.resource.id for entry in bundle.entry] == slugs
    for entry in bundle.entry:
        assert entry.fullUrl == f"http://testserver/api/v1/fhir/{resource_type}/{entry.resource.id}"
        assert entry.resource.get_resource_type() == resource_type
        assert entry.search.mode == "match"


def test_a_search_pages_with_count_and_links(client, catalogue):
    first = Bundle.model_validate_json(
        client.get("/api/v1/fhir/MedicinalProductDefinition?_count=5").content
    )
    listed = Product.objects.published().held_authorisation().count()
    assert first.total == listed
    assert len(first.entry) == 5
    links = {link.relation: link.url for link in first.link}
    assert "page=2" in links["next"] and "previous" not in links
    second = Bundle.model_validate_json(client.get(links["next"]).content)
    assert {e.resource.id for e in second.entry}.isdisjoint({e.resource.id for e in first.entry})


def test_a_search_with_nothing_found_is_an_empty_searchset(client, catalogue):
    response = client.get("/api/v1/fhir/RegulatedAuthorization?q=zzzzqqqq")
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.total == 0 and not bundle.entry


@pytest.mark.parametrize("query", [*INVALID_QUERIES, "_count=0", "_count=101", "page=x", "page=99"])
def test_a_bad_parameter_is_a_400_operation_outcome_naming_it(client, catalogue, query):
    parameter = query.split("=")[0]
    response = client.get(f"/api/v1/fhir/MedicinalProductDefinition?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == FHIR_JSON
    outcome = OperationOutcome.model_validate_json(response.content)
    assert outcome.issue[0].code == "invalid"
    assert outcome.issue[0].expression == [parameter]
    assert outcome.issue[0].diagnostics.startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/fhir/MedicinalProductDefinition/no-such-product",
        "/api/v1/fhir/RegulatedAuthorization/Not%20a%20slug",
        "/api/v1/fhir/Patient/kymriah",
        "/api/v1/fhir/",
        "/api/v1/fhir/MedicinalProductDefinition/kymriah/extra",
    ],
)
def test_anything_else_is_a_404_operation_outcome(client, catalogue, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR_JSON
    assert OperationOutcome.model_validate_json(response.content).issue[0].code == "not-found"


def test_a_draft_is_not_served(client, catalogue):
    ProductFactory(slug="draftex", is_published=False)
    assert read(client, "RegulatedAuthorization", "draftex").status_code == 404
    assert read(client, "MedicinalProductDefinition", "draftex").status_code == 404


def test_any_accept_header_gets_fhir_json(client, catalogue):
    for accept in ("application/json", "text/html", "application/fhir+json", "image/png"):
        response = client.get(
            "/api/v1/fhir/MedicinalProductDefinition/luxturna", HTTP_ACCEPT=accept
        )
        assert response.status_code == 200
        assert response["Content-Type"] == FHIR_JSON


def test_writes_are_405_operation_outcomes(client, catalogue):
    response = client.post("/api/v1/fhir/MedicinalProductDefinition", data={})
    assert response.status_code == 405
    assert OperationOutcome.model_validate_json(response.content).issue[0].code == ("not-supported")


def test_a_search_reads_a_fixed_number_of_queries(client, catalogue, django_assert_max_num_queries):
    every = "&".join(f"status={value}" for value in Status.values)
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/fhir/RegulatedAuthorization?{every}&_count=100")
    assert len(response.json()["entry"]) == Product.objects.published().count()
