"""The product: an ATMP as the EMA knows it, with its facts and the rules between them.

Facts may be unknown (null, shown as "not known"); they may never contradict each other. The rules
that must always hold are database constraints; ``clean()`` repeats them as form errors and adds
the rules that span rows (the status agrees with the latest event of the timeline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from products.choices import (
    DATED_STATUSES,
    ENDED_OR_SUSPENDED,
    HELD_AUTHORISATION,
    STATUS_AFTER_EVENT,
    CellSource,
    Delivery,
    Status,
)
from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION
from products.models.fields import (
    nullable_boolean,
    nullable_choice,
    source_list,
    vocabulary_term,
    vocabulary_terms,
)
from products.models.timeline import AuthorisationEvent
from products.models.vocabularies import (
    Category,
    Company,
    MechanismOfAction,
    Slugged,
    slug_validator,
)
from products.partial_dates import (
    date_range_constraint,
    partial_date_constraints,
    partial_date_field,
)
from products.querysets import ProductQuerySet

if TYPE_CHECKING:
    from products.models.timeline import Indication

#: The item of the publication checklist that the indications inline checks.
INDICATION_NEEDED = _("At least one indication")

PRODUCT_NUMBER_PATTERN = r"^EMEA/H/C/[0-9]{6}$"
ATC_PATTERN = r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$"

product_number_validator = RegexValidator(
    PRODUCT_NUMBER_PATTERN, _("An EMA product number looks like EMEA/H/C/004090.")
)
atc_validator = RegexValidator(ATC_PATTERN, _("An ATC code looks like L01XL04 (or a level of it)."))


class Product(Slugged):
    """An ATMP as the EMA knows it: one application, one product number, one timeline."""

    #: Groups of fields that the form, the admin, the API and the loader list in this order.
    MODALITY_FIELDS = ("platform", "target", "cell_source", "delivery", "route_of_administration")
    STATUS_FIELDS = (
        "status",
        "status_date",
        "status_reason",
        "authorisation_date",
        "authorisation_date_partial",
    )
    CURATION_FIELDS = (
        "sources",
        "verification",
        "unverified_fields",
        "ema_indication_text",
        "ema_last_updated_date",
        "curator_notes",
    )

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
    category = vocabulary_term(Category, _("Legal ATMP class; empty where no source states it."))
    mechanisms = vocabulary_terms(MechanismOfAction, _("How the product works."))
    platform = models.CharField(
        max_length=300, blank=True, help_text=_("Vector or cell type, e.g. AAV9, CAR-T.")
    )
    target = models.CharField(
        max_length=300, blank=True, help_text=_("Target antigen or transgene, e.g. CD19 CAR.")
    )
    cell_source = nullable_choice(CellSource, _("Whose cells the product is made of, if any."))
    delivery = nullable_choice(
        Delivery, _("Whether the product acts in the body or on cells outside it.")
    )
    route_of_administration = models.CharField(max_length=300, blank=True)
    atc_code = models.CharField("ATC code", max_length=10, blank=True, validators=[atc_validator])
    epar_url = models.URLField("EPAR URL", blank=True, help_text=_("The EMA's page."))
    description = models.TextField(blank=True, help_text=_("How it works, in plain words."))

    # The EMA register's values now (the last imported export); see products/flags.py.
    is_orphan = nullable_boolean(
        "orphan medicine now",
        _("In the EMA's register now; empty where sources conflict or are silent."),
    )
    is_conditional = nullable_boolean(
        "conditional marketing authorisation now",
        _("In the EMA's register now; empty if never authorised."),
    )
    is_exceptional_circumstances = nullable_boolean(
        "authorised under exceptional circumstances now"
    )
    is_accelerated_assessment = nullable_boolean("accelerated assessment now")
    is_prime = nullable_boolean("PRIME (priority medicine) now")
    # The same five flags when the product was first authorised (products/flags.py): the plain
    # fields above are the EMA register's values now.
    is_orphan_at_authorisation = nullable_boolean(
        "orphan medicine at authorisation",
        _("When first authorised; empty where not known or never authorised."),
    )
    is_conditional_at_authorisation = nullable_boolean(
        "conditional marketing authorisation at authorisation"
    )
    is_exceptional_circumstances_at_authorisation = nullable_boolean(
        "exceptional circumstances at authorisation"
    )
    is_accelerated_assessment_at_authorisation = nullable_boolean(
        "accelerated assessment at authorisation"
    )
    is_prime_at_authorisation = nullable_boolean("PRIME at authorisation")

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
    authorisation_date_partial = partial_date_field(
        _("Where only the year (or month) of authorisation is known: 2026 or 2026-04.")
    )
    holder = vocabulary_term(Company, _("Current marketing authorisation holder (or applicant)."))

    is_atmp = models.BooleanField(
        "is an ATMP",
        default=True,
        help_text=_("The catalogue's own judgement, which wins over the EMA export's flag."),
    )
    atmp_reason = models.TextField(
        blank=True, help_text=_("Why the product is (or is not) held to be an ATMP.")
    )
    ema_advanced_therapy = nullable_boolean(
        "advanced therapy in the EMA's register",
        _(
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
    sources = source_list(_("Where the facts were checked (URLs or named documents)."))
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

    class Meta(Slugged.Meta):
        ordering = ("name", "slug")
        indexes = [
            GinIndex(fields=["search_vector"], name="products_product_search_vector"),
            # "Recently updated" and the newest change: no scan of the whole table (make bench).
            models.Index(fields=["-updated_at"], name="products_product_updated_at"),
        ]
        constraints = [
            *Slugged.Meta.constraints,
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
            date_range_constraint(
                "authorisation_date", _("The authorisation date is outside 1995–2099.")
            ),
            date_range_constraint("status_date", _("The status date is outside 1995–2099.")),
            models.CheckConstraint(
                condition=Q(status_date__isnull=True)
                | Q(authorisation_date__isnull=True)
                | Q(status_date__gte=F("authorisation_date")),
                name="%(app_label)s_%(class)s_status_after_authorisation",
                violation_error_message=_(
                    "The status date cannot be before the first authorisation."
                ),
            ),
            *partial_date_constraints(
                "authorisation_date",
                "authorisation_date_partial",
                one_date_rule="one_authorisation_date",
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
        """The events in time order (``products/partial_dates.py``; uses prefetched events when
        present)."""
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
