"""Generate a synthetic catalogue of a given size, for the benchmark (``make bench``).

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
records, take well under a minute.
"""

from __future__ import annotations

import datetime
import itertools
import json
import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from atmp_catalogue.localdb import DATABASE_NAME
from products.choices import ENDED_OR_SUSPENDED, HELD_AUTHORISATION, EventKind, Status
from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION
from products.models import (
    AuthorisationEvent,
    Category,
    Company,
    Indication,
    MechanismOfAction,
    Product,
    SearchWord,
    TherapeuticArea,
    slugify_name,
)

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

# Modalities: (name pattern, mechanism description, category slug, cell source, delivery,
# platform, INN stem builder key, ATC codes).
MODALITIES: Sequence[dict[str, Any]] = (
    {
        "name": "{target}-directed CAR-T cells",
        "category": "gene-therapy",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "CAR-T (lentiviral vector)",
        "inn": ("cabtagene", "leucel"),
        "atc": ("L01XL", "L01XL04", "L01XL08", "L01"),
        "targets": "antigens",
    },
    {
        "name": "Allogeneic {target}-directed CAR-NK cells",
        "category": "gene-therapy",
        "cell_source": "allogeneic",
        "delivery": "ex-vivo",
        "platform": "CAR-NK (cord-blood natural killer cells)",
        "inn": ("cabtagene", "leucel"),
        "atc": ("L01XL", ""),
        "targets": "antigens",
    },
    {
        "name": "{target} TCR-engineered T cells",
        "category": "gene-therapy",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "TCR-T (lentiviral vector)",
        "inn": ("tagene", "leucel"),
        "atc": ("L01XL", ""),
        "targets": "antigens",
    },
    {
        "name": "AAV {target} gene replacement in vivo",
        "category": "gene-therapy",
        "cell_source": "none",
        "delivery": "in-vivo",
        "platform": "AAV9",
        "inn": ("gene", "parvovec"),
        "atc": ("M09AX09", "B02BD16", "S01XA27", ""),
        "targets": "genes",
    },
    {
        "name": "Lentiviral {target} gene addition in haematopoietic stem cells",
        "category": "gene-therapy",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "lentiviral vector, transduced haematopoietic stem/progenitor cells",
        "inn": ("gene", "autotemcel"),
        "atc": ("B06AX05", "N07", ""),
        "targets": "genes",
    },
    {
        "name": "CRISPR-Cas9 editing of {target} in haematopoietic stem cells",
        "category": "gene-therapy",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "CRISPR-Cas9 edited CD34+ cells",
        "inn": ("glogene", "autotemcel"),
        "atc": ("B06AX05", ""),
        "targets": "genes",
    },
    {
        "name": "Oncolytic virus expressing {target}",
        "category": "gene-therapy",
        "cell_source": "none",
        "delivery": "in-vivo",
        "platform": "HSV-1 oncolytic virus",
        "inn": ("gene", "laherparepvec"),
        "atc": ("L01XX51", ""),
        "targets": "payloads",
    },
    {
        "name": "{target}-specific T cells",
        "category": "somatic-cell-therapy",
        "cell_source": "allogeneic",
        "delivery": "ex-vivo",
        "platform": "virus-specific T cells (not genetically modified)",
        "inn": ("", "leucel"),
        "atc": ("L03", ""),
        "targets": "viruses",
    },
    {
        "name": "Mesenchymal stromal cells modulating {target}",
        "category": "somatic-cell-therapy",
        "cell_source": "allogeneic",
        "delivery": "in-vivo",
        "platform": "MSC (expanded adipose-derived mesenchymal stromal cells)",
        "inn": ("", "strocel"),
        "atc": ("L04", ""),
        "targets": "payloads",
    },
    {
        "name": "Engineered {target} tissue graft",
        "category": "tissue-engineered",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "cultured cells on a collagen scaffold",
        "inn": ("", "temcel"),
        "atc": ("M09AX02", "S01XA19", ""),
        "targets": "tissues",
    },
    {
        "name": "{target} cells on an integral medical device",
        "category": "combined",
        "cell_source": "autologous",
        "delivery": "ex-vivo",
        "platform": "cells seeded on a CE-marked membrane (combined ATMP)",
        "inn": ("", "temcel"),
        "atc": ("M09AX02", ""),
        "targets": "tissues",
    },
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
                    "slug": slugify_name(name),
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
            slug = slugify_name(name)
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


class Command(BaseCommand):
    help = "Fill a benchmark database with a realistic synthetic catalogue of --size products."

    def add_arguments(self, parser):
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

    def handle(self, *args, size: int, seed: int, replace: bool, if_needed: bool, **options):
        if not 1 <= size <= 900_000:
            raise CommandError(f"--size must be between 1 and 900000, not {size}")
        database = settings.DATABASES["default"]["NAME"]
        if database == DATABASE_NAME:
            raise CommandError(
                f"refusing to write synthetic data into {database!r}, the database of make run; "
                "set DATABASE_URL to a benchmark database (make bench does)"
            )
        if Product.objects.exclude(verification=SYNTHETIC).exists():
            raise CommandError(
                f"database {database!r} holds real products; refusing to add synthetic ones"
            )
        existing = Product.objects.count()
        if if_needed and existing == size:
            self.stdout.write(f"{database!r} already holds {size} synthetic products")
            return
        if existing and not (replace or if_needed):
            raise CommandError(
                f"database {database!r} already holds {existing} synthetic "
                "products; add --replace to generate them again"
            )
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        with transaction.atomic():
            counts = self.generate(size=size, seed=seed)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the planner needs statistics of the new rows
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Write the new pages out now, not while the benchmark measures.
                cursor.execute("CHECKPOINT")
        elapsed = time.monotonic() - self.started
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"generated {summary} into {database!r} in {elapsed:.1f} s")

    def log(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(message)

    def generate(self, *, size: int, seed: int) -> dict[str, int]:
        tables = [
            Product.history.model,
            Indication.history.model,
            AuthorisationEvent.history.model,
            AuthorisationEvent,
            Indication.therapeutic_areas.through,
            Indication,
            Product.mechanisms.through,
            Product,
            Company,
            TherapeuticArea,
            MechanismOfAction,
            SearchWord,  # the lexicon of the replaced catalogue's words
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
        for item in categories:
            Category.objects.update_or_create(slug=item["slug"], defaults=item)
        category_ids = dict(Category.objects.values_list("slug", "pk"))

        mechanisms = generator.mechanisms(20 + size // 200)
        MechanismOfAction.objects.bulk_create(
            MechanismOfAction(name=m["name"], slug=m["slug"], description=m["description"])
            for m in mechanisms
        )
        mechanism_ids = dict(MechanismOfAction.objects.values_list("slug", "pk"))
        counts["mechanisms"] = len(mechanisms)

        area_names = THERAPEUTIC_AREAS[: max(31, min(len(THERAPEUTIC_AREAS), 31 + size // 100))]
        TherapeuticArea.objects.bulk_create(
            TherapeuticArea(name=name, slug=slugify_name(name)) for name in area_names
        )
        area_ids = [
            dict(TherapeuticArea.objects.values_list("name", "pk"))[name] for name in area_names
        ]
        counts["therapeutic areas"] = len(area_ids)

        holder_names = generator.holders(max(10, size // 25))
        Company.objects.bulk_create(
            Company(name=name, slug=slugify_name(name)) for name in holder_names
        )
        holder_ids = [dict(Company.objects.values_list("name", "pk"))[n] for n in holder_names]
        counts["holders"] = len(holder_ids)

        product_fields = concrete_columns(Product)
        history_fields = concrete_columns(Product.history.model)
        indication_fields = concrete_columns(Indication)
        event_fields = concrete_columns(AuthorisationEvent)
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
                event_rows.append(
                    row_for(event_fields, {"id": event_id, "product_id": pk, **event})
                )
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
                sources=["Synthetic data for the benchmark (generate_catalogue)"],
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
        product_table = Product._meta.db_table
        product_columns = [field.column for field in product_fields]
        children = [
            (Product.history.model, [f.column for f in history_fields], history_rows),
            (
                Product.mechanisms.through,
                ["product_id", "mechanismofaction_id"],
                mechanism_rows,
            ),
            (Indication, [f.column for f in indication_fields], indication_rows),
            (
                Indication.therapeutic_areas.through,
                ["indication_id", "therapeuticarea_id"],
                area_rows,
            ),
            (AuthorisationEvent, [f.column for f in event_fields], event_rows),
        ]
        self.log(f"built the rows in {time.monotonic() - self.started:.1f} s")
        if superuser:
            # Children first, their triggers quiet; then the products, whose own row trigger
            # (the search vector of migration 0004) finds every related row in place and runs
            # once per product, and whose statement trigger (migration 0006) adds the words of
            # all the vectors to the search lexicon in one insert at the end of the COPY.
            # Indexes other than the constraints' are built after the rows.
            for model, columns, rows in children:
                copy_rows(model._meta.db_table, columns, rows)
            self.log(f"copied the related rows at {time.monotonic() - self.started:.1f} s")
            with connection.cursor() as cursor:
                tables_sql = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
                cursor.execute(f"ANALYZE {tables_sql}")  # the triggers' queries need statistics
                indexes = dropped_indexes(cursor, product_table)
                indexes += dropped_indexes(cursor, SearchWord._meta.db_table)
                cursor.execute("SET LOCAL session_replication_role = origin")
            copy_rows(product_table, product_columns, product_rows)
            self.log(f"copied the products at {time.monotonic() - self.started:.1f} s")
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred keys now
                for definition in indexes:
                    cursor.execute(definition)
            self.log(f"rebuilt {len(indexes)} indexes at {time.monotonic() - self.started:.1f} s")
        else:
            copy_rows(product_table, product_columns, product_rows)
            for model, columns, rows in children:
                copy_rows(model._meta.db_table, columns, rows)
        counts["products"] = len(product_rows)
        counts["indications"] = len(indication_rows)
        counts["events"] = len(event_rows)
        reset = connection.ops.sequence_reset_sql(
            no_style(),
            [Product, Product.history.model, Indication, AuthorisationEvent],
        )
        with connection.cursor() as cursor:
            for statement in reset:
                cursor.execute(statement)
        return counts
