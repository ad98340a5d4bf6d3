"""Generate a synthetic catalogue of a given size, for the benchmark (``make bench``).

``python -m bench.generate --size N [--seed S] [--replace | --if-needed]``, with
``DATABASE_URL`` naming a benchmark database (``bench/run.py`` runs it for each size).

The data looks like the real catalogue, only more of it: the four legal categories, mechanisms
that combine a modality with a target, the EMA's MeSH-style therapeutic areas, invented holders,
one to four indications and two to six dated events per product, every status of the register
with a timeline that agrees with it, exact and partial dates, orphan and PRIME flags, aliases.
Brand names are invented from syllables and INNs follow the WHO stems of their modality
(``-cabtagene …leucel``, ``-gene …parvovec``, ``-temcel``), so that search and misspellings behave
as they would on real names.

Every product is marked ``verification="synthetic"``. The command refuses a database that holds
any other product, and the database of ``make run``: it writes only into a benchmark database
(``DATABASE_URL`` naming, e.g., the embedded server in ``.data/bench-postgres``). Rows go in with
PostgreSQL's ``COPY``: 100,000 products, with their indications, events and first history
records, take well under a minute. The vocabularies go in with ``bulk_create`` and their ids are
read back once each: the number of queries does not grow with the size.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import django
from django.conf import settings

if not settings.configured:  # run as ``python -m bench.generate``, not imported by Django code
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmp_catalogue.settings")
    django.setup()

from django.core.management.color import no_style  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from atmp_catalogue.localdb import DATABASE_NAME  # noqa: E402
from products import models as catalogue  # noqa: E402
from products.choices import ENDED_OR_SUSPENDED, HELD_AUTHORISATION, EventKind, Status  # noqa: E402
from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION  # noqa: E402

SYNTHETIC = "synthetic"
#: Products were entered or last changed at some second of the last five years.
EDITS = 5 * 365 * 24 * 3600
#: Keys of a generated product that are not columns of its row, or not as they are.
NOT_PRODUCT_COLUMNS = (
    "number",
    "category",
    "mechanisms",
    "holder",
    "indications",
    "events",
    "entered_at",
)

# (weight, status): roughly the shape of the EMA's register of ATMPs.
STATUS_WEIGHTS: Sequence[tuple[int, str]] = (
    (46, Status.AUTHORISED),
    (14, Status.WITHDRAWN),
    (4, Status.EXPIRED),
    (2, Status.SUSPENDED),
    (2, Status.LAPSED),
    (1, Status.REVOKED),
    (15, Status.APPLICATION_WITHDRAWN),
    (6, Status.REFUSED),
    (4, Status.OPINION),
    (2, Status.UNDER_RE_EXAMINATION),
    (4, Status.WITHDRAWN_FROM_ROLLING_REVIEW),
)
ENDING_EVENT = {
    Status.WITHDRAWN: EventKind.WITHDRAWAL,
    Status.EXPIRED: EventKind.EXPIRY,
    Status.SUSPENDED: EventKind.SUSPENSION,
    Status.LAPSED: EventKind.LAPSE,
    Status.REVOKED: EventKind.REVOCATION,
}

# Modalities: name pattern, category slug, cell source, delivery, platform, INN stems, ATC codes,
# and the kind of target that fills the pattern.
MODALITY_FIELDS = (
    "name", "category", "cell_source", "delivery", "platform", "inn", "atc", "targets",
)  # fmt: skip
MODALITY_ROWS = (
    ("{target}-directed CAR-T cells", "gene-therapy", "autologous", "ex-vivo",
     "CAR-T (lentiviral vector)", ("cabtagene", "leucel"),
     ("L01XL", "L01XL04", "L01XL08", "L01"), "antigens"),
    ("Allogeneic {target}-directed CAR-NK cells", "gene-therapy", "allogeneic", "ex-vivo",
     "CAR-NK (cord-blood natural killer cells)", ("cabtagene", "leucel"), ("L01XL", ""),
     "antigens"),
    ("{target} TCR-engineered T cells", "gene-therapy", "autologous", "ex-vivo",
     "TCR-T (lentiviral vector)", ("tagene", "leucel"), ("L01XL", ""), "antigens"),
    ("AAV {target} gene replacement in vivo", "gene-therapy", "none", "in-vivo", "AAV9",
     ("gene", "parvovec"), ("M09AX09", "B02BD16", "S01XA27", ""), "genes"),
    ("Lentiviral {target} gene addition in haematopoietic stem cells", "gene-therapy",
     "autologous", "ex-vivo",
     "lentiviral vector, transduced haematopoietic stem/progenitor cells",
     ("gene", "autotemcel"), ("B06AX05", "N07", ""), "genes"),
    ("CRISPR-Cas9 editing of {target} in haematopoietic stem cells", "gene-therapy",
     "autologous", "ex-vivo", "CRISPR-Cas9 edited CD34+ cells", ("glogene", "autotemcel"),
     ("B06AX05", ""), "genes"),
    ("Oncolytic virus expressing {target}", "gene-therapy", "none", "in-vivo",
     "HSV-1 oncolytic virus", ("gene", "laherparepvec"), ("L01XX51", ""), "payloads"),
    ("{target}-specific T cells", "somatic-cell-therapy", "allogeneic", "ex-vivo",
     "virus-specific T cells (not genetically modified)", ("", "leucel"), ("L03", ""), "viruses"),
    ("Mesenchymal stromal cells modulating {target}", "somatic-cell-therapy", "allogeneic",
     "in-vivo", "MSC (expanded adipose-derived mesenchymal stromal cells)", ("", "strocel"),
     ("L04", ""), "payloads"),
    ("Engineered {target} tissue graft", "tissue-engineered", "autologous", "ex-vivo",
     "cultured cells on a collagen scaffold", ("", "temcel"), ("M09AX02", "S01XA19", ""),
     "tissues"),
    ("{target} cells on an integral medical device", "combined", "autologous", "ex-vivo",
     "cells seeded on a CE-marked membrane (combined ATMP)", ("", "temcel"), ("M09AX02", ""),
     "tissues"),
)  # fmt: skip
MODALITIES: Sequence[dict[str, Any]] = tuple(
    dict(zip(MODALITY_FIELDS, row, strict=True)) for row in MODALITY_ROWS
)
TARGETS = {
    "antigens": (
        "CD19", "BCMA", "CD22", "CD20", "GPRC5D", "CD7", "CD30", "CD33", "CD38", "CD70", "CD123",
        "Claudin 18.2", "HER2", "GD2", "mesothelin", "MAGE-A4", "NY-ESO-1", "PRAME", "WT1",
        "KRAS G12D", "EGFRvIII", "PSMA", "B7-H3", "ROR1", "FLT3", "CLL-1", "GPC3", "CEA",
    ),
    "genes": (
        "SMN1", "RPE65", "factor IX", "factor VIII", "dystrophin", "ABCD1", "ARSA", "ADA", "WAS",
        "beta-globin", "BCL11A", "CFTR", "GAA", "GLA", "IDUA", "IDS", "LPL", "CNGB3", "RPGR",
        "REP1", "COL7A1", "LAMB3", "frataxin", "GBA1", "AADC", "PAH", "OTC", "CYBB", "ITGB2",
        "FANCA", "PKLR", "MTM1", "GJB2", "OTOF", "ND4", "CLN2", "GRN", "SGSH", "NAGLU", "HEXA",
    ),
    "payloads": ("GM-CSF", "IL-12", "interferon alfa", "IL-2", "TNF", "anti-CTLA-4", "IL-10"),
    "viruses": ("EBV", "CMV", "adenovirus", "BK virus", "HHV-6", "SARS-CoV-2"),
    "tissues": (
        "chondrocyte", "keratinocyte", "limbal stem cell", "cardiomyocyte", "dopaminergic neuron",
        "islet cell", "hepatocyte", "osteoblast", "oral mucosal epithelium", "urothelium",
    ),
}  # fmt: skip
THERAPEUTIC_AREAS = (
    "Adrenoleukodystrophy", "Amino Acid Metabolism, Inborn Errors", "Anemia, Sickle Cell",
    "Cartilage Diseases", "Corneal Diseases", "Epidermolysis Bullosa Dystrophica",
    "Fractures, Cartilage", "Graft vs Host Disease", "Hematologic Neoplasms",
    "Hematopoietic Stem Cell Transplantation", "Hemophilia A", "Hemophilia B",
    "Hyperlipoproteinemia Type I", "Leber Congenital Amaurosis", "Leukodystrophy, Metachromatic",
    "Lymphoma, Follicular", "Lymphoma, Large B-Cell, Diffuse", "Lymphoma, Mantle-Cell",
    "Lymphoproliferative Disorders", "Melanoma", "Multiple Myeloma", "Muscular Atrophy, Spinal",
    "Precursor B-Cell Lymphoblastic Leukemia-Lymphoma", "Prostatic Neoplasms", "Rectal Fistula",
    "Retinitis Pigmentosa", "Severe Combined Immunodeficiency", "Stem Cell Transplantation",
    "Urinary Bladder Neoplasms", "Wiskott-Aldrich Syndrome", "beta-Thalassemia",
    "Leukemia, Myeloid, Acute", "Leukemia, Lymphocytic, Chronic, B-Cell", "Hodgkin Disease",
    "Lymphoma, T-Cell", "Myelodysplastic Syndromes", "Glioblastoma", "Neuroblastoma",
    "Pancreatic Neoplasms", "Stomach Neoplasms", "Liver Neoplasms", "Lung Neoplasms",
    "Breast Neoplasms", "Ovarian Neoplasms", "Sarcoma, Synovial", "Head and Neck Neoplasms",
    "Colorectal Neoplasms", "Carcinoma, Renal Cell", "Cystic Fibrosis",
    "Duchenne Muscular Dystrophy",
    "Friedreich Ataxia", "Fabry Disease", "Gaucher Disease", "Glycogen Storage Disease Type II",
    "Mucopolysaccharidosis I", "Mucopolysaccharidosis II", "Phenylketonurias",
    "Ornithine Carbamoyltransferase Deficiency Disease", "Choroideremia", "Achromatopsia",
    "Macular Degeneration", "Parkinson Disease", "Huntington Disease",
    "Amyotrophic Lateral Sclerosis",
    "Heart Failure", "Myocardial Infarction", "Critical Limb Ischemia", "Diabetes Mellitus, Type 1",
    "Crohn Disease", "Osteoarthritis, Knee", "Osteogenesis Imperfecta", "Burns", "Skin Ulcer",
    "Epidermolysis Bullosa, Junctional", "Limbal Stem Cell Deficiency",
    "Cytomegalovirus Infections",
    "Epstein-Barr Virus Infections", "Adenoviridae Infections", "Polyomavirus Infections",
    "Chronic Granulomatous Disease", "Leukocyte-Adhesion Deficiency Syndrome",
    "Fanconi Anemia", "Pyruvate Kinase Deficiency", "Hemophilia, Von Willebrand",
)  # fmt: skip
QUALIFIERS = (
    "Relapsed or refractory", "Newly diagnosed", "Severe", "Moderate to severe", "Advanced",
    "Inherited", "Early-onset", "Late-onset", "Transfusion-dependent", "Unresectable",
    "Metastatic", "Steroid-refractory", "Symptomatic", "Paediatric", "High-risk",
)  # fmt: skip
POPULATIONS = (
    "adults after at least two prior lines of therapy",
    "children from 6 months of age",
    "adults and adolescents from 12 years of age",
    "patients not eligible for stem cell transplantation",
    "adults whose disease returned after an autologous transplant",
    "patients with a confirmed mutation in both copies of the gene",
    "adults without antibodies against the vector capsid",
    "",
)
ONSETS = (
    "b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gl", "h", "j", "k", "kr", "l", "m",
    "n", "p", "pr", "q", "r", "s", "sk", "sp", "st", "t", "tr", "v", "x", "y", "z", "zh", "",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "y", "ae", "ia", "io", "ea")
CODAS = ("", "", "", "n", "r", "l", "x", "s", "m", "v", "t", "c")
ENDINGS = (
    "a", "ia", "ra", "ys", "is", "ex", "ix", "on", "ar", "el", "yn", "io", "ta", "gy", "vi", "ma",
)  # fmt: skip
HOLDER_SUFFIXES = (
    "Therapeutics B.V.", "Biologics GmbH", "Pharma EEIG", "Cell Therapies Ltd", "Bio SA",
    "Europe B.V.", "Gene Therapy S.r.l.", "Biotech A/S", "Medicines Ireland Limited", "AG",
)  # fmt: skip
EVENT_NOTES = {
    EventKind.APPLICATION_SUBMITTED: "The company applied for a marketing authorisation.",
    EventKind.POSITIVE_OPINION: "The CHMP recommended a marketing authorisation.",
    EventKind.NEGATIVE_OPINION: "The CHMP recommended refusing the marketing authorisation.",
    EventKind.RE_EXAMINATION: "The company asked for a re-examination of the opinion.",
    EventKind.INITIAL_AUTHORISATION: "The European Commission granted the authorisation.",
    EventKind.CONVERSION: "The conditional authorisation became a standard one.",
    EventKind.EXTENSION_OF_INDICATION: "The use was extended to a further group of patients.",
    EventKind.CHANGE_OF_HOLDER: "The authorisation was transferred to another company.",
    EventKind.RENEWAL: "The authorisation was renewed.",
    EventKind.SUSPENSION: "The authorisation was suspended pending a review.",
    EventKind.WITHDRAWAL: "The authorisation was withdrawn at the holder's request.",
    EventKind.EXPIRY: "The authorisation expired without renewal.",
    EventKind.LAPSE: "The authorisation lapsed: the product was not marketed for three years.",
    EventKind.REVOCATION: "The Commission revoked the authorisation.",
    EventKind.REFUSAL: "The European Commission refused the authorisation.",
    EventKind.APPLICATION_WITHDRAWN: "The company withdrew its application.",
}
FIRST_DATE = datetime.date(1996, 1, 1)
LAST_DATE = datetime.date(2025, 10, 27)


class CatalogueGenerator:
    """Builds rows for every table, deterministically from a seed."""

    def __init__(self, size: int, *, seed: int = 1) -> None:
        self.size = size
        self.random = random.Random(seed)
        self.now = timezone.now()
        self.used_names: set[str] = set()

    # Vocabulary ----------------------------------------------------------------------------

    def mechanisms(self, count: int) -> list[dict[str, Any]]:
        combos = [
            (modality, target) for modality in MODALITIES for target in TARGETS[modality["targets"]]
        ]
        self.random.shuffle(combos)
        rows = []
        for modality, target in combos[:count]:
            name = modality["name"].format(target=target)
            rows.append(
                {
                    "name": name[0].upper() + name[1:],
                    "slug": catalogue.slugify_name(name),
                    "description": (
                        f"{name[0].upper() + name[1:]}: {modality['platform']} acting on "
                        f"{target}, given {modality['delivery'].replace('-', ' ')}."
                    ),
                    "modality": modality,
                    "target": target,
                }
            )
        return rows

    def holders(self, count: int) -> list[str]:
        names: set[str] = set()
        while len(names) < count:
            names.add(f"{self.brand_name(unique=False)} {self.random.choice(HOLDER_SUFFIXES)}")
        return sorted(names)

    def brand_name(self, *, unique: bool = True) -> str:
        for _attempt in range(50):
            syllables = self.random.choice((1, 2, 2, 2, 3))
            word = "".join(
                self.random.choice(ONSETS) + self.random.choice(VOWELS) + self.random.choice(CODAS)
                for _ in range(syllables)
            ) + self.random.choice(ENDINGS)
            name = word[0].upper() + word[1:]
            if len(name) < 4:
                continue
            if not unique or name not in self.used_names:
                self.used_names.add(name)
                return name
        # A crowded namespace: a second word keeps names unique, as brands do ("… Gendux").
        name = f"{name} {self.brand_name(unique=False)}"
        return name if name not in self.used_names else self.brand_name()

    def syllable(self) -> str:
        return (
            self.random.choice(ONSETS[:-1])
            + self.random.choice(VOWELS[:5])
            + self.random.choice(CODAS)
        )

    def inn(self, stems: tuple[str, str]) -> str:
        first, second = stems
        prefix = self.syllable() + self.syllable()
        middle = self.syllable() + self.random.choice(("a", "e", "i", "o"))
        if first:
            return f"{prefix}{first} {middle}{second}"
        return f"{prefix}{second}"

    # Dates and timelines -------------------------------------------------------------------

    def date_between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return start + datetime.timedelta(days=self.random.randint(0, (end - start).days))

    def after(self, date: datetime.date, low: int, high: int) -> datetime.date:
        return min(date + datetime.timedelta(days=self.random.randint(low, high)), LAST_DATE)

    def event(self, kind: str, date: datetime.date, *, exact: bool = True) -> dict[str, Any]:
        # One event in eight is known only to the month, as many are in the EMA's notes.
        if exact or self.random.random() >= 0.125:
            return {"kind": kind, "date": date, "date_partial": "", "note": EVENT_NOTES[kind]}
        return {"kind": kind, "date": None, "date_partial": date.strftime("%Y-%m"), "note": ""}

    def flags(self, status: str, orphan: bool | None) -> dict[str, bool | None]:
        """The flags now and at first authorisation; a tenth of the conditional ones converted.

        An application never authorised has no authorisation flags (products/flags.py).
        """
        now = {
            "is_orphan": orphan,
            "is_conditional": self.flag(0.3),
            "is_exceptional_circumstances": self.flag(0.05),
            "is_accelerated_assessment": self.flag(0.1),
            "is_prime": self.flag(0.2),
        }
        if status not in HELD_AUTHORISATION:
            return now | dict.fromkeys(NOT_APPLICABLE_WITHOUT_AUTHORISATION)
        at = {f"{name}_at_authorisation": value for name, value in now.items()}
        if now["is_conditional"] and self.random.random() < 0.1:
            now["is_conditional"] = False
        return now | at

    def timeline(self, status: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Events in time order that leave the product in ``status``; and the product's dates."""
        submitted = self.date_between(FIRST_DATE, LAST_DATE - datetime.timedelta(days=900))
        events = [self.event(EventKind.APPLICATION_SUBMITTED, submitted, exact=False)]
        dates: dict[str, Any] = {
            "authorisation_date": None,
            "authorisation_date_partial": "",
            "status_date": None,
        }
        opinion = self.after(submitted, 200, 500)
        if status in HELD_AUTHORISATION:
            events.append(self.event(EventKind.POSITIVE_OPINION, opinion, exact=False))
            authorised = self.after(opinion, 45, 80)
            if self.random.random() < 0.01:  # only the year is known
                dates["authorisation_date_partial"] = str(authorised.year)
                events.append(
                    {
                        "kind": EventKind.INITIAL_AUTHORISATION,
                        "date": None,
                        "date_partial": str(authorised.year),
                        "note": EVENT_NOTES[EventKind.INITIAL_AUTHORISATION],
                    }
                )
                # Later events fall in later years, so that the timeline's order stays certain.
                authorised = min(datetime.date(authorised.year + 1, 1, 15), LAST_DATE)
            else:
                dates["authorisation_date"] = authorised
                events.append(self.event(EventKind.INITIAL_AUTHORISATION, authorised))
            later = authorised
            for kind in self.random.sample(
                (
                    EventKind.EXTENSION_OF_INDICATION,
                    EventKind.RENEWAL,
                    EventKind.CHANGE_OF_HOLDER,
                    EventKind.CONVERSION,
                ),
                k=self.random.choice((0, 0, 1, 1, 2, 3)),
            ):
                later = self.after(later, 120, 1200)
                events.append(self.event(kind, later, exact=False))
            if status in ENDED_OR_SUSPENDED:
                ended = self.after(later, 60, 2000)
                events.append(self.event(ENDING_EVENT[status], ended))
                dates["status_date"] = ended
        elif status == Status.REFUSED:
            events.append(self.event(EventKind.NEGATIVE_OPINION, opinion, exact=False))
            refused = self.after(opinion, 45, 90)
            events.append(self.event(EventKind.REFUSAL, refused))
            dates["status_date"] = refused
        elif status == Status.OPINION:
            events.append(self.event(EventKind.POSITIVE_OPINION, opinion))
            dates["status_date"] = opinion
        elif status == Status.UNDER_RE_EXAMINATION:
            events.append(self.event(EventKind.NEGATIVE_OPINION, opinion))
            again = self.after(opinion, 10, 60)
            events.append(self.event(EventKind.RE_EXAMINATION, again))
            dates["status_date"] = again
        elif status == Status.APPLICATION_WITHDRAWN:
            withdrawn = self.after(submitted, 100, 600)
            events.append(self.event(EventKind.APPLICATION_WITHDRAWN, withdrawn))
            dates["status_date"] = withdrawn
        # withdrawn-from-rolling-review: no status-changing event exists for it in the register.
        return events, dates

    # Products ------------------------------------------------------------------------------

    def flag(self, probability: float) -> bool | None:
        roll = self.random.random()
        if roll < 0.03:
            return None  # not known
        return roll < probability

    def products(
        self, *, mechanisms: list[dict[str, Any]], holders: int, areas: int
    ) -> Iterable[dict[str, Any]]:
        statuses = [status for _weight, status in STATUS_WEIGHTS]
        cumulative = list(itertools.accumulate(weight for weight, _status in STATUS_WEIGHTS))
        for number in range(1, self.size + 1):
            mechanism = self.random.choice(mechanisms)
            modality = mechanism["modality"]
            status = self.random.choices(statuses, cum_weights=cumulative)[0]
            events, dates = self.timeline(status)
            name = self.brand_name()
            slug = catalogue.slugify_name(name)
            inn = self.inn(modality["inn"])
            orphan = self.flag(0.55)
            indications = []
            for position in range(self.random.choice((1, 1, 1, 2, 2, 3, 4))):
                chosen = [self.random.randrange(areas)]
                if self.random.random() < 0.25:  # a second, different area
                    chosen.append((chosen[0] + 1 + self.random.randrange(areas - 1)) % areas)
                indications.append(
                    {
                        "condition": self.random.choice(QUALIFIERS),
                        "areas": chosen,
                        "population": self.random.choice(POPULATIONS),
                        "is_orphan": orphan if position == 0 else self.flag(0.4),
                        "position": position,
                    }
                )
            extra = []
            if self.random.random() < 0.08:
                extra.append(self.random.choice(mechanisms))
            yield {
                "number": number,
                "name": name,
                "slug": slug,
                "aliases": [self.brand_name()] if self.random.random() < 0.05 else [],
                "inn": inn,
                "ema_product_number": (
                    f"EMEA/H/C/{number:06d}" if self.random.random() > 0.01 else None
                ),
                "category": None if self.random.random() < 0.01 else modality["category"],
                "mechanisms": [mechanism, *[m for m in extra if m is not mechanism]],
                "platform": modality["platform"],
                "target": mechanism["target"],
                "cell_source": modality["cell_source"],
                "delivery": modality["delivery"],
                "route_of_administration": "single intravenous infusion",
                "atc_code": self.random.choice(modality["atc"]),
                "epar_url": f"https://www.ema.europa.eu/en/medicines/human/EPAR/{slug}",
                "description": (
                    f"{name} ({inn}) is a {mechanism['name'][0].lower()}{mechanism['name'][1:]} "
                    f"product. {mechanism['description']}"
                ),
                **self.flags(status, orphan),
                "status": status,
                "status_reason": "",
                **dates,
                "holder": None if self.random.random() < 0.005 else self.random.randrange(holders),
                "is_published": self.random.random() < 0.97,
                "indications": indications,
                "events": events,
                # Entered at one time (created, last changed and its history record) within the
                # last five years: a register's products are not all edited in the same instant.
                "entered_at": self.now - datetime.timedelta(seconds=self.random.randrange(EDITS)),
            }


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` into ``table`` with PostgreSQL's COPY; return how many."""
    count = 0
    cursor = connection.cursor().cursor  # the psycopg cursor under Django's wrapper
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def concrete_columns(model: type[models.Model]) -> list[models.Field]:
    return [field for field in model._meta.concrete_fields]


def row_for(fields: Sequence[models.Field], values: dict[str, Any]) -> tuple[Any, ...]:
    """Values in the order of ``fields``; a field not given takes its model default."""
    return tuple(
        values[field.attname] if field.attname in values else field.get_default()
        for field in fields
    )


def dropped_indexes(cursor, table: str) -> list[str]:
    """Drop the indexes of ``table`` that back no constraint; return their definitions."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
         WHERE i.indrelid = %s::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [table],
    )
    rows = cursor.fetchall()
    for name, _definition in rows:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in rows]


class GenerationRefused(Exception):
    """The database is not one to fill with synthetic products; nothing was written."""


def generate_catalogue(
    *, size: int, seed: int = 1, replace: bool = False, if_needed: bool = False, verbose=False
) -> str:
    """Fill the database of ``DATABASE_URL`` with ``size`` synthetic products; say what was done.

    Refuses (``GenerationRefused``) a size out of range, the database of ``make run``, a database
    holding real products, and one holding synthetic ones unless ``replace`` or ``if_needed``.
    """
    if not 1 <= size <= 900_000:
        raise GenerationRefused(f"--size must be between 1 and 900000, not {size}")
    database = settings.DATABASES["default"]["NAME"]
    if database == DATABASE_NAME:
        raise GenerationRefused(
            f"refusing to write synthetic data into {database!r}, the database of make run; "
            "set DATABASE_URL to a benchmark database (make bench does)"
        )
    if catalogue.Product.objects.exclude(verification=SYNTHETIC).exists():
        raise GenerationRefused(
            f"database {database!r} holds real products; refusing to add synthetic ones"
        )
    existing = catalogue.Product.objects.count()
    if if_needed and existing == size:
        return f"{database!r} already holds {size} synthetic products"
    if existing and not (replace or if_needed):
        raise GenerationRefused(
            f"database {database!r} already holds {existing} synthetic "
            "products; add --replace to generate them again"
        )
    started = time.monotonic()

    def log(message: str) -> None:
        if verbose:
            print(f"{message} at {time.monotonic() - started:.1f} s", file=sys.stderr)

    with transaction.atomic():
        counts = generate(size=size, seed=seed, log=log)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # the planner needs statistics of the new rows
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            # Write the new pages out now, not while the benchmark measures.
            cursor.execute("CHECKPOINT")
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    return f"generated {summary} into {database!r} in {elapsed:.1f} s"


def ids_by(model: type[models.Model], field: str, names: Sequence[str]) -> list[int]:
    """The primary keys of the rows of ``model`` whose ``field`` is each of ``names``, in order
    (one query)."""
    ids = dict(model.objects.filter(**{f"{field}__in": names}).values_list(field, "pk"))
    return [ids[name] for name in names]


def generate(*, size: int, seed: int, log: Callable[[str], None] = print) -> dict[str, int]:
    """Replace the catalogue's tables with a synthetic catalogue, in the caller's transaction."""
    tables = [
        catalogue.Product.history.model,
        catalogue.Indication.history.model,
        catalogue.AuthorisationEvent.history.model,
        catalogue.AuthorisationEvent,
        catalogue.Indication.therapeutic_areas.through,
        catalogue.Indication,
        catalogue.Product.mechanisms.through,
        catalogue.Product,
        catalogue.Company,
        catalogue.TherapeuticArea,
        catalogue.MechanismOfAction,
        catalogue.SearchWord,  # the lexicon of the replaced catalogue's words
    ]
    with connection.cursor() as cursor:
        names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        if superuser:
            # Row triggers (those of the search document, those of the foreign keys) stay
            # quiet while the related rows go in; see below.
            cursor.execute("SET LOCAL session_replication_role = replica")
    generator = CatalogueGenerator(size, seed=seed)
    counts: dict[str, int] = {}

    categories = json.loads(
        (Path(settings.BASE_DIR) / "fixtures" / "catalogue.json").read_text(encoding="utf-8")
    )["categories"]
    catalogue.Category.objects.bulk_create(
        [catalogue.Category(**item) for item in categories],
        update_conflicts=True,
        unique_fields=["slug"],
        update_fields=[field for field in categories[0] if field != "slug"],
    )
    category_ids = dict(catalogue.Category.objects.values_list("slug", "pk"))

    mechanisms = generator.mechanisms(20 + size // 200)
    catalogue.MechanismOfAction.objects.bulk_create(
        catalogue.MechanismOfAction(name=m["name"], slug=m["slug"], description=m["description"])
        for m in mechanisms
    )
    mechanism_ids = dict(catalogue.MechanismOfAction.objects.values_list("slug", "pk"))
    counts["mechanisms"] = len(mechanisms)

    area_names = THERAPEUTIC_AREAS[: max(31, min(len(THERAPEUTIC_AREAS), 31 + size // 100))]
    catalogue.TherapeuticArea.objects.bulk_create(
        catalogue.TherapeuticArea(name=name, slug=catalogue.slugify_name(name))
        for name in area_names
    )
    area_ids = ids_by(catalogue.TherapeuticArea, "name", area_names)
    counts["therapeutic areas"] = len(area_ids)

    holder_names = generator.holders(max(10, size // 25))
    catalogue.Company.objects.bulk_create(
        catalogue.Company(name=name, slug=catalogue.slugify_name(name)) for name in holder_names
    )
    holder_ids = ids_by(catalogue.Company, "name", holder_names)
    counts["holders"] = len(holder_ids)

    product_fields = concrete_columns(catalogue.Product)
    history_fields = concrete_columns(catalogue.Product.history.model)
    indication_fields = concrete_columns(catalogue.Indication)
    event_fields = concrete_columns(catalogue.AuthorisationEvent)
    product_rows, history_rows, indication_rows, area_rows = [], [], [], []
    mechanism_rows, event_rows = [], []
    indication_id = event_id = 0
    for item in generator.products(
        mechanisms=mechanisms, holders=len(holder_ids), areas=len(area_ids)
    ):
        pk = item["number"]
        area_names_of = []
        for indication in item["indications"]:
            indication_id += 1
            first_area = area_names[indication["areas"][0]]
            indication_rows.append(
                row_for(
                    indication_fields,
                    {
                        "id": indication_id,
                        "product_id": pk,
                        "condition": f"{first_area}, {indication['condition'].lower()}",
                        "population": indication["population"],
                        "is_orphan": indication["is_orphan"],
                        "position": indication["position"],
                    },
                )
            )
            for area in indication["areas"]:
                area_rows.append((indication_id, area_ids[area]))
                area_names_of.append(area_names[area])
        for mechanism in item["mechanisms"]:
            mechanism_rows.append((pk, mechanism_ids[mechanism["slug"]]))
        for event in item["events"]:
            event_id += 1
            event_rows.append(row_for(event_fields, {"id": event_id, "product_id": pk, **event}))
        values = {key: value for key, value in item.items() if key not in NOT_PRODUCT_COLUMNS}
        values.update(
            id=pk,
            category_id=category_ids[item["category"]] if item["category"] else None,
            holder_id=holder_ids[item["holder"]] if item["holder"] is not None else None,
            ema_indication_text="; ".join(
                f"{area_names[row['areas'][0]]}, {row['condition'].lower()}"
                for row in item["indications"]
            ),
            verification=SYNTHETIC,
            sources=["Synthetic data for the benchmark (bench/generate.py)"],
            created_at=item["entered_at"],
            updated_at=item["entered_at"],
        )
        product_rows.append(row_for(product_fields, values))
        history_rows.append(
            row_for(
                history_fields,
                {
                    **values,
                    "history_id": pk,
                    "history_date": item["entered_at"],
                    "history_change_reason": "generated",
                    "history_type": "+",
                    "history_user_id": None,
                },
            )
        )
    product_table = catalogue.Product._meta.db_table
    product_columns = [field.column for field in product_fields]
    children = [
        (catalogue.Product.history.model, [f.column for f in history_fields], history_rows),
        (
            catalogue.Product.mechanisms.through,
            ["product_id", "mechanismofaction_id"],
            mechanism_rows,
        ),
        (catalogue.Indication, [f.column for f in indication_fields], indication_rows),
        (
            catalogue.Indication.therapeutic_areas.through,
            ["indication_id", "therapeuticarea_id"],
            area_rows,
        ),
        (catalogue.AuthorisationEvent, [f.column for f in event_fields], event_rows),
    ]
    log("built the rows")
    if superuser:
        # Children first, their triggers quiet; then the products, whose own row trigger
        # (the search vector of migration 0004) finds every related row in place and runs
        # once per product, and whose statement trigger (migration 0006) adds the words of
        # all the vectors to the search lexicon in one insert at the end of the COPY.
        # Indexes other than the constraints' are built after the rows.
        for model, columns, rows in children:
            copy_rows(model._meta.db_table, columns, rows)
        log("copied the related rows")
        with connection.cursor() as cursor:
            tables_sql = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
            cursor.execute(f"ANALYZE {tables_sql}")  # the triggers' queries need statistics
            indexes = dropped_indexes(cursor, product_table)
            indexes += dropped_indexes(cursor, catalogue.SearchWord._meta.db_table)
            cursor.execute("SET LOCAL session_replication_role = origin")
        copy_rows(product_table, product_columns, product_rows)
        log("copied the products")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred keys now
            for definition in indexes:
                cursor.execute(definition)
        log(f"rebuilt {len(indexes)} indexes")
    else:
        copy_rows(product_table, product_columns, product_rows)
        for model, columns, rows in children:
            copy_rows(model._meta.db_table, columns, rows)
    counts["products"] = len(product_rows)
    counts["indications"] = len(indication_rows)
    counts["events"] = len(event_rows)
    reset = connection.ops.sequence_reset_sql(
        no_style(),
        [
            catalogue.Product,
            catalogue.Product.history.model,
            catalogue.Indication,
            catalogue.AuthorisationEvent,
        ],
    )
    with connection.cursor() as cursor:
        for statement in reset:
            cursor.execute(statement)
    return counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--size", type=int, required=True, help="Number of products.")
    parser.add_argument("--seed", type=int, default=1, help="Same seed, same catalogue.")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="Delete an earlier synthetic catalogue in this database first.",
    )
    parser.add_argument(
        "--if-needed",
        action="store_true",
        help="Do nothing if the database already holds --size synthetic products; "
        "replace a synthetic catalogue of another size.",
    )
    parser.add_argument("--verbose", action="store_true", help="Say how long each step took.")
    options = parser.parse_args(argv)
    try:
        print(generate_catalogue(**vars(options)))
    except GenerationRefused as exc:
        raise SystemExit(f"bench.generate: {exc}") from None


if __name__ == "__main__":
    main()
