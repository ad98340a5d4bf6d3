"""What a product is for and what happened to it: its indications and its timeline of events."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from products.choices import Confidence, EventKind
from products.models.checks import ChecksInOneQuery
from products.models.fields import nullable_boolean, source_list, vocabulary_terms
from products.models.vocabularies import TherapeuticArea
from products.partial_dates import (
    date_range_constraint,
    partial_date_constraints,
    partial_date_field,
    partial_date_order,
    partial_date_sort_key,
)


def event_order() -> models.Case:
    """An event's place in time (``partial_date_order`` of its date, month or year, or "no
    later than" date); null for an event of unknown date."""
    return partial_date_order("date", "date_partial", "known_by")


#: The order of a timeline (``AuthorisationEvent.Meta.ordering`` after the product, the admin):
#: events in time, then as entered; events of unknown date last.
TIMELINE_ORDER = (event_order().asc(nulls_last=True), "pk")


class Indication(ChecksInOneQuery, models.Model):
    """What a product is authorised (or was proposed) for, in plain words."""

    product = models.ForeignKey("Product", on_delete=models.CASCADE, related_name="indications")
    condition = models.TextField(help_text=_("The disease or condition, in plain words."))
    population = models.TextField(
        blank=True, help_text=_("Who may receive it: age, line of therapy, other conditions.")
    )
    therapeutic_areas = vocabulary_terms(
        TherapeuticArea, _("The EMA's MeSH term(s) for the condition."), related_name="indications"
    )
    is_orphan = nullable_boolean(
        "orphan designation when authorised",
        _(
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


class AuthorisationEvent(ChecksInOneQuery, models.Model):
    """One step of a product's regulatory life: an opinion, an authorisation, a withdrawal…"""

    #: The event's facts, in the order the form, the API and the loader list them.
    FACT_FIELDS = ("kind", "date", "date_partial", "known_by", "note", "sources", "confidence")

    product = models.ForeignKey("Product", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    date = models.DateField(null=True, blank=True, help_text=_("Exact date, if known."))
    date_partial = partial_date_field(
        _("Where only the year (or month) is known: 2011 or 2012-04.")
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
    sources = source_list(_("Where the event was found (URLs or named documents), EMA first."))
    confidence = models.CharField(
        max_length=20,
        choices=Confidence.choices,
        blank=True,
        help_text=_("How firmly the event is sourced; empty for the catalogue's own record."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("product", *TIMELINE_ORDER)
        indexes = [
            # The timeline's order, for the newest events first (the home page's latest changes,
            # read backwards: ``latest_events()``).
            models.Index(event_order(), F("id"), name="products_event_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values),
                name="%(app_label)s_%(class)s_kind_valid",
                violation_error_message=_("Unknown event kind."),
            ),
            date_range_constraint("date"),
            *partial_date_constraints("date", "date_partial", one_date_rule="one_date"),
            models.CheckConstraint(
                condition=Q(known_by__isnull=True) | (Q(date__isnull=True) & Q(date_partial="")),
                name="%(app_label)s_%(class)s_known_by_without_date",
                violation_error_message=_(
                    "“No later than” is for events whose date is not known: clear it, or clear "
                    "the date."
                ),
            ),
            date_range_constraint("known_by"),
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

    def sort_key(self) -> tuple[bool, int]:
        """The timeline's order for events in memory (``TIMELINE_ORDER`` in Python)."""
        return partial_date_sort_key(self.date, self.date_partial, self.known_by)

    def clean(self) -> None:
        if self.known_by and (self.date or self.date_partial):
            raise ValidationError(
                {"known_by": _("“No later than” is for events whose date is not known.")}
            )
