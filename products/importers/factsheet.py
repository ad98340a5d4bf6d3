"""Turn the verified fact sheet (``fixtures/source/ema_atmps.json``) into the catalogue's data.

The fact sheet is the source of every fact; ``fixtures/curation.json`` adds what only editors
write (mechanisms, plain-language descriptions, extra dated events found in the sheet's notes).
The output, ``fixtures/catalogue.json``, is what :mod:`products.importers.catalogue` loads.
A fact the sheet leaves null stays null here: nothing is guessed, nothing is rounded.
"""

from __future__ import annotations

import re
from typing import Any

from products.choices import (
    HELD_AUTHORISATION,
    STATUS_AFTER_EVENT,
    STATUS_EVENTS,
    CellSource,
    Confidence,
    Delivery,
    EventKind,
    Status,
)
from products.flags import FLAGS
from products.models import ATC_PATTERN, slugify_name
from products.partial_dates import partial_date_sort_key

CATEGORIES = [
    {
        "slug": "gene-therapy",
        "name": "Gene therapy medicinal product",
        "abbreviation": "GTMP",
        "position": 1,
        "definition": (
            "A medicine whose active part is a recombinant nucleic acid — a gene, or a tool that "
            "edits or switches genes — given to add, repair, replace or remove a genetic sequence "
            "in the body, and whose effect comes directly from that sequence or what it makes. "
            "It includes cells changed genetically outside the body, such as CAR-T cells. "
            "Vaccines against infectious diseases are not gene therapies in this sense."
        ),
    },
    {
        "slug": "somatic-cell-therapy",
        "name": "Somatic cell therapy medicinal product",
        "abbreviation": "sCTMP",
        "position": 2,
        "definition": (
            "A medicine made of living cells or tissues that have been substantially "
            "manipulated, or that are used for a different essential function in the patient "
            "than in the donor, and that treats, prevents or diagnoses disease through the "
            "pharmacological, immunological or metabolic action of those cells."
        ),
    },
    {
        "slug": "tissue-engineered",
        "name": "Tissue engineered product",
        "abbreviation": "TEP",
        "position": 3,
        "definition": (
            "A medicine made of engineered cells or tissues — substantially manipulated, or used "
            "for a different essential function — given to regenerate, repair or replace a human "
            "tissue, such as cartilage or the surface of the eye."
        ),
    },
    {
        "slug": "combined",
        "name": "Combined advanced therapy medicinal product",
        "abbreviation": "cATMP",
        "position": 4,
        "definition": (
            "An advanced therapy whose cells or tissues are joined, as an integral part, with a "
            "medical device or active implantable device, such as a membrane or scaffold that "
            "carries the cells into the body."
        ),
    },
]

#: The fact sheet's category wording, by its first words, and the catalogue's category slug.
CATEGORY_PREFIXES = {
    "gene therapy medicinal product": "gene-therapy",
    "somatic cell therapy medicinal product": "somatic-cell-therapy",
    "tissue engineered product": "tissue-engineered",
    "combined ATMP": "combined",
}

#: Records of the sheet that are not products of their own: their dates join another timeline.
MERGED_RECORDS = {"Glybera (initial negative opinions)": "Glybera"}

#: Names whose parenthesis is a description of the application, not part of the brand.
SEPARATE_APPLICATIONS = {
    "Roctavian (first application)": ("Roctavian", "roctavian-first-application")
}

#: Keys of a negative record's ``key_dates`` and the timeline event each one is.
KEY_DATE_EVENTS = {
    "submitted": (
        EventKind.APPLICATION_SUBMITTED,
        "Marketing authorisation application submitted.",
    ),
    "maa_submitted": (
        EventKind.APPLICATION_SUBMITTED,
        "Marketing authorisation application submitted.",
    ),
    "maa_accepted": (
        EventKind.APPLICATION_SUBMITTED,
        "Marketing authorisation application accepted for review.",
    ),
    "chmp_negative_opinion": (
        EventKind.NEGATIVE_OPINION,
        "The CHMP recommended refusing the marketing authorisation.",
    ),
    "negative_opinions": (EventKind.NEGATIVE_OPINION, "Negative CHMP/CAT opinions."),
    "negative_maintained": (EventKind.NEGATIVE_OPINION, "The negative opinion was maintained."),
    "positive_opinion": (
        EventKind.POSITIVE_OPINION,
        "The CHMP recommended granting a marketing authorisation.",
    ),
    "re_examination_confirmed": (
        EventKind.RE_EXAMINATION,
        "Re-examination confirmed the negative opinion.",
    ),
    "re_examination_requested": (
        EventKind.RE_EXAMINATION,
        "The applicant asked for a re-examination of the negative opinion.",
    ),
    "ec_refusal_decision": (
        EventKind.REFUSAL,
        "The European Commission refused the marketing authorisation.",
    ),
    "application_withdrawn": (
        EventKind.APPLICATION_WITHDRAWN,
        "The applicant withdrew the marketing authorisation application.",
    ),
    "earlier_application_withdrawn": (
        EventKind.APPLICATION_WITHDRAWN,
        "An earlier application was withdrawn.",
    ),
}
#: Key dates that are not regulatory steps (a press announcement) or not yet known.
IGNORED_KEY_DATES = {"announced", "final_outcome"}

DATE_PREFIX = re.compile(r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)\b\s*(.*)$")
HOLDER_ANNOTATION = re.compile(r"\s*\((?:at |per |MAH shown|as listed|SmPC |exact )[^()]*\)$")
ATC_CODE = re.compile(ATC_PATTERN)
ALIAS = re.compile(r"^(?P<name>.+?) \((?:previously )?(?P<alias>[^()]+)\)$")


class FactSheetError(ValueError):
    """The fact sheet or the curation says something the catalogue cannot hold."""


def split_date(value: str | None) -> tuple[str | None, str, str]:
    """``"2012-04"`` -> (None, "2012-04", ""); ``"2025-08 (EMA update)"`` keeps the rest."""
    if not value:
        return None, "", ""
    match = DATE_PREFIX.match(value.strip())
    if not match:
        raise FactSheetError(f"not a date: {value!r}")
    date, rest = match.groups()
    rest = rest.strip().removeprefix("(").removesuffix(")")
    if len(date) == 10:
        return date, "", rest
    return None, date, rest


def category_slug(text: str | None) -> str | None:
    """The category the sheet states; None where it says the sub-category is unknown."""
    for prefix, slug in CATEGORY_PREFIXES.items():
        if text and text.startswith(prefix):
            return slug
    return None


#: The sheet's words (the beginning of its text) for each cell source and delivery.
CELL_SOURCES = {
    "autologous": CellSource.AUTOLOGOUS,
    "allogeneic": CellSource.ALLOGENEIC,
    "not applicable": CellSource.NONE,
}
DELIVERIES = {"ex vivo": Delivery.EX_VIVO, "in vivo": Delivery.IN_VIVO}


def vocabulary_value(text: str | None, values: dict[str, str], what: str) -> str | None:
    """The value whose words begin ``text`` ("autologous T cells" -> autologous); None where
    the sheet says nothing; an error where it says something unknown."""
    if not text:
        return None
    for words, value in values.items():
        if text.startswith(words):
            return str(value)
    raise FactSheetError(f"unknown {what}: {text!r}")


def cell_source(text: str | None) -> str | None:
    return vocabulary_value(text, CELL_SOURCES, "cell source")


def delivery(text: str | None) -> str | None:
    return vocabulary_value(text, DELIVERIES, "delivery")


def atc_code(text: str | None) -> str:
    """The code itself: "L03 (level only)" -> "L03" (the level is all the EMA shows)."""
    return text.split(" ", 1)[0] if text else ""


def holder_name(text: str | None) -> str | None:
    """The holder's legal name without the sheet's annotations such as "(at withdrawal)"."""
    if not text:
        return None
    return HOLDER_ANNOTATION.sub("", text).strip()


def split_name(sheet_name: str) -> tuple[str, str, list[str]]:
    """Name, slug, aliases: "Beqvez (previously Durveqtix)" -> Beqvez, beqvez, [Durveqtix]."""
    if sheet_name in SEPARATE_APPLICATIONS:
        name, slug = SEPARATE_APPLICATIONS[sheet_name]
        return name, slug, []
    match = ALIAS.match(sheet_name)
    if match:
        name = match["name"]
        return name, slugify_name(name), [match["alias"]]
    return sheet_name, slugify_name(sheet_name), []


def event(
    kind: str,
    date: str | None,
    partial: str = "",
    note: str = "",
    *,
    known_by: str | None = None,
    sources: list[str] | None = None,
    confidence: str = "",
) -> dict[str, Any]:
    return {
        "kind": str(kind),
        "date": date,
        "date_partial": partial,
        "known_by": known_by,
        "note": note,
        "sources": sources or [],
        "confidence": confidence,
    }


def key_date_events(key_dates: dict[str, str | None]) -> list[dict[str, Any]]:
    events = []
    for key, value in key_dates.items():
        if key in IGNORED_KEY_DATES or value is None:
            continue
        if key not in KEY_DATE_EVENTS:
            raise FactSheetError(f"unknown key date {key!r}")
        kind, note = KEY_DATE_EVENTS[key]
        date, partial, rest = split_date(value)
        events.append(event(kind, date, partial, f"{note} ({rest})" if rest else note))
    return events


def curated_events(curation: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    for item in curation.get("events", []):
        date, partial, _rest = split_date(item["date"])
        events.append(event(EventKind(item["kind"]), date, partial, item.get("note", "")))
    return events


def sort_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import datetime

    def key(item: dict[str, Any]) -> tuple[bool, int]:
        date = datetime.date.fromisoformat(item["date"]) if item["date"] else None
        known_by = datetime.date.fromisoformat(item["known_by"]) if item["known_by"] else None
        return partial_date_sort_key(date, item["date_partial"], known_by)

    return sorted(events, key=key)


def at_authorisation_flags(status: str | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The sheet's ``authorisation_type``: each flag's value when first authorised.

    An application that never got an authorisation has none (its values stay null).
    """
    held = status in HELD_AUTHORISATION
    return {flag.at_field: flags.get(flag.param) if held else None for flag in FLAGS}


def authorised_record(record: dict[str, Any], curation: dict[str, Any]) -> dict[str, Any]:
    """A product that holds or held an authorisation (or, for Waskyra, awaits the decision)."""
    modality = record.get("modality") or {}
    flags = record.get("authorisation_type") or {}
    holder = record.get("marketing_authorisation_holder") or {}
    events = []
    status = record["status"]
    if status is None and record["record_type"] == "chmp_positive_opinion_ec_decision_not_found":
        status = Status.OPINION.value
    if status in HELD_AUTHORISATION:  # the authorisation is a fact even where its date is not
        original = holder_name(holder.get("original"))
        note = "The European Commission granted the marketing authorisation"
        unsure = re.search(
            r"not (?:separately )?(?:verified|checked)", holder.get("original") or ""
        )
        note += f" to {original.rstrip('.')}." if original and not unsure else "."
        events.append(
            event(
                EventKind.INITIAL_AUTHORISATION,
                record["authorisation_date"],
                record["authorisation_date_partial"] or "",
                note,
            )
        )
    ending = {
        Status.WITHDRAWN: "The marketing authorisation was withdrawn.",
        Status.EXPIRED: "The marketing authorisation expired.",
    }
    if status in ending:
        events.append(event(STATUS_EVENTS[status], record["status_date"], "", ending[status]))
    events += curated_events(curation)
    return {
        "status": status,
        "status_date": record["status_date"],
        "status_reason": record["status_reason"] or "",
        "authorisation_date": record["authorisation_date"],
        "authorisation_date_partial": record["authorisation_date_partial"] or "",
        "holder": holder_name(holder.get("current")),
        "platform": modality.get("platform") or "",
        "target": modality.get("target_or_transgene") or "",
        "cell_source": cell_source(modality.get("cell_source")),
        "delivery": delivery(modality.get("in_vivo_or_ex_vivo")),
        "route_of_administration": modality.get("route_administration") or "",
        "atc_code": atc_code(record.get("atc_code")),
        "epar_url": record.get("epar_url") or "",
        **at_authorisation_flags(status, flags),
        "indications": [
            {
                "condition": item["condition"],
                "therapeutic_areas": [
                    area.strip()
                    for area in (item["therapeutic_area"] or "").split(";")
                    if area.strip()
                ],
                "population": item.get("line_population_note") or "",
                "is_orphan": item.get("orphan_designation"),
            }
            for item in record.get("indications") or []
        ],
        "events": events,
    }


def negative_record(record: dict[str, Any], curation: dict[str, Any]) -> dict[str, Any]:
    """A refusal or a withdrawn application: its status is where its timeline ends."""
    events = key_date_events(record["key_dates"]) + curated_events(curation)
    changes = [item for item in sort_events(events) if item["kind"] in STATUS_AFTER_EVENT]
    if not changes:
        raise FactSheetError(f"{record['name']}: no dated outcome in key_dates")
    latest = changes[-1]
    return {
        "status": STATUS_AFTER_EVENT[EventKind(latest["kind"])].value,
        "status_date": latest["date"],
        "status_reason": record.get("reason_summary") or "",
        "authorisation_date": None,
        "authorisation_date_partial": "",
        "holder": holder_name(record.get("applicant")),
        "platform": "",
        "target": "",
        "cell_source": None,
        "delivery": None,
        "route_of_administration": "",
        "atc_code": "",
        "epar_url": "",
        **at_authorisation_flags(None, {}),
        "indications": [
            {
                "condition": record["indication_sought"],
                "therapeutic_areas": [],
                "population": "",
                "is_orphan": None,
            }
        ]
        if record.get("indication_sought")
        else [],
        "events": events,
    }


#: The kinds of ``ema_atmps_changes.json`` and the timeline's event kinds.
CHANGE_KINDS = {
    "conversion-to-standard": EventKind.CONVERSION,
    "orphan-designation": EventKind.ORPHAN_DESIGNATION,
    "orphan-designation-removed": EventKind.ORPHAN_DESIGNATION_REMOVED,
    "prime-granted": EventKind.PRIME_GRANTED,
    "extension-of-indication": EventKind.EXTENSION_OF_INDICATION,
    "change-of-holder": EventKind.CHANGE_OF_HOLDER,
    "change-of-name": EventKind.CHANGE_OF_NAME,
    "renewal": EventKind.RENEWAL,
    "suspension": EventKind.SUSPENSION,
    "other": EventKind.OTHER,
}
#: Events a product has at most once: one known only "by" a later date is the same event.
ONCE_ONLY = {EventKind.CONVERSION, EventKind.CHANGE_OF_NAME}
#: A plain note for a change that the curation gives none.
GENERIC_NOTES = {
    EventKind.CONVERSION: "The conditional marketing authorisation became a standard one.",
    EventKind.ORPHAN_DESIGNATION: "Orphan designation {designation} granted.",
    EventKind.ORPHAN_DESIGNATION_REMOVED: (
        "Orphan designation {designation} no longer in the register of orphan medicines."
    ),
    EventKind.PRIME_GRANTED: "The EMA granted PRIME support during development.",
}


def _same_event(existing: dict[str, Any], candidate: dict[str, Any]) -> bool:
    """Whether ``candidate`` (a change of the changes file) is ``existing``, known another way."""
    if existing["kind"] != candidate["kind"]:
        return False
    ours, theirs = existing.get("_designation"), candidate.get("_designation")
    if ours and theirs and ours != theirs:
        return False
    dated = existing["date"] or existing["date_partial"]
    new_dated = candidate["date"] or candidate["date_partial"]
    if dated and new_dated:  # "2014" is "2014-03-02"; "2022-02" is "2022-02"
        return dated.startswith(new_dated) or new_dated.startswith(dated)
    if not dated and not new_dated:
        return existing["known_by"] == candidate["known_by"]
    dating, known_by = (existing, candidate) if dated else (candidate, existing)
    limit = known_by["known_by"]
    start = dating["date"] or dating["date_partial"]
    if not limit or start[: len(limit)] > limit:
        return False
    # "by 16 June 2020" is the event of June 2020; a conversion is the same whenever known.
    return candidate["kind"] in ONCE_ONLY or limit.startswith(dating["date_partial"] or "~")


def _merge(existing: dict[str, Any], candidate: dict[str, Any]) -> None:
    existing["sources"] += [s for s in candidate["sources"] if s not in existing["sources"]]
    if not (existing["date"] or existing["date_partial"]) and (
        candidate["date"] or candidate["date_partial"]
    ):
        existing.update(
            date=candidate["date"],
            date_partial=candidate["date_partial"],
            known_by=None,
            confidence=candidate["confidence"],
        )
    elif not existing["confidence"]:
        existing["confidence"] = candidate["confidence"]


def change_note(change: dict[str, Any], kind: str, notes: dict[str, str]) -> str:
    """The curation's note for the change (keyed "<kind> <date>" or "<kind> by <date>")."""
    when = change["date"] or f"by {change['known_by']}"
    key = f"{change['kind']} {when}"
    designation = change.get("designation_number") or "(number not known)"
    if key in notes:
        return notes[key].format(designation=designation)
    if kind in GENERIC_NOTES:
        return GENERIC_NOTES[kind].format(designation=designation)
    raise FactSheetError(f"no note in the curation's change_notes for {key!r}")


def apply_changes(product: dict[str, Any], changes: list[dict[str, Any]], notes) -> list[str]:
    """Add the dated changes of ``ema_atmps_changes.json`` to a product's timeline.

    A change the timeline already holds (the same kind, compatible dates) adds its source to that
    event. What is not an event goes to the curators' notes: a doubtful change, any change of a
    product that never held an authorisation (Waskyra's reported decision changes its status,
    which only a curator may do) and a status change the timeline does not already record.
    Returns those notes.
    """
    for_curators = []
    held = product["status"] in HELD_AUTHORISATION
    for change in changes:
        kind = CHANGE_KINDS.get(change["kind"])
        if kind is None:
            raise FactSheetError(f"{product['name']}: unknown change kind {change['kind']!r}")
        date, partial, _rest = split_date(change["date"])
        candidate = event(
            kind,
            date,
            partial,
            known_by=None if (date or partial) else change["known_by"],
            sources=[change["source"]] if change.get("source") else [],
            confidence=Confidence.VERIFIED
            if change["confidence"] == "verified"
            else Confidence.SINGLE_SOURCE,
        )
        candidate["_designation"] = change.get("designation_number")
        same = next((e for e in product["events"] if _same_event(e, candidate)), None)
        when = change["date"] or f"by {change['known_by']}"
        if change["confidence"] == "doubtful" or not held:
            for_curators.append(
                f"Reported, not on the timeline ({change['confidence']}): "
                f"{kind.label} ({when}): {change['detail']} Source: {change.get('source')}"
            )
        elif same is not None:
            _merge(same, candidate)
        elif kind in STATUS_AFTER_EVENT:
            for_curators.append(
                f"Reported status change not on the timeline: {kind.label} ({when}). "
                f"Source: {change.get('source')}"
            )
        else:
            candidate["note"] = change_note(change, kind, notes)
            product["events"].append(candidate)
    return for_curators


def export_facts(status: str, row) -> dict[str, Any]:
    """The register's values now, from the EMA's export row (None: the export has no row).

    The authorisation flags of an application that never got an authorisation stay empty.
    """
    held = status in HELD_AUTHORISATION
    if row is None:
        return {flag.field: None for flag in FLAGS} | {
            "ema_indication_text": "",
            "ema_last_updated_date": None,
            "ema_advanced_therapy": None,
        }
    last_updated = row.dates["Last updated date"]
    return {
        flag.field: None if flag.needs_authorisation and not held else row.flags[flag.field]
        for flag in FLAGS
    } | {
        "ema_indication_text": row.indication_text,
        "ema_last_updated_date": last_updated.isoformat() if last_updated else None,
        "ema_advanced_therapy": row.is_advanced_therapy,
    }


def fill_from_export(product: dict[str, Any], row) -> None:
    """Facts the sheet leaves empty and the EMA's export gives: its page, its ATC code, and the
    MeSH areas of a product with one indication that carries none (applications' records)."""
    if row is None:
        return
    if not product["epar_url"]:
        product["epar_url"] = row.url
    if not product["atc_code"] and ATC_CODE.match(row.atc_code):
        product["atc_code"] = row.atc_code
    indications = product["indications"]
    if len(indications) == 1 and not indications[0]["therapeutic_areas"]:
        indications[0]["therapeutic_areas"] = list(row.therapeutic_areas)


def build_catalogue(
    sheet: list[dict[str, Any]],
    curation: dict[str, Any],
    *,
    export_rows: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole catalogue (categories, mechanisms, products) from the sheet and the curation.

    ``export_rows`` (the EMA export's rows by product number) give the register's values now;
    ``changes`` (``ema_atmps_changes.json``) the dated changes since first authorisation.
    """
    products: dict[str, dict[str, Any]] = {}
    merged: list[tuple[str, dict[str, Any]]] = []
    curated = curation.get("products", {})
    export_rows = export_rows or {}
    changes_by_name = {
        item["name"]: item["changes"] for item in (changes or {}).get("products", [])
    }
    for record in sheet:
        sheet_name = record["name"]
        if sheet_name in MERGED_RECORDS:
            merged.append((MERGED_RECORDS[sheet_name], record))
            continue
        extra = curated.get(sheet_name, {})
        name, slug, aliases = split_name(sheet_name)
        if record["record_type"] == "negative_or_withdrawn_application":
            facts = negative_record(record, extra)
        else:
            facts = authorised_record(record, extra)
        if slug in products:
            raise FactSheetError(f"two records share the slug {slug!r}")
        number = record["ema_product_number"] or extra.get("ema_product_number")
        sources = list(record.get("sources") or [])
        sources += [s for s in extra.get("sources", []) if s not in sources]
        products[slug] = {
            "name": name,
            "slug": slug,
            "sheet_name": sheet_name,
            "aliases": aliases,
            "inn": record["inn"] or "",
            "ema_product_number": number,
            "category": category_slug(record["atmp_category"]),
            "mechanisms": extra.get("mechanisms", []),
            "description": extra.get("description", ""),
            "verification": record.get("verification") or "",
            "unverified_fields": record.get("unverified_fields") or [],
            "sources": sources,
            "is_published": True,
            **facts,
            **export_facts(facts["status"], export_rows.get(number)),
            "curator_notes": "",
        }
        fill_from_export(products[slug], export_rows.get(number))
    by_name = {product["name"]: product for product in products.values()}
    for target, record in merged:
        by_name[target]["events"] += key_date_events(record["key_dates"])
        by_name[target]["sources"] += [
            s for s in record["sources"] if s not in by_name[target]["sources"]
        ]
    by_sheet_name = {product["sheet_name"]: product for product in products.values()}
    notes = curation.get("change_notes", {})
    for sheet_name, product_changes in changes_by_name.items():
        if sheet_name not in by_sheet_name:
            raise FactSheetError(f"changes of {sheet_name!r}, which the sheet does not hold")
        product = by_sheet_name[sheet_name]
        product["events"] = sort_events(product["events"])
        product_notes = notes.get(sheet_name, {})
        product["curator_notes"] = "\n".join(apply_changes(product, product_changes, product_notes))
    for product in products.values():
        product["events"] = sort_events(product["events"])
        for item in product["events"]:
            item.pop("_designation", None)
    return {
        "categories": CATEGORIES,
        "mechanisms": curation.get("mechanisms", []),
        "therapeutic_areas": curation.get("therapeutic_areas", []),
        "products": sorted(products.values(), key=lambda product: product["slug"]),
    }
