"""Applying the selected rows of one export to the catalogue, inside the caller's transaction.

An existing product gets only the facts the import owns (status and its date with an event for
each change, the five flags, holder, ATC code, EMA indication text, EPAR URL, first authorisation
date, EMA last-updated date); a curated field is never written, a known value never replaced by
the export's silence, and a doubted field is reported, not changed. A new row becomes an
unpublished product. Each step adds to the row's :class:`ProductDiff`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from products.choices import (
    ENDED_OR_SUSPENDED,
    HELD_AUTHORISATION,
    STATUS_EVENTS,
    EventKind,
    Status,
)
from products.flags import FLAGS, Flag
from products.importers.ema.columns import (
    FIELD_COLUMNS,
    FLAG_FIELDS,
    LAST_UPDATED_DATE,
    OPINION_EVENTS,
    STATUS_DATE_COLUMNS,
    STATUS_FIELDS,
    ExportFormatError,
)
from products.importers.ema.doubts import doubted_fields
from products.importers.ema.reader import Export, ExportRow
from products.importers.ema.report import (
    CREATED,
    LEFT_OUT,
    NOT_CREATED,
    UNCHANGED,
    UPDATED,
    FieldChange,
    ProductDiff,
    describe_event,
    show,
)
from products.importers.ema.values import ATC_CODE, NO_ATC, holder_key, plain, split_name
from products.models import AuthorisationEvent, Company, Product, slugify_name

ATMP_REASON = "flagged as advanced therapy in the EMA export"
#: The fields a new product's diff lists, in this order.
CREATED_FIELDS = (
    "slug", "inn", "status", "status_date", "authorisation_date", "holder", *FLAG_FIELDS,
    "atc_code", "epar_url", "ema_indication_text", "ema_last_updated_date",
)  # fmt: skip


@dataclass
class Vocabulary:
    """The holders and slugs the run knows, and those it added (undone with a left-out row)."""

    companies: dict[str, Company]
    company_keys: dict[str, Company]
    slugs: set[str]

    @classmethod
    def load(cls) -> Vocabulary:
        companies = {company.name: company for company in Company.objects.all()}
        return cls(
            companies=companies,
            company_keys={holder_key(name): company for name, company in companies.items()},
            slugs=set(Product.objects.values_list("slug", flat=True)),
        )

    def copy(self) -> Vocabulary:
        return Vocabulary(dict(self.companies), dict(self.company_keys), set(self.slugs))

    def find(self, holder: str) -> Company | None:
        return self.companies.get(holder) or self.company_keys.get(holder_key(holder))

    def add(self, company: Company) -> None:
        self.companies[company.name] = company
        self.company_keys[holder_key(company.name)] = company

    def unique_slug(self, name: str) -> str:
        slug = base = slugify_name(name) or "product"
        number = 2
        while slug in self.slugs:
            slug, number = f"{base}-{number}", number + 1
        self.slugs.add(slug)
        return slug


@dataclass
class ProductUpdate:
    """One existing product being brought in line with its row: what every step reads, and the
    diff each adds to."""

    row: ExportRow
    product: Product
    diff: ProductDiff
    doubts: dict[str, str]  # doubted field -> the curators' note
    events: list[AuthorisationEvent]  # the timeline as saved
    new_events: list[AuthorisationEvent] = field(default_factory=list)  # flag changes

    def propose(self, name: str, new: Any, shown: Any = None) -> bool:
        """Set ``name`` unless the export is silent or agrees, or the field is doubted."""
        old = getattr(self.product, name)
        if new is None or new == "" or new == old:
            return False
        if name in self.doubts:
            self.diff.reviews.append(
                f"{name}: the export says {show(shown or new)}; the catalogue's {show(old)} "
                f"is marked doubtful ({self.doubts[name]!r}) and is left for a curator"
            )
            return False
        setattr(self.product, name, new)
        self.diff.changes.append(FieldChange(name, old, new))
        return True

    def has_event(self, kind: EventKind) -> bool:
        return any(event.kind == kind for event in self.events)


class Importer:
    """Applies the selected rows of one export; used inside one transaction."""

    def __init__(self, export: Export):
        self.export = export
        #: "No later than" for a change only the export shows: the day it was generated.
        self.known_by = export.generated_at.date() if export.generated_at else timezone.localdate()
        self.note = "From the EMA medicines export" + (
            f" generated on {export.generated_at:%d/%m/%Y}." if export.generated_at else "."
        )
        self.reason = f"EMA import of {export.file_name}"
        self.vocabulary = Vocabulary.load()

    def leave_out(self, row: ExportRow, product: Product | None) -> ProductDiff:
        """What the row would do, done and undone (a savepoint): a row that would write
        something is reported as left out; nothing of it stays, in the database or the run."""
        vocabulary = self.vocabulary.copy()
        with transaction.atomic():
            diff = self.update(row, product) if product else self.create(row)
            transaction.set_rollback(True)
        self.vocabulary = vocabulary
        if diff.action in (CREATED, UPDATED):
            diff.action = LEFT_OUT
        return diff

    # Vocabulary -------------------------------------------------------------------------------
    def company(self, row: ExportRow) -> Company:
        if found := self.vocabulary.find(row.holder):
            return found
        slug = base = slugify_name(row.holder) or "holder"
        taken = set(Company.objects.filter(slug__startswith=base).values_list("slug", flat=True))
        number = 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        company = Company(name=row.holder, slug=slug)
        self.validate(company, row)
        company.save()
        self.vocabulary.add(company)
        return company

    # Checks -----------------------------------------------------------------------------------
    @staticmethod
    def validate(obj, row: ExportRow) -> None:
        """``full_clean()``; an error names the row and, where it can, the export's column."""
        try:
            obj.full_clean()
        except ValidationError as exc:
            problems = []
            for name, messages in getattr(
                exc, "message_dict", {NON_FIELD_ERRORS: exc.messages}
            ).items():
                if name == "status_date":
                    column = STATUS_DATE_COLUMNS.get(row.status)
                else:
                    column = FIELD_COLUMNS.get(name)
                where = f"column {column!r}" if column else "" if name == NON_FIELD_ERRORS else name
                problems.append(f"{where + ': ' if where else ''}{' '.join(messages)}")
            raise ExportFormatError(
                f"{row.where} ({row.product_number}): {'; '.join(dict.fromkeys(problems))}"
            ) from exc

    @staticmethod
    def atc_code(row: ExportRow) -> tuple[str | None, str | None]:
        """(code, problem): the row's ATC code if it is one, else why it is not used."""
        if plain(row.atc_code) in NO_ATC:
            return None, None
        if not ATC_CODE.match(row.atc_code):
            return None, f"the export's ATC code {row.atc_code!r} is not a valid ATC code"
        return row.atc_code, None

    @staticmethod
    def atmp_review(row: ExportRow, product: Product) -> str | None:
        """A disagreement with the catalogue's judgement, unless the last import showed it."""
        if row.is_advanced_therapy is None or row.is_advanced_therapy == product.is_atmp:
            return None
        if row.is_advanced_therapy == product.ema_advanced_therapy:
            return None  # known: the catalogue's judgement was made with it in view
        held = "holds it to be" if product.is_atmp else "does not hold it to be"
        reason = f" ({product.atmp_reason})" if product.atmp_reason else ""
        return (
            f"the export's advanced-therapy flag is {show(row.is_advanced_therapy)}; "
            f"the catalogue {held} an ATMP{reason}, which wins"
        )

    # Rows -------------------------------------------------------------------------------------
    def update(self, row: ExportRow, product: Product) -> ProductDiff:
        diff = ProductDiff(product.name, row.product_number, UNCHANGED, product_id=product.pk)
        change = ProductUpdate(
            row,
            product,
            diff,
            doubted_fields(product.unverified_fields),
            list(product.events.all()),
        )
        if review := self.atmp_review(row, product):
            diff.reviews.append(review)
        brand, aliases = split_name(row.name)
        known_names = {plain(name) for name in (product.name, *product.aliases)}
        if not {plain(brand), *map(plain, aliases)} & known_names:
            diff.reviews.append(f"the export names it {row.name!r}")
        change.propose("ema_advanced_therapy", row.is_advanced_therapy)
        self.update_flags(change)
        self.update_holder(change)
        code, problem = self.atc_code(row)
        if problem:
            diff.reviews.append(f"{problem}; {show(product.atc_code)} is kept")
        elif code and not (product.atc_code and product.atc_code.startswith(code)):
            change.propose("atc_code", code)  # a less specific level of the same code is no news
        change.propose("epar_url", row.url)
        change.propose("ema_indication_text", row.indication_text)
        change.propose("ema_last_updated_date", row.dates[LAST_UPDATED_DATE])
        self.update_authorisation_date(change)
        status_events = self.update_status_on_timeline(change)
        if diff.changes:
            self.validate(product, row)
            diff.action = UPDATED
            product._change_reason = self.reason
            product.save()
            for event in [*status_events, *change.new_events]:
                self.validate(event, row)
                event._change_reason = self.reason
                event.save()
        return diff

    def update_holder(self, change: ProductUpdate) -> None:
        row, product = change.row, change.product
        if not row.holder or (
            product.holder and holder_key(product.holder.name) == holder_key(row.holder)
        ):
            return
        if "holder" in change.doubts:  # reported, not applied: no company is created for it
            change.propose("holder", row.holder)
        else:
            change.propose("holder", self.company(row))

    @staticmethod
    def review_areas(change: ProductUpdate) -> None:
        """The export's MeSH areas that no indication carries: proposed, never applied."""
        held = {
            plain(area.name)
            for indication in change.product.indications.all()
            for area in indication.therapeutic_areas.all()
        }
        missing = [area for area in change.row.therapeutic_areas if plain(area) not in held]
        if missing:
            change.diff.reviews.append(
                "proposed therapeutic area(s) from the export's MeSH column, for a curator to "
                f"place on an indication: {'; '.join(missing)}"
            )

    def update_flags(self, change: ProductUpdate) -> None:
        """The register's flags now; a change from the last known value goes on the timeline.

        An application that never got an authorisation has no authorisation flags: the export's
        "no" for them is not applied. The values at first authorisation are never written.
        """
        row, product = change.row, change.product
        held = row.status in HELD_AUTHORISATION or product.status in HELD_AUTHORISATION
        for flag in FLAGS:
            new = row.flags[flag.field]
            if flag.needs_authorisation and not held:
                continue
            before = getattr(product, flag.field)
            if before is None:
                before = getattr(product, flag.at_field)
            if not change.propose(flag.field, new) or before is None or before == new:
                continue
            kind = flag.lost_event if before else flag.gained_event
            if kind and not change.has_event(kind):
                event = AuthorisationEvent(
                    product=product, kind=kind, known_by=self.known_by, note=self.flag_note(flag)
                )
                change.new_events.append(event)
                change.diff.changes.append(FieldChange("event", None, describe_event(event)))

    def flag_note(self, flag: Flag) -> str:
        return (
            f"{flag.label}: the EMA's register changed; first seen in the export of "
            f"{self.known_by:%d/%m/%Y}."
        )

    @staticmethod
    def update_authorisation_date(change: ProductUpdate) -> None:
        """The first authorisation date, unless the timeline dates that authorisation otherwise."""
        new, product = change.row.authorisation_date, change.product
        if new is None or new == product.authorisation_date:
            return
        dated = [
            event.date
            for event in change.events
            if event.kind == EventKind.INITIAL_AUTHORISATION and event.date not in (None, new)
        ]
        if dated:
            change.diff.reviews.append(
                f"authorisation_date: the export says {show(new)}; the timeline's initial "
                f"authorisation is dated {show(dated[0])}; left for a curator"
            )
            return
        partial = product.authorisation_date_partial
        if change.propose("authorisation_date", new) and partial:
            product.authorisation_date_partial = ""
            change.diff.changes.append(FieldChange("authorisation_date_partial", partial, ""))

    def update_status_on_timeline(self, change: ProductUpdate) -> list[AuthorisationEvent]:
        """The status change and its events, undone and flagged if the timeline disagrees."""
        row, product, diff = change.row, change.product, change.diff
        saved = (product.status, product.status_date)
        new_events = self.update_status(change)
        self.review_areas(change)
        if new_events is None:
            return []
        try:
            product.check_timeline(change.events + new_events)
        except ValidationError as exc:
            product.status, product.status_date = saved
            diff.changes = [c for c in diff.changes if c.field not in STATUS_FIELDS]
            date = row.status_date()
            diff.reviews.append(
                f"the export gives status {show(row.status.label)}"
                f"{' of ' + show(date) if date else ''}, which disagrees with the "
                f"timeline: {' '.join(exc.messages)}"
            )
            return []
        return new_events

    def update_status(self, change: ProductUpdate) -> list[AuthorisationEvent] | None:
        """Apply the row's status and its date; the events that record them (None: no change)."""
        row, product, diff = change.row, change.product, change.diff
        new_date = row.status_date()
        if row.status == product.status:
            if new_date and change.propose("status_date", new_date):
                return []
            return None
        if "status" in change.doubts:  # reported, not applied
            change.propose("status", row.status, row.status.label)
            return None
        kind = self.event_kind(row, product)
        if kind is None:
            diff.reviews.append(
                f"the export gives status {show(row.status.label)}, which no timeline event "
                "records; the status is left for a curator"
            )
            return None
        if row.status in ENDED_OR_SUSPENDED and new_date is None:
            diff.reviews.append(
                f"the export gives status {show(row.status.label)} without its date; "
                "the status is left for a curator"
            )
            return None
        old_status, old_date = product.status, product.status_date
        product.status, product.status_date = row.status, new_date
        diff.changes.append(FieldChange("status", Status(old_status).label, row.status.label))
        if old_date != new_date:
            diff.changes.append(FieldChange("status_date", old_date, new_date))
        date = row.authorisation_date if kind == EventKind.INITIAL_AUTHORISATION else new_date
        event = AuthorisationEvent(product=product, kind=kind, date=date, note=self.note)
        diff.changes.append(FieldChange("event", None, describe_event(event)))
        return [event]

    @staticmethod
    def event_kind(row: ExportRow, product: Product | None) -> EventKind | None:
        if row.status == Status.OPINION:
            return OPINION_EVENTS.get(row.opinion_status)
        if row.status == Status.AUTHORISED and product is not None:
            if product.events.filter(kind=EventKind.INITIAL_AUTHORISATION).exists():
                return None  # back to authorised after a suspension: no event says so
        return STATUS_EVENTS.get(row.status)

    def create(self, row: ExportRow) -> ProductDiff:
        name, aliases = split_name(row.name)
        diff = ProductDiff(name, row.product_number, CREATED)
        status_date = row.status_date()
        if row.status in ENDED_OR_SUSPENDED and status_date is None:
            diff.action = NOT_CREATED
            diff.reviews.append(
                f"the export gives status {show(row.status.label)} without its date, which the "
                "catalogue needs; add the product by hand"
            )
            return diff
        code, problem = self.atc_code(row)
        if problem:
            diff.reviews.append(problem)
        product = Product(
            name=name,
            slug=self.vocabulary.unique_slug(name),
            aliases=aliases,
            inn=row.inn,
            ema_product_number=row.product_number,
            status=row.status,
            status_date=status_date,
            authorisation_date=row.authorisation_date,
            atc_code=code or "",
            epar_url=row.url,
            ema_indication_text=row.indication_text,
            ema_last_updated_date=row.dates[LAST_UPDATED_DATE],
            holder=self.company(row) if row.holder else None,
            is_published=False,
            is_atmp=True,
            atmp_reason=ATMP_REASON,
            ema_advanced_therapy=row.is_advanced_therapy,
            sources=[f"{self.note[:-1]} ({self.export.file_name})"],
            **{
                flag.field: row.flags[flag.field]
                for flag in FLAGS
                if row.status in HELD_AUTHORISATION or not flag.needs_authorisation
            },
        )
        events = self.first_events(row, product, status_date)
        self.validate(product, row)
        try:
            product.check_timeline(events)
        except ValidationError as exc:
            raise ExportFormatError(f"{row.where}: {' '.join(exc.messages)}") from exc
        product._change_reason = self.reason
        product.save()
        for event in events:
            event.product = product  # now saved: its id is set
            self.validate(event, row)
            event._change_reason = self.reason
            event.save()
        for name in CREATED_FIELDS:
            value = getattr(product, name)
            if name == "status":
                value = Status(value).label
            if value not in (None, ""):
                diff.changes.append(FieldChange(name, None, value))
        for event in events:
            diff.changes.append(FieldChange("event", None, describe_event(event)))
        diff.notes.append(
            "unpublished until a curator sets its category and mechanism and publishes it"
        )
        if row.therapeutic_areas:
            diff.notes.append(
                "therapeutic areas in the export (not imported): "
                + "; ".join(row.therapeutic_areas)
            )
        return diff

    def first_events(
        self, row: ExportRow, product: Product, status_date
    ) -> list[AuthorisationEvent]:
        """A new product's timeline: its authorisation, then the event of its status."""
        events = []
        if row.authorisation_date:
            events.append((EventKind.INITIAL_AUTHORISATION, row.authorisation_date))
        if row.status != Status.AUTHORISED:
            kind = self.event_kind(row, None)
            if kind:
                events.append((kind, status_date))
        return [
            AuthorisationEvent(product=product, kind=kind, date=date, note=self.note)
            for kind, date in events
        ]
