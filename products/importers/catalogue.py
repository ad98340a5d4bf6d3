"""Load the catalogue's own data (``fixtures/catalogue.json``) into the database.

Every record goes through ``full_clean()`` and the timeline check, in one transaction: a bad
record rolls back the whole load and the database stays as it was.

A load writes only what differs from the database: a product, indication or event that is as
the data says is not touched, so reloading the same data writes no history, and a real change
is recorded once, as what it is (an event added, an indication changed), never as rows deleted
and re-created.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from simple_history.utils import bulk_create_with_history

from products import models
from products.flags import AT_AUTHORISATION_FIELDS, NOW_FIELDS
from products.locks import importing

PRODUCT_FIELDS = (
    "name",
    "aliases",
    "inn",
    "ema_product_number",
    *models.Product.MODALITY_FIELDS,
    "atc_code",
    "epar_url",
    "description",
    *NOW_FIELDS,
    *AT_AUTHORISATION_FIELDS,
    "ema_advanced_therapy",
    *models.Product.STATUS_FIELDS,
    *models.Product.CURATION_FIELDS,
    "is_published",
)
DATE_FIELDS = {"status_date", "authorisation_date", "ema_last_updated_date"}


#: The fields of an indication and of an event, as the data names them.
INDICATION_FIELDS = ("condition", "population", "is_orphan")
EVENT_FIELDS = models.AuthorisationEvent.FACT_FIELDS


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    products: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


class CatalogueError(ValueError):
    """A record of the catalogue data is invalid; the message names it."""


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _vocabulary(model, name: str):
    obj, _created = model.objects.get_or_create(
        name=name, defaults={"slug": models.slugify_name(name)}
    )
    return obj


def _validate(obj, label: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise CatalogueError(f"{label}: {'; '.join(exc.messages)}") from exc


def _differs(obj, values: dict[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def _assign(obj, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``obj``; whether any of them differed."""
    changed = _differs(obj, values)
    for name, value in values.items():
        setattr(obj, name, value)
    return changed


def _event_values(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _date(entry[name]) if name in ("date", "known_by") else entry[name]
        for name in EVENT_FIELDS
    }


@importing("catalogue load")  # a transaction, one import at a time, no admin save
def load_catalogue(data: dict[str, Any]) -> LoadReport:
    """Create or update every category, mechanism and product of ``data`` (keyed by slug)."""
    report = LoadReport()
    for item in data["categories"]:
        category = models.Category.objects.filter(slug=item["slug"]).first()
        category = category or models.Category(slug=item["slug"])
        if _assign(category, item) or category.pk is None:
            category.save()
    for item in data["mechanisms"]:
        mechanism = models.MechanismOfAction.objects.filter(slug=item["slug"]).first()
        mechanism = mechanism or models.MechanismOfAction(slug=item["slug"])
        values = {"name": item["name"], "description": item["description"]}
        if _assign(mechanism, values) or mechanism.pk is None:
            _validate(mechanism, f"mechanism {item['slug']}")
            mechanism.save()
    for item in data["products"]:
        _load_product(item, report)
    for item in data.get("therapeutic_areas", []):  # plain names of the MeSH headings
        areas = models.TherapeuticArea.objects.filter(name=item["name"])
        areas.exclude(plain_name=item["plain_name"]).update(plain_name=item["plain_name"])
    return report


def _load_product(item: dict[str, Any], report: LoadReport) -> None:
    """One product of the data: saved (with its rows) only where the data differs."""
    label = f"product {item['slug']}"
    product = models.Product.objects.filter(slug=item["slug"]).first()
    created = product is None
    product = product or models.Product(slug=item["slug"])
    values = {
        name: _date(item[name]) if name in DATE_FIELDS else item[name] for name in PRODUCT_FIELDS
    }
    values["category"] = (
        models.Category.objects.get(slug=item["category"]) if item["category"] else None
    )
    values["holder"] = _vocabulary(models.Company, item["holder"]) if item["holder"] else None
    changed = _assign(product, values)
    _validate(product, label)
    if created:
        product.save()
    mechanisms = list(models.MechanismOfAction.objects.filter(slug__in=item["mechanisms"]))
    if len(mechanisms) != len(set(item["mechanisms"])):
        raise CatalogueError(f"{label}: unknown mechanism in {item['mechanisms']}")
    rows_changed = set(mechanisms) != set(product.mechanisms.all())
    product.mechanisms.set(mechanisms)  # adds and removes only the difference
    rows_changed |= _load_indications(product, item["indications"], label)
    rows_changed |= _load_events(product, item["events"], label)
    if not created and (changed or rows_changed):
        product.save()  # a new revision for editors (products.history.Revision)
    try:
        product.check_timeline()
        product.check_orphan_facts()
    except ValidationError as exc:
        raise CatalogueError(f"{label}: {'; '.join(exc.messages)}") from exc
    report.created += created
    report.updated += not created and (changed or rows_changed)
    report.unchanged += not created and not (changed or rows_changed)
    report.products.append(product.slug)


def _load_indications(product, entries: list[dict[str, Any]], label: str) -> bool:
    """The product's indications in the data's order, each kept, changed, added or removed."""
    saved = list(product.indications.order_by("position", "pk"))
    changed = False
    for position, entry in enumerate(entries):
        indication = saved[position] if position < len(saved) else None
        indication = indication or models.Indication(product=product)
        values = {name: entry[name] for name in INDICATION_FIELDS} | {"position": position}
        if _assign(indication, values) or indication.pk is None:
            _validate(indication, f"{label}, indication {position + 1}")
            indication.save()
            changed = True
        areas = [_vocabulary(models.TherapeuticArea, name) for name in entry["therapeutic_areas"]]
        if {area.pk for area in areas} != set(
            indication.therapeutic_areas.values_list("pk", flat=True)
        ):
            indication.therapeutic_areas.set(areas)
            changed = True
    for indication in saved[len(entries) :]:
        indication.delete()
        changed = True
    return changed


def _load_events(product, entries: list[dict[str, Any]], label: str) -> bool:
    """The product's events as the data lists them: an event already saved as it is stays;
    one that differs is changed in place (pairing the remaining ones in order); the rest are
    added or removed, each with its history record."""
    remaining = list(product.events.order_by("pk"))
    wanted = []
    for entry in entries:
        values = _event_values(entry)
        same = next((event for event in remaining if not _differs(event, values)), None)
        if same is not None:
            remaining.remove(same)
        else:
            wanted.append(values)
    added = []
    for values in wanted:
        event = remaining.pop(0) if remaining else models.AuthorisationEvent(product=product)
        _assign(event, values)
        _validate(event, f"{label}, event {values['kind']}")
        if event.pk is None:
            added.append(event)
        else:
            event.save()
    if added:
        bulk_create_with_history(added, models.AuthorisationEvent)
    for event in remaining:
        event.delete()
    return bool(wanted or remaining)
