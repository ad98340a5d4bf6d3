"""The data-quality report: where the catalogue is unsure, incomplete or at odds with the EMA.

Each finding is one line about one published product: the fact, the catalogue's value, the
EMA's where it differs, which side the catalogue takes and why. The kinds, in the report's order:

``disagreement``
    Where the catalogue and the EMA's last imported export disagree. The catalogue keeps what it
    recorded from the export on each product (``ema_advanced_therapy``, the register's flags
    now), so these are found on the products themselves, and a fixed product leaves the report
    at once: the export's advanced-therapy flag against the catalogue's own ``is_atmp``, and a
    register flag that differs from the value at first authorisation with no event of the
    timeline recording the change. What the last import left for a curator (a status, a flag or
    a date the curators mark as doubtful, a status the timeline contradicts) is read from that
    run's record (``ImportRun.diff``), until the next import. With no import run recorded, the
    report says so: the catalogue was loaded from its fact sheet and the export of 27 October
    2025 (``fixtures/catalogue.json``), whose values are those it recorded.
``unverified``
    Facts the curators mark as not yet verified (``unverified_fields``), products not yet checked
    at all, and events resting on a single source outside the EMA.
``no-ema-source``
    Products none of whose sources is the EMA's.
``stale``
    Products nobody (curator or import) has changed for more than :data:`STALE_AFTER`.
``missing``
    Missing numbers and dates: the EMA product number, the ATC code, the first authorisation
    date, the status date, an event's date.

The report reads the published products and their events in two queries and the
last import run in another, whatever the catalogue's size.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass

from django.utils import timezone
from django.utils.dateformat import format as format_date

from products.choices import HELD_AUTHORISATION, Confidence, Status
from products.flags import FLAGS, has_held_authorisation
from products.models import CatalogueSummary, ImportRun, Product
from products.sources import plain_unverified, plain_verification, product_sources

STALE_AFTER = datetime.timedelta(days=365)
KINDS = {
    "disagreement": "The catalogue and the EMA's export disagree",
    "unverified": "Not yet verified",
    "no-ema-source": "No source from the EMA",
    "stale": "Not checked for more than a year",
    "missing": "Missing numbers and dates",
}
#: Facts counted for the share verified: those the fact sheet records for each product.
FACTS_PER_PRODUCT = 15 + 2 * len(FLAGS)
WORDS = {True: "yes", False: "no", None: "not known"}
REVIEW_HEADER = re.compile(r"^(?P<name>\S.*) \((?P<number>[^()]*)\): (?P<action>[\w ]+)$")
REVIEW_LINE = "  flagged for review: "


@dataclass(frozen=True)
class Finding:
    kind: str
    slug: str
    name: str
    fact: str
    catalogue: str
    ema: str
    side: str  # "catalogue", "EMA", "both" or "none"
    why: str

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    def as_dict(self, url: str) -> dict:
        return {**asdict(self), "url": url}


@dataclass
class Report:
    findings: list[Finding]
    import_run: ImportRun | None
    product_count: int
    generated_at: datetime.datetime

    def by_kind(self) -> list[tuple[str, str, list[Finding]]]:
        return [
            (kind, label, [f for f in self.findings if f.kind == kind])
            for kind, label in KINDS.items()
        ]


def _date(value: datetime.date | None) -> str:
    return format_date(value, "j F Y") if value else "not known"


def _atmp(product: Product) -> list[Finding]:
    if product.ema_advanced_therapy is None or product.ema_advanced_therapy == product.is_atmp:
        return []
    reason = f" ({product.atmp_reason})" if product.atmp_reason else ""
    return [
        Finding(
            "disagreement",
            product.slug,
            product.name,
            "Advanced therapy (ATMP)",
            WORDS[product.is_atmp],
            WORDS[product.ema_advanced_therapy],
            "catalogue",
            "The catalogue's own judgement of whether it is an ATMP wins over the export's "
            f"advanced-therapy flag{reason}.",
        )
    ]


def _flags(product: Product, events: list) -> list[Finding]:
    if not has_held_authorisation(product.status):
        return []
    findings = []
    kinds = {event.kind for event in events}
    for flag in FLAGS:
        now, at = getattr(product, flag.field), getattr(product, flag.at_field)
        if now is None or at is None or now == at:
            continue
        event = flag.lost_event if at else flag.gained_event
        if event and event in kinds:
            continue  # the timeline records the change: both values are right, each for its time
        findings.append(
            Finding(
                "disagreement",
                product.slug,
                product.name,
                flag.label,
                f"{WORDS[at]} at first authorisation",
                f"{WORDS[now]} in the register now",
                "both",
                "Both are kept, each for its time (the plain field follows the EMA's register); "
                "no event of the timeline records the change, so one of them may be wrong.",
            )
        )
    return findings


def _reviews(run: ImportRun | None, products: dict[str, Product]) -> list[Finding]:
    """What the last import left for a curator, about published products."""
    if run is None:
        return []
    findings = []
    product = None
    for line in run.diff.splitlines():
        if header := REVIEW_HEADER.match(line):
            product = products.get(header["number"])
        elif product is not None and line.startswith(REVIEW_LINE):
            text = line.removeprefix(REVIEW_LINE).strip()
            fact, sep, rest = text.partition(": ")
            findings.append(
                Finding(
                    "disagreement",
                    product.slug,
                    product.name,
                    fact if sep and len(fact) < 40 else "Import",
                    "kept as it was",
                    rest if sep and len(fact) < 40 else text,
                    "catalogue",
                    f"Left for a curator by the import of {run.file_name} "
                    f"({_date(timezone.localdate(run.started_at))}); the catalogue keeps its "
                    "value until a curator decides (the next import reports it again if it "
                    "still differs).",
                )
            )
    return findings


def _unverified(product: Product, events: list) -> list[Finding]:
    findings = [
        Finding(
            "unverified",
            product.slug,
            product.name,
            plain_unverified(entry),
            "shown, marked as not verified",
            "",
            "catalogue",
            "The curators have not yet confirmed it against a source; the API lists it under "
            "“unverified”.",
        )
        for entry in product.unverified_fields
    ]
    if product.verification.strip().lower() == "unverified":
        findings.append(
            Finding(
                "unverified",
                product.slug,
                product.name,
                "Every core fact",
                plain_verification(product.verification),
                "",
                "catalogue",
                "The product's facts have not yet been checked against sources.",
            )
        )
    for event in events:
        if event.confidence == Confidence.SINGLE_SOURCE:
            findings.append(
                Finding(
                    "unverified",
                    product.slug,
                    product.name,
                    f"Timeline: {event.get_kind_display()} ({event.date_display})",
                    "shown as single-source",
                    "",
                    "catalogue",
                    "One source outside the EMA states it (such as a company announcement).",
                )
            )
    return findings


def _no_ema_source(product: Product) -> list[Finding]:
    found = product_sources(product)
    if any(source.is_ema for source in found):
        return []
    return [
        Finding(
            "no-ema-source",
            product.slug,
            product.name,
            "Sources",
            f"{len(found)} source{'s' if len(found) != 1 else ''}, none from the EMA",
            "",
            "catalogue",
            "Its facts stand on the sources listed on its page; none is the EMA's page, export "
            "or assessment report.",
        )
    ]


def _stale(product: Product, now: datetime.datetime) -> list[Finding]:
    if product.updated_at >= now - STALE_AFTER:
        return []
    return [
        Finding(
            "stale",
            product.slug,
            product.name,
            "Last checked",
            _date(timezone.localdate(product.updated_at)),
            _date(product.ema_last_updated_date),
            "catalogue",
            "No curator or import has changed it for more than a year; the EMA's column gives "
            "the date the EMA last updated its page.",
        )
    ]


def _missing(product: Product, events: list) -> list[Finding]:
    held = product.status in HELD_AUTHORISATION
    checks = [
        ("EMA product number", not product.ema_product_number, True),
        ("ATC code", not product.atc_code, held),
        (
            "First authorisation date",
            not (product.authorisation_date or product.authorisation_date_partial),
            held,
        ),
        (
            "Status date",
            product.status_date is None,
            product.status != Status.AUTHORISED,
        ),
    ]
    why = "No source the catalogue relies on gives it; it stays empty rather than guessed."
    findings = [
        Finding("missing", product.slug, product.name, fact, "not known", "", "none", why)
        for fact, is_missing, applies in checks
        if applies and is_missing
    ]
    for event in events:
        if not (event.date or event.date_partial or event.known_by):
            findings.append(
                Finding(
                    "missing",
                    product.slug,
                    product.name,
                    f"Date of: {event.get_kind_display()}",
                    "not known",
                    "",
                    "none",
                    "The event is known, not when it happened.",
                )
            )
    return findings


def build_report(*, now: datetime.datetime | None = None) -> Report:
    """Every finding about the published products (three queries, whatever their number)."""
    now = now or timezone.now()
    products = list(
        Product.objects.published()
        .defer("search_vector")
        .prefetch_related("events")
        .order_by("name", "slug")
    )
    run = ImportRun.objects.filter(dry_run=False).order_by("-started_at", "-pk").first()
    by_number = {p.ema_product_number: p for p in products if p.ema_product_number}
    findings = _reviews(run, by_number)
    for product in products:
        events = sorted(product.events.all(), key=lambda event: event.sort_key())
        findings += _atmp(product) + _flags(product, events)
    for product in products:
        events = sorted(product.events.all(), key=lambda event: event.sort_key())
        findings += _unverified(product, events)
        findings += _no_ema_source(product)
        findings += _stale(product, now)
        findings += _missing(product, events)
    order = {kind: index for index, kind in enumerate(KINDS)}
    findings.sort(key=lambda f: (order[f.kind], f.name.casefold(), f.slug))
    return Report(findings, run, len(products), now)


@dataclass(frozen=True)
class VerifiedShare:
    verified: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.total) if self.total else 0


def verified_share() -> VerifiedShare:
    """The share of the published products' facts verified (one query, on the summary).

    Each product counts :data:`FACTS_PER_PRODUCT` facts (identity, classification, status and
    dates, holder, indications, and the ten flags); each entry of ``unverified_fields`` is one
    not verified, and a product marked "unverified" has none verified. Summed from the
    catalogue summary's groups (``CatalogueSummary``, kept by triggers), not from the products:
    the same numbers, whatever the size of the catalogue.
    """
    verified, products = CatalogueSummary.objects.verified_facts(FACTS_PER_PRODUCT)
    return VerifiedShare(verified, products * FACTS_PER_PRODUCT)
