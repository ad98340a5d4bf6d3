"""FHIR R5 views of a product: ``MedicinalProductDefinition`` and ``RegulatedAuthorization``.

Each published product is one ``MedicinalProductDefinition`` (its names, INN, ATMP category,
ATC code, description and indications) and one ``RegulatedAuthorization`` for its EU marketing
authorisation or application (status and its date, the first authorisation date, holder,
regulator, the legal basis at authorisation, the authorisation's indications, and the timeline
as the case's applications). Both have the product's slug as id. Resources are built as plain
data and checked by the ``fhir.resources`` models (R5) before they are sent, so what this module
writes is valid FHIR or nothing.

Codes the catalogue defines (its ATMP categories, the EMA's statuses, event kinds, the legal
basis) are in code systems named under ``settings.SITE_URL`` (``/fhir/CodeSystem/<name>``);
ATC codes use the WHO's system. A partial date (``2011``, ``2012-04``) is a FHIR ``dateTime``
as it stands; an event known only to have happened by a date has no date in FHIR.
"""

from __future__ import annotations

import importlib

from django.conf import settings

from products.choices import ENDED_OR_SUSPENDED, HELD_AUTHORISATION, EventKind, Status
from products.flags import FLAGS
from products.models import Product

MEDIA_TYPE = "application/fhir+json"
ATC_SYSTEM = "http://www.whocc.no/atc"
REGION_SYSTEM = "urn:iso:std:iso:3166"
FHIR_ID_MAX = 64  # FHIR ids: [A-Za-z0-9\-\.]{1,64}


def resource_model(resource_type: str):
    """fhir.resources' model of a resource type, imported when first used: importing them costs
    each process a quarter of a second, which most (commands, the tests' servers) never need."""
    module = importlib.import_module(f"fhir.resources.{resource_type.lower()}")
    return getattr(module, resource_type)


def import_resource_models() -> None:
    """Import every resource model the catalogue uses (gunicorn's master, before it forks)."""
    for resource_type in (*RESOURCES, "Bundle", "OperationOutcome"):
        resource_model(resource_type)


def system(name: str) -> str:
    """The URI of one of the catalogue's code or identifier systems."""
    return f"{settings.SITE_URL.rstrip('/')}/fhir/{name}"


def _id(product: Product) -> str | None:
    return product.slug if len(product.slug) <= FHIR_ID_MAX else None


def _date(date, partial: str = "") -> str | None:
    """A FHIR dateTime: the exact date, or the year or year and month where only that is known."""
    return date.isoformat() if date else (partial or None)


def _identifiers(product: Product) -> list[dict]:
    identifiers = [{"system": system("sid/product-slug"), "value": product.slug}]
    if product.ema_product_number:
        identifiers.insert(
            0,
            {
                "use": "official",
                "system": system("sid/ema-product-number"),
                "value": product.ema_product_number,
            },
        )
    return identifiers


def _concept(code: str, display: str, name: str) -> dict:
    coding = {"system": system(f"CodeSystem/{name}"), "code": code, "display": str(display)}
    return {"coding": [coding]}


def _indication_texts(product: Product) -> list[str]:
    texts = []
    for indication in product.indications.all():
        text = indication.condition
        if indication.population:
            text += f" ({indication.population})"
        texts.append(text)
    return texts


def medicinal_product_definition(product: Product) -> dict:
    """The product as a FHIR R5 ``MedicinalProductDefinition`` (validated), as JSON data."""
    names = [{"productName": product.name, "type": {"text": "current brand name"}}]
    names += [{"productName": alias, "type": {"text": "former name"}} for alias in product.aliases]
    classification = []
    if product.category:
        classification.append(
            {
                **_concept(product.category.slug, product.category.name, "atmp-category"),
                "text": f"{product.category.name} ({product.category.abbreviation})",
            }
        )
    if product.atc_code:
        classification.append({"coding": [{"system": ATC_SYSTEM, "code": product.atc_code}]})
    for mechanism in product.mechanisms.all():
        classification.append(_concept(mechanism.slug, mechanism.name, "mechanism-of-action"))
    indications = _indication_texts(product)
    data = {
        "resourceType": "MedicinalProductDefinition",
        "id": _id(product),
        "identifier": _identifiers(product),
        "type": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/medicinal-product-type",
                    "code": "MedicinalProduct",
                    "display": "Medicinal Product",
                }
            ]
        },
        "domain": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/medicinal-product-domain",
                    "code": "Human",
                    "display": "Human use",
                }
            ]
        },
        "description": product.description or None,
        "indication": "\n".join(f"- {text}" for text in indications) or None,
        "classification": classification or None,
        "ingredient": [{"text": product.inn}] if product.inn else None,
        "route": [{"text": product.route_of_administration}]
        if product.route_of_administration
        else None,
        "name": names,
    }
    data = _clean(data)
    return resource_model("MedicinalProductDefinition").model_validate(data).model_dump(mode="json")


def _basis(product: Product) -> list[dict]:
    """The legal basis at first authorisation: the flags that were true then."""
    return [
        _concept(flag.param.replace("_", "-"), flag.label, "authorisation-basis")
        for flag in FLAGS
        if getattr(product, flag.at_field) is True
    ]


def regulated_authorization(product: Product) -> dict:
    """The product's EU marketing authorisation (or application) as ``RegulatedAuthorization``."""
    status = Status(product.status)
    held = product.status in HELD_AUTHORISATION
    applications = []
    for event in product.timeline:
        application = {
            "type": _concept(event.kind, EventKind(event.kind).label, "regulatory-event"),
            "dateDateTime": _date(event.date, event.date_partial),
        }
        if event.note:
            application["type"]["text"] = event.note
        applications.append(application)
    period = {}
    if held and product.authorisation_date:
        period["start"] = product.authorisation_date.isoformat()
    if product.status in ENDED_OR_SUSPENDED and product.status != Status.SUSPENDED:
        if product.status_date:
            period["end"] = product.status_date.isoformat()
    reference = f"MedicinalProductDefinition/{product.slug}"
    data = {
        "resourceType": "RegulatedAuthorization",
        "id": _id(product),
        "identifier": _identifiers(product),
        "subject": [{"reference": reference, "display": product.name}],
        "type": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/regulated-authorization-type",
                    "code": "MarketingAuth",
                    "display": "Marketing Authorization",
                }
            ],
            "text": "EU marketing authorisation (centralised procedure)"
            if held
            else "EU marketing authorisation application (centralised procedure)",
        },
        "description": product.status_reason or None,
        "region": [
            {
                "coding": [{"system": REGION_SYSTEM, "code": "EU", "display": "European Union"}],
                "text": "European Union",
            }
        ],
        "status": {**_concept(status.value, str(status.label), "ema-medicine-status")},
        "statusDate": _date(product.status_date),
        "validityPeriod": period or None,
        "indication": [{"concept": {"text": text}} for text in _indication_texts(product)] or None,
        "basis": _basis(product) or None,
        "holder": {"display": product.holder.name} if product.holder else None,
        "regulator": {
            "display": "European Commission, on the advice of the European Medicines Agency"
        },
        "case": {"application": applications} if applications else None,
    }
    resource = resource_model("RegulatedAuthorization").model_validate(_clean(data))
    return resource.model_dump(mode="json")


RESOURCES = {
    "MedicinalProductDefinition": medicinal_product_definition,
    "RegulatedAuthorization": regulated_authorization,
}


def searchset(
    resource_type: str,
    products: list[Product],
    *,
    base: str,
    total: int,
    self_url: str,
    next_url: str | None,
    previous_url: str | None,
) -> dict:
    """A searchset ``Bundle`` of ``products`` as ``resource_type``; ``base`` ends with ``/``."""
    build = RESOURCES[resource_type]
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    if previous_url:
        links.append({"relation": "previous", "url": previous_url})
    data = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}{resource_type}/{product.slug}",
                "resource": build(product),
                "search": {"mode": "match"},
            }
            for product in products
        ]
        or None,
    }
    return resource_model("Bundle").model_validate(_clean(data)).model_dump(mode="json")


def operation_outcome(code: str, diagnostics: str, *, expression: list[str] | None = None) -> dict:
    """An ``OperationOutcome`` with one error: ``code`` is FHIR's issue type (``not-found``…)."""
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return (
        resource_model("OperationOutcome")
        .model_validate({"resourceType": "OperationOutcome", "issue": [issue]})
        .model_dump(mode="json")
    )


def _clean(value):
    """Drop ``None`` and empty lists or objects: FHIR forbids empty elements."""
    if isinstance(value, dict):
        cleaned = {key: _clean(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, [], {})}
    if isinstance(value, list):
        cleaned = [_clean(item) for item in value]
        return [item for item in cleaned if item not in (None, [], {})]
    return value
