"""The catalogue's domain: ATMPs, how they work, what they treat and their regulatory life.

Facts may be unknown (null, shown as "not known"); they may never contradict each other. The rules
that must always hold are database constraints; ``clean()`` repeats them as form errors and adds
the rules that span rows (the status agrees with the latest event of the timeline).
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from products.choices import (
    DATED_STATUSES,
    ENDED_OR_SUSPENDED,
    HELD_AUTHORISATION,
    STATUS_AFTER_EVENT,
    CellSource,
    Confidence,
    Delivery,
    EventKind,
    Status,
)
from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION
from products.querysets import PendingImportQuerySet, ProductQuerySet

#: The item of the publication checklist that the indications inline checks.
INDICATION_NEEDED = _("At least one indication")

#: The centralised procedure began in 1995; nothing in the catalogue can be older.
EARLIEST_DATE = datetime.date(1995, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PRODUCT_NUMBER_PATTERN = r"^EMEA/H/C/[0-9]{6}$"
PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"
ATC_PATTERN = r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$"

slug_validator = RegexValidator(SLUG_PATTERN, _("Use lowercase letters, digits and hyphens."))
product_number_validator = RegexValidator(
    PRODUCT_NUMBER_PATTERN, _("An EMA product number looks like EMEA/H/C/004090.")
)
partial_date_validator = RegexValidator(
    PARTIAL_DATE_PATTERN, _("Give a year (2026) or a year and month (2026-04).")
)
atc_validator = RegexValidator(ATC_PATTERN, _("An ATC code looks like L01XL04 (or a level of it)."))


def date_in_range(field: str) -> Q:
    """A condition that the date in ``field`` is either unknown or within the sensible range."""
    return Q(**{f"{field}__isnull": True}) | Q(
        **{f"{field}__gte": EARLIEST_DATE, f"{field}__lte": LATEST_DATE}
    )


def partial_date_sort_key(
    date: datetime.date | None, partial: str, known_by: datetime.date | None = None
) -> tuple[int, int, int]:
    """Order exact and partial dates together; an unknown part sorts last within what is known.

    "2026" sorts after "2026-04-16", because a fact known only to the year is, within that year,
    as likely to be late as early, and timelines put the authorisation after its opinion. A fact
    known only to have happened by a date ("by 27 October 2025") sorts at that date.
    """
    if date is not None:
        return (date.year, date.month, date.day)
    if partial:
        year, _sep, month = partial.partition("-")
        return (int(year), int(month) if month else 13, 32)
    if known_by is not None:
        return (known_by.year, known_by.month, known_by.day)
    return (9999, 13, 32)


class NamedVocabulary(models.Model):
    """A term with a stable slug, listed by name."""

    slug = models.SlugField(
        max_length=120, unique=True, validators=[slug_validator], help_text=_("Stable URL name.")
    )
    name = models.CharField(max_length=200, unique=True, help_text=_("Name as displayed."))

    class Meta:
        abstract = True
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Category(NamedVocabulary):
    """One of the four legal classes of ATMP (Regulation (EC) No 1394/2007)."""

    abbreviation = models.CharField(max_length=10, unique=True, help_text=_("GTMP, sCTMP, …"))
    definition = models.TextField(help_text=_("What the law means by this class, in plain words."))
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order in listings."))

    class Meta:
        ordering = ("position", "name")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=_("Use lowercase letters, digits and hyphens."),
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("products:category_detail", kwargs={"slug": self.slug})


class MechanismOfAction(NamedVocabulary):
    """A reusable description of how a product works (e.g. CD19-directed CAR-T cells)."""

    description = models.TextField(help_text=_("How products of this kind work, in plain words."))

    class Meta(NamedVocabulary.Meta):
        verbose_name = _("mechanism of action")
        verbose_name_plural = _("mechanisms of action")
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=_("Use lowercase letters, digits and hyphens."),
            ),
        ]


class TherapeuticArea(NamedVocabulary):
    """A therapeutic area: the EMA's MeSH heading ("Muscular Atrophy, Spinal") as ``name``, and
    the name people use ("Spinal muscular atrophy (SMA)") as ``plain_name``, shown first."""

    plain_name = models.CharField(
        max_length=200,
        blank=True,
        help_text=_(
            "The name patients and doctors use (“Spinal muscular atrophy (SMA)”, “Haemophilia "
            "B”), British spelling. Empty: the MeSH heading is shown."
        ),
    )

    class Meta(NamedVocabulary.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=_("Use lowercase letters, digits and hyphens."),
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("products:therapeutic_area_detail", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        """The plain name, or the MeSH heading when there is none."""
        return self.plain_name or self.name


class Company(NamedVocabulary):
    """A marketing authorisation holder or applicant."""

    class Meta(NamedVocabulary.Meta):
        verbose_name_plural = _("companies")
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=_("Use lowercase letters, digits and hyphens."),
            ),
        ]


class Product(models.Model):
    """An ATMP as the EMA knows it: one application, one product number, one timeline."""

    name = models.CharField(max_length=200, help_text=_("Current brand name, e.g. Kymriah."))
    slug = models.SlugField(
        max_length=120,
        unique=True,
        validators=[slug_validator],
        help_text=_("Stable URL name: the current brand name, lowercase and hyphenated."),
    )
    aliases = ArrayField(
        models.CharField(max_length=200),
        blank=True,
        default=list,
        help_text=_("Former brand names and code names (e.g. Durveqtix); found by search."),
    )
    inn = models.CharField(
        "INN / common name",
        max_length=400,
        blank=True,
        help_text=_("International non-proprietary name, or the common name where none exists."),
    )
    ema_product_number = models.CharField(  # noqa: DJ001 (unique where known)
        "EMA product number",
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        validators=[product_number_validator],
        help_text=_("EMEA/H/C/NNNNNN; empty where not known."),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        help_text=_("Legal ATMP class; empty where no source states it."),
    )
    mechanisms = models.ManyToManyField(
        MechanismOfAction,
        blank=True,
        related_name="products",
        help_text=_("How the product works."),
    )
    platform = models.CharField(
        max_length=300, blank=True, help_text=_("Vector or cell type, e.g. AAV9, CAR-T.")
    )
    target = models.CharField(
        max_length=300, blank=True, help_text=_("Target antigen or transgene, e.g. CD19 CAR.")
    )
    # null = not known, which differs from the value "none" (no cells): hence null on CharFields.
    cell_source = models.CharField(  # noqa: DJ001
        max_length=20,
        choices=CellSource.choices,
        null=True,
        blank=True,
        help_text=_("Whose cells the product is made of, if any."),
    )
    delivery = models.CharField(  # noqa: DJ001
        max_length=20,
        choices=Delivery.choices,
        null=True,
        blank=True,
        help_text=_("Whether the product acts in the body or on cells outside it."),
    )
    route_of_administration = models.CharField(max_length=300, blank=True)
    atc_code = models.CharField("ATC code", max_length=10, blank=True, validators=[atc_validator])
    epar_url = models.URLField("EPAR URL", blank=True, help_text=_("The EMA's page."))
    description = models.TextField(blank=True, help_text=_("How it works, in plain words."))

    # The EMA register's values now (the last imported export); see products/flags.py.
    is_orphan = models.BooleanField(
        "orphan medicine now",
        null=True,
        blank=True,
        help_text=_("In the EMA's register now; empty where sources conflict or are silent."),
    )
    is_conditional = models.BooleanField(
        "conditional marketing authorisation now",
        null=True,
        blank=True,
        help_text=_("In the EMA's register now; empty if never authorised."),
    )
    is_exceptional_circumstances = models.BooleanField(
        "authorised under exceptional circumstances now", null=True, blank=True
    )
    is_accelerated_assessment = models.BooleanField(
        "accelerated assessment now", null=True, blank=True
    )
    is_prime = models.BooleanField("PRIME (priority medicine) now", null=True, blank=True)
    # The same five flags when the product was first authorised (products/flags.py): the plain
    # fields above are the EMA register's values now.
    is_orphan_at_authorisation = models.BooleanField(
        "orphan medicine at authorisation",
        null=True,
        blank=True,
        help_text=_("When first authorised; empty where not known or never authorised."),
    )
    is_conditional_at_authorisation = models.BooleanField(
        "conditional marketing authorisation at authorisation", null=True, blank=True
    )
    is_exceptional_circumstances_at_authorisation = models.BooleanField(
        "exceptional circumstances at authorisation", null=True, blank=True
    )
    is_accelerated_assessment_at_authorisation = models.BooleanField(
        "accelerated assessment at authorisation", null=True, blank=True
    )
    is_prime_at_authorisation = models.BooleanField("PRIME at authorisation", null=True, blank=True)

    status = models.CharField(
        max_length=40, choices=Status.choices, help_text=_("The EMA's medicine status.")
    )
    status_date = models.DateField(
        null=True, blank=True, help_text=_("When the current status took effect, if known.")
    )
    status_reason = models.TextField(blank=True)
    authorisation_date = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Date of the Commission's first marketing authorisation, if known."),
    )
    authorisation_date_partial = models.CharField(
        max_length=7,
        blank=True,
        validators=[partial_date_validator],
        help_text=_("Where only the year (or month) of authorisation is known: 2026 or 2026-04."),
    )
    holder = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        help_text=_("Current marketing authorisation holder (or applicant)."),
    )

    is_atmp = models.BooleanField(
        "is an ATMP",
        default=True,
        help_text=_("The catalogue's own judgement, which wins over the EMA export's flag."),
    )
    atmp_reason = models.TextField(
        blank=True, help_text=_("Why the product is (or is not) held to be an ATMP.")
    )
    ema_advanced_therapy = models.BooleanField(
        "advanced therapy in the EMA's register",
        null=True,
        blank=True,
        help_text=_(
            "The export's advanced-therapy flag as last imported; the catalogue's own judgement "
            "(“is an ATMP”) wins, and the import reports only a change of this value."
        ),
    )
    ema_indication_text = models.TextField(
        "EMA indication text", blank=True, help_text=_("As published in the EMA's export.")
    )
    ema_last_updated_date = models.DateField(
        "EMA last updated", null=True, blank=True, help_text=_("From the EMA's export.")
    )

    verification = models.CharField(
        max_length=40, blank=True, help_text=_("How fully the core facts were verified.")
    )
    unverified_fields = ArrayField(models.CharField(max_length=300), blank=True, default=list)
    sources = ArrayField(
        models.TextField(),
        blank=True,
        default=list,
        help_text=_("Where the facts were checked (URLs or named documents)."),
    )
    curator_notes = models.TextField(
        blank=True,
        help_text=_("For curators only, never public: doubts and reported changes to review."),
    )
    is_published = models.BooleanField(
        "published", default=False, help_text=_("Only published products are public.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Kept by the database (triggers of migrations 0004 and 0006) from this row and its related
    # rows (holder, category, mechanisms, indications, therapeutic areas); never set in Python.
    search_vector = SearchVectorField(
        null=True,
        blank=True,
        editable=False,
        help_text=_("Weighted full-text vector of every searched fact (name first), unaccented."),
    )

    # Kept by the same trigger (migration 0008) from the indications' areas: the area facet counts
    # products per area from the product rows alone (no join through indications, no DISTINCT).
    therapeutic_area_ids = ArrayField(
        models.BigIntegerField(),
        blank=True,
        default=list,
        editable=False,
        help_text=_("Ids of the therapeutic areas of the product's indications, each once."),
    )

    history = HistoricalRecords(excluded_fields=["search_vector", "therapeutic_area_ids"])
    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ("name", "slug")
        indexes = [
            GinIndex(fields=["search_vector"], name="products_product_search_vector"),
            # "Recently updated" and the newest change: no scan of the whole table (make bench).
            models.Index(fields=["-updated_at"], name="products_product_updated_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=_("Use lowercase letters, digits and hyphens."),
            ),
            models.CheckConstraint(
                condition=Q(ema_product_number__isnull=True)
                | Q(ema_product_number__regex=PRODUCT_NUMBER_PATTERN),
                name="%(app_label)s_%(class)s_product_number_format",
                violation_error_message=_("An EMA product number looks like EMEA/H/C/004090."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="%(app_label)s_%(class)s_status_valid",
                violation_error_message=_("Unknown status."),
            ),
            models.CheckConstraint(
                condition=Q(cell_source__isnull=True) | Q(cell_source__in=CellSource.values),
                name="%(app_label)s_%(class)s_cell_source_valid",
                violation_error_message=_("Unknown cell source."),
            ),
            models.CheckConstraint(
                condition=Q(delivery__isnull=True) | Q(delivery__in=Delivery.values),
                name="%(app_label)s_%(class)s_delivery_valid",
                violation_error_message=_("Unknown delivery."),
            ),
            models.CheckConstraint(
                condition=date_in_range("authorisation_date"),
                name="%(app_label)s_%(class)s_authorisation_date_range",
                violation_error_message=_("The authorisation date is outside 1995–2099."),
            ),
            models.CheckConstraint(
                condition=date_in_range("status_date"),
                name="%(app_label)s_%(class)s_status_date_range",
                violation_error_message=_("The status date is outside 1995–2099."),
            ),
            models.CheckConstraint(
                condition=Q(status_date__isnull=True)
                | Q(authorisation_date__isnull=True)
                | Q(status_date__gte=F("authorisation_date")),
                name="%(app_label)s_%(class)s_status_after_authorisation",
                violation_error_message=_(
                    "The status date cannot be before the first authorisation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(authorisation_date_partial="")
                | Q(authorisation_date_partial__regex=PARTIAL_DATE_PATTERN),
                name="%(app_label)s_%(class)s_partial_date_format",
                violation_error_message=_("Give a year (2026) or a year and month (2026-04)."),
            ),
            models.CheckConstraint(
                condition=Q(authorisation_date__isnull=True) | Q(authorisation_date_partial=""),
                name="%(app_label)s_%(class)s_one_authorisation_date",
                violation_error_message=_("Give the exact or the partial date, not both."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=HELD_AUTHORISATION)
                | Q(**{f"{name}__isnull": True for name in NOT_APPLICABLE_WITHOUT_AUTHORISATION}),
                name="%(app_label)s_%(class)s_no_authorisation_flags_without_authorisation",
                violation_error_message=_(
                    "An application that never got a marketing authorisation has no "
                    "conditional, exceptional-circumstances or accelerated-assessment flag, and "
                    "no flag at authorisation: leave them empty."
                ),
            ),
            models.CheckConstraint(
                condition=Q(atc_code="") | Q(atc_code__regex=ATC_PATTERN),
                name="%(app_label)s_%(class)s_atc_format",
                violation_error_message=_("An ATC code looks like L01XL04 (or a level of it)."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:product_detail", kwargs={"slug": self.slug})

    @property
    def has_held_authorisation(self) -> bool:
        return self.status in HELD_AUTHORISATION

    @property
    def authorisation_year(self) -> int | None:
        if self.authorisation_date:
            return self.authorisation_date.year
        if self.authorisation_date_partial:
            return int(self.authorisation_date_partial[:4])
        return None

    @property
    def timeline(self) -> list[AuthorisationEvent]:
        """The events in time order (uses prefetched events when present)."""
        return sorted(self.events.all(), key=AuthorisationEvent.sort_key)

    def publication_checklist(self, indications: list | None = None) -> list[tuple[str, bool]]:
        """What a public entry must have, each (what, whether this product has it).

        A draft may lack any of them; publishing needs them all (``check_publishable``). The
        category is not among them: where no source states it (Zemcelpro), "not known" is the
        public fact (SPEC.md). A held authorisation needs its first date, exact or partial
        (Itvisma: 2026), or that date listed among the unverified facts (Adstiladrin: no source
        gives it). ``indications`` defaults to the saved ones; the admin passes the edited ones.
        """
        if indications is None:
            indications = list(self.indications.all()) if self.pk else []
        return [*self._fact_checklist(), (INDICATION_NEEDED, bool(indications))]

    def _fact_checklist(self) -> list[tuple[str, bool]]:
        """The checklist's items that are facts of the product row itself."""
        checklist = [(_("A status"), bool(self.status))]
        if self.status in DATED_STATUSES:
            checklist.append((_("The date of the status"), self.status_date is not None))
        if self.has_held_authorisation:
            dated = bool(self.authorisation_date or self.authorisation_date_partial)
            declared = "authorisation_date" in self.unverified_fields
            checklist.append(
                (_("The first authorisation date (or it marked as unverified)"), dated or declared)
            )
        checklist.append((_("At least one source"), any(s.strip() for s in self.sources)))
        return checklist

    def check_publishable(self) -> None:
        """Raise ``ValidationError`` on ``is_published`` if a published entry lacks a fact of its
        own row (``clean()``); the indications inline checks that there is an indication."""
        if not self.is_published:
            return
        missing = [str(item) for item, done in self._fact_checklist() if not done]
        if missing:
            raise ValidationError(
                {
                    "is_published": _(
                        "A published entry needs: %(missing)s. Untick Published to keep it as a "
                        "draft."
                    )
                    % {"missing": "; ".join(missing).lower()}
                }
            )

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            self.check_publishable()
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if self.status in ENDED_OR_SUSPENDED and self.status_date is None:
            errors.setdefault("status_date", []).append(
                _("A %(status)s product needs the date its status took effect.")
                % {"status": self.get_status_display().lower()}
            )
        if (
            self.status_date
            and self.authorisation_date
            and self.status_date < self.authorisation_date
        ):
            errors.setdefault("status_date", []).append(
                _("The status date cannot be before the first authorisation.")
            )
        if self.authorisation_date and self.authorisation_date_partial:
            errors.setdefault("authorisation_date_partial", []).append(
                _("Give the exact or the partial date, not both.")
            )
        if not self.has_held_authorisation:
            for name in NOT_APPLICABLE_WITHOUT_AUTHORISATION:
                if getattr(self, name) is not None:
                    errors.setdefault(name, []).append(
                        _("Not applicable: this application never got a marketing authorisation.")
                    )
        if errors:
            raise ValidationError(errors)

    def check_orphan_facts(self, indications: list[Indication] | None = None) -> None:
        """Raise ``ValidationError`` if the product's and its indications' orphan facts disagree.

        An indication designated as orphan when authorised makes the product an orphan medicine
        at authorisation; a product that was one has at least one such indication (where its
        indications' designations are known). ``indications`` defaults to the saved ones.
        """
        if indications is None:
            indications = list(self.indications.all())
        flags = {indication.is_orphan for indication in indications}
        at = self.is_orphan_at_authorisation
        if at is False and True in flags:
            raise ValidationError(
                {
                    "is_orphan_at_authorisation": _(
                        "An indication had an orphan designation when authorised, so the product "
                        "was an orphan medicine at authorisation: tick it, or correct the "
                        "indication."
                    )
                }
            )
        if at is True and indications and flags == {False}:
            raise ValidationError(
                {
                    "is_orphan_at_authorisation": _(
                        "The product was an orphan medicine at authorisation, but none of its "
                        "indications had an orphan designation: correct one of them."
                    )
                }
            )

    def check_timeline(self, events: list[AuthorisationEvent] | None = None) -> None:
        """Raise ``ValidationError`` unless the status agrees with the latest status event.

        ``events`` defaults to the saved timeline; forms pass the edited one.
        """
        events = (
            self.timeline if events is None else sorted(events, key=AuthorisationEvent.sort_key)
        )
        changes = [event for event in events if event.kind in STATUS_AFTER_EVENT]
        if not changes:
            return
        latest = changes[-1]
        expected = STATUS_AFTER_EVENT[latest.kind]
        if expected != self.status:
            raise ValidationError(
                {
                    "status": _(
                        "The status is “%(status)s” but the latest event of the timeline is "
                        "“%(event)s”, which leaves it “%(expected)s”."
                    )
                    % {
                        "status": self.get_status_display(),
                        "event": latest.get_kind_display(),
                        "expected": Status(expected).label,
                    }
                }
            )
        if (
            self.status != Status.AUTHORISED
            and self.status_date
            and latest.date
            and latest.date != self.status_date
        ):
            raise ValidationError(
                {
                    "status_date": _(
                        "The status date %(date)s differs from the date of the latest event "
                        "(%(event_date)s)."
                    )
                    % {"date": self.status_date, "event_date": latest.date}
                }
            )


class SearchWord(models.Model):
    """A word of the products' search vectors, for finding misspelt words (pg_trgm's lexicon).

    A search expands a misspelt word into the lexicon's words like it and finds those in the
    vectors' full-text index (``ProductQuerySet.search``): the trigram index of a few hundred
    thousand short words answers in a millisecond, where one over whole documents rechecked
    thousands. Kept by a trigger of migration 0006: the words of a product's vector are added
    whenever it changes and never removed (a stale word only adds a word no document has to a
    search). Words with a digit are left out: codes and numbers are never matched fuzzily.
    """

    word = models.TextField(
        primary_key=True, help_text=_("Unaccented lowercase lexeme of a search vector.")
    )

    class Meta:
        ordering = ("word",)
        indexes = [
            # New words are few and go straight into the index: no pending list for searches
            # to read through until the next vacuum.
            GinIndex(
                fields=["word"],
                opclasses=["gin_trgm_ops"],
                fastupdate=False,
                name="products_searchword_trgm",
            ),
            # The nearest words of a misspelt one, in order of trigram distance (``<->``).
            GistIndex(
                fields=["word"], opclasses=["gist_trgm_ops"], name="products_searchword_gist"
            ),
        ]

    def __str__(self) -> str:
        return self.word


class Indication(models.Model):
    """What a product is authorised (or was proposed) for, in plain words."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="indications")
    condition = models.TextField(help_text=_("The disease or condition, in plain words."))
    therapeutic_areas = models.ManyToManyField(
        TherapeuticArea,
        blank=True,
        related_name="indications",
        help_text=_("The EMA's MeSH term(s) for the condition."),
    )
    population = models.TextField(
        blank=True, help_text=_("Who may receive it: age, line of therapy, other conditions.")
    )
    is_orphan = models.BooleanField(
        "orphan designation when authorised",
        null=True,
        blank=True,
        help_text=_(
            "Whether the indication held an orphan designation when it was authorised (or "
            "applied for); empty where not known. Whether it still does follows the product's "
            "orphan status now."
        ),
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ("product", "position", "pk")

    def __str__(self) -> str:
        return self.condition


class AuthorisationEvent(models.Model):
    """One step of a product's regulatory life: an opinion, an authorisation, a withdrawal…"""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    date = models.DateField(null=True, blank=True, help_text=_("Exact date, if known."))
    date_partial = models.CharField(
        max_length=7,
        blank=True,
        validators=[partial_date_validator],
        help_text=_("Where only the year (or month) is known: 2011 or 2012-04."),
    )
    known_by = models.DateField(
        "no later than",
        null=True,
        blank=True,
        help_text=_(
            "Where the date is not known: the date by which it had happened (e.g. the date of "
            "the EMA export that first shows it). Shown as “by 27 October 2025”, never as a day."
        ),
    )
    note = models.TextField(blank=True, help_text=_("A short explanation."))
    sources = ArrayField(
        models.TextField(),
        blank=True,
        default=list,
        help_text=_("Where the event was found (URLs or named documents), EMA first."),
    )
    confidence = models.CharField(
        max_length=20,
        choices=Confidence.choices,
        blank=True,
        help_text=_("How firmly the event is sourced; empty for the catalogue's own record."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("product", "date", "date_partial", "known_by", "pk")
        indexes = [
            # The newest events first (the home page's latest changes), exact dates and partial
            # dates each in the order of ``partial_date_sort_key``: see ``latest_events()``.
            models.Index(
                F("date").desc(),
                F("id").desc(),
                name="products_event_newest",
                condition=Q(date__isnull=False),
            ),
            models.Index(
                Substr("date_partial", 1, 4).desc(),
                Length("date_partial").asc(),
                F("date_partial").desc(),
                F("id").desc(),
                name="products_event_newest_partial",
                condition=Q(date__isnull=True) & ~Q(date_partial=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values),
                name="%(app_label)s_%(class)s_kind_valid",
                violation_error_message=_("Unknown event kind."),
            ),
            models.CheckConstraint(
                condition=date_in_range("date"),
                name="%(app_label)s_%(class)s_date_range",
                violation_error_message=_("The date is outside 1995–2099."),
            ),
            models.CheckConstraint(
                condition=Q(date_partial="") | Q(date_partial__regex=PARTIAL_DATE_PATTERN),
                name="%(app_label)s_%(class)s_partial_date_format",
                violation_error_message=_("Give a year (2026) or a year and month (2026-04)."),
            ),
            models.CheckConstraint(
                condition=Q(date__isnull=True) | Q(date_partial=""),
                name="%(app_label)s_%(class)s_one_date",
                violation_error_message=_("Give the exact or the partial date, not both."),
            ),
            models.CheckConstraint(
                condition=Q(known_by__isnull=True) | (Q(date__isnull=True) & Q(date_partial="")),
                name="%(app_label)s_%(class)s_known_by_without_date",
                violation_error_message=_(
                    "“No later than” is for events whose date is not known: clear it, or clear "
                    "the date."
                ),
            ),
            models.CheckConstraint(
                condition=date_in_range("known_by"),
                name="%(app_label)s_%(class)s_known_by_range",
                violation_error_message=_("The date is outside 1995–2099."),
            ),
            models.CheckConstraint(
                condition=Q(confidence="") | Q(confidence__in=Confidence.values),
                name="%(app_label)s_%(class)s_confidence_valid",
                violation_error_message=_("Unknown confidence."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.date_display})"

    @property
    def date_display(self) -> str:
        if self.date:
            return self.date.isoformat()
        if self.date_partial:
            return self.date_partial
        if self.known_by:
            return f"by {self.known_by.isoformat()}"
        return "date not known"

    def sort_key(self) -> tuple[int, int, int]:
        return partial_date_sort_key(self.date, self.date_partial, self.known_by)

    def clean(self) -> None:
        if self.known_by and (self.date or self.date_partial):
            raise ValidationError(
                {"known_by": _("“No later than” is for events whose date is not known.")}
            )


class CatalogueVersion(models.Model):
    """One row that changes whenever anything public may have changed: the key of every cache.

    Statement triggers on the catalogue's tables (migration 0007) bump ``version`` and set
    ``changed_at`` *before* each write, in the writer's transaction: readers see the new version
    exactly when they see the new data, so a cached page or API response keyed by it is never
    stale and nothing needs invalidating. Taking this row's lock first also orders concurrent
    writers, so they cannot deadlock on the rows they then touch. See ``products/caching.py``.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="%(app_label)s_%(class)s_one_row")
        ]

    def __str__(self) -> str:
        return f"version {self.version} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class ImportRun(models.Model):
    """One run of ``import_ema``: which file, what it changed, who ran it."""

    file_name = models.CharField(max_length=300)
    generated_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the EMA generated the export.")
    )
    started_at = models.DateTimeField(auto_now_add=True)
    run_by = models.CharField(max_length=150, blank=True, help_text=_("User or system account."))
    dry_run = models.BooleanField(default=False)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField("flagged for review", default=0)
    diff = models.TextField(blank=True, help_text=_("What the run changed, field by field."))

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


def slugify_name(name: str) -> str:
    """The catalogue's slug for a name: lowercase ASCII words joined by hyphens."""
    from django.utils.text import slugify

    return re.sub(r"-+", "-", slugify(name)).strip("-")


class PendingImport(models.Model):
    """An export uploaded in the admin, kept between its preview and its confirmation.

    In the database, so that whichever web instance answers the confirmation can read it. Only
    the uploader may confirm or cancel it; it is removed then, on a failed import, and a day
    after upload at the latest (``PendingImport.objects.expired()``, removed on each use of the
    import form and by ``manage.py clear_pending_imports``).
    """

    token = models.CharField(
        max_length=64, unique=True, help_text=_("Random; the preview's form carries it.")
    )
    file_name = models.CharField(max_length=300, help_text=_("The uploaded file's name."))
    data = models.BinaryField(help_text=_("The uploaded file, as it came."))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The only user who may confirm or cancel it."),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text=_("Removed a day later if not confirmed.")
    )

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class SearchSynonym(models.Model):
    """A word or phrase people search with, and what it stands for in the catalogue's words.

    Lay terms, other spellings and abbreviations (``sma``, ``butterfly skin``, ``axi-cel``,
    ``hemophilia``) are data, edited in the admin: a search that contains ``term`` (as whole
    words, hyphens and spaces alike: ``car t`` is also ``CAR-T``) looks for any of the
    ``expansion``'s alternatives instead. An empty expansion marks a word that carries nothing
    (``children``, ``treatment``): it is left out of a search that has other words.
    """

    term = models.CharField(
        max_length=100,
        unique=True,
        help_text=_(
            "Lowercase words as people type them, separated by spaces (hyphens count as spaces): "
            "“sma”, “car t”, “butterfly skin”."
        ),
    )
    expansion = models.TextField(
        blank=True,
        help_text=_(
            "What to look for instead: alternatives separated by commas, each found when all its "
            "words are (“spinal muscular atrophy, sma”). Empty: a word that carries nothing, "
            "left out of a search that has other words."
        ),
    )

    class Meta:
        ordering = ("term",)
        verbose_name = _("search synonym")
        constraints = [
            models.CheckConstraint(
                condition=Q(term__regex=r"^[a-z0-9]+( [a-z0-9]+)*$"),
                name="%(app_label)s_%(class)s_term_format",
                violation_error_message=_(
                    "Use lowercase letters and digits, words separated by single spaces."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion or _('(ignored)')}"

    @property
    def alternatives(self) -> list[list[str]]:
        """The expansion's alternatives, each as its search terms."""
        from products.querysets import search_terms

        found = [search_terms(part, keep_stop_words=True) for part in self.expansion.split(",")]
        return [terms for terms in found if terms]
