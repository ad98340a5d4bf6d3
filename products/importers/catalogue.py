"""Load the catalogue's own data (``fixtures/catalogue.json``) into the database.

Every record goes through ``full_clean()`` and the timeline check, in one transaction: a bad
record rolls back the whole load and the database stays as it was.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from products.flags import AT_AUTHORISATION_FIELDS, NOW_FIELDS
from products.locks import importing
from products.models import (
    AuthorisationEvent,
    Category,
    Company,
    Indication,
    MechanismOfAction,
    Product,
    TherapeuticArea,
    slugify_name,
)

PRODUCT_FIELDS = (
    "name",
    "aliases",
    "inn",
    "ema_product_number",
    "platform",
    "target",
    "cell_source",
    "delivery",
    "route_of_administration",
    "atc_code",
    "epar_url",
    "description",
    *NOW_FIELDS,
    *AT_AUTHORISATION_FIELDS,
    "ema_indication_text",
    "ema_last_updated_date",
    "ema_advanced_therapy",
    "curator_notes",
    "status",
    "status_date",
    "status_reason",
    "authorisation_date",
    "authorisation_date_partial",
    "verification",
    "unverified_fields",
    "sources",
    "is_published",
)
DATE_FIELDS = {"status_date", "authorisation_date", "ema_last_updated_date"}


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    products: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}"


class CatalogueError(ValueError):
    """A record of the catalogue data is invalid; the message names it."""


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _vocabulary(model, name: str):
    obj, _created = model.objects.get_or_create(name=name, defaults={"slug": slugify_name(name)})
    return obj


def _validate(obj, label: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise CatalogueError(f"{label}: {'; '.join(exc.messages)}") from exc


@importing("catalogue load")  # a transaction, one import at a time, no admin save
def load_catalogue(data: dict[str, Any]) -> LoadReport:
    """Create or update every category, mechanism and product of ``data`` (keyed by slug)."""
    report = LoadReport()
    for item in data["categories"]:
        Category.objects.update_or_create(slug=item["slug"], defaults=item)
    for item in data["mechanisms"]:
        mechanism = MechanismOfAction.objects.filter(slug=item["slug"]).first()
        mechanism = mechanism or MechanismOfAction(slug=item["slug"])
        mechanism.name, mechanism.description = item["name"], item["description"]
        _validate(mechanism, f"mechanism {item['slug']}")
        mechanism.save()
    for item in data["products"]:
        label = f"product {item['slug']}"
        product = Product.objects.filter(slug=item["slug"]).first()
        report.created += product is None
        report.updated += product is not None
        product = product or Product(slug=item["slug"])
        for name in PRODUCT_FIELDS:
            value = item[name]
            setattr(product, name, _date(value) if name in DATE_FIELDS else value)
        product.category = Category.objects.get(slug=item["category"]) if item["category"] else None
        product.holder = _vocabulary(Company, item["holder"]) if item["holder"] else None
        _validate(product, label)
        product.save()
        mechanisms = list(MechanismOfAction.objects.filter(slug__in=item["mechanisms"]))
        if len(mechanisms) != len(set(item["mechanisms"])):
            raise CatalogueError(f"{label}: unknown mechanism in {item['mechanisms']}")
        product.mechanisms.set(mechanisms)

        product.indications.all().delete()
        for position, entry in enumerate(item["indications"]):
            indication = Indication(
                product=product,
                condition=entry["condition"],
                population=entry["population"],
                is_orphan=entry["is_orphan"],
                position=position,
            )
            _validate(indication, f"{label}, indication {position + 1}")
            indication.save()
            indication.therapeutic_areas.set(
                [_vocabulary(TherapeuticArea, name) for name in entry["therapeutic_areas"]]
            )

        product.events.all().delete()
        events = []
        for entry in item["events"]:
            event = AuthorisationEvent(
                product=product,
                kind=entry["kind"],
                date=_date(entry["date"]),
                date_partial=entry["date_partial"],
                known_by=_date(entry["known_by"]),
                note=entry["note"],
                sources=entry["sources"],
                confidence=entry["confidence"],
            )
            _validate(event, f"{label}, event {entry['kind']}")
            events.append(event)
        AuthorisationEvent.objects.bulk_create(events)
        try:
            product.check_timeline()
            product.check_orphan_facts()
        except ValidationError as exc:
            raise CatalogueError(f"{label}: {'; '.join(exc.messages)}") from exc
        report.products.append(product.slug)
    for item in data.get("therapeutic_areas", []):  # plain names of the MeSH headings
        TherapeuticArea.objects.filter(name=item["name"]).update(plain_name=item["plain_name"])
    return report
