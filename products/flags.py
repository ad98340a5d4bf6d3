"""The five authorisation flags, at first authorisation and in the EMA's register now.

Each flag is stored twice on a product: ``is_<flag>`` is the EMA register's value now (what the
EMA's latest imported export says), ``is_<flag>_at_authorisation`` the value when the product was
first authorised. Both are true, each for its time; a change between them is an event of the
timeline (a conversion, an orphan designation removed, PRIME granted). Conditional approval,
exceptional circumstances and accelerated assessment describe a marketing authorisation and how
it was granted: for an application that never got one they are null ("not applicable"), never
"no". An orphan designation and PRIME support belong to the medicine, so they apply to any
application.

This module is the one place that names the flags: filters, facets, the API, the CSV export,
the importers and the product page read them from here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.dateformat import format as format_date
from django.utils.dates import MONTHS

from products.choices import HELD_AUTHORISATION, EventKind


@dataclass(frozen=True)
class Flag:
    param: str  # the name in the API, the CSV and the query string: "orphan"
    label: str
    explanation: str
    #: Whether the flag describes a marketing authorisation (not applicable to refusals).
    needs_authorisation: bool
    #: The event that records the flag turning off (or on) after authorisation.
    lost_event: str | None = None
    gained_event: str | None = None
    #: One plain sentence for each combination; ``{change}`` is the event's date phrase.
    yes_both: str = ""
    no_both: str = ""
    lost: str = ""
    gained: str = ""

    @property
    def field(self) -> str:
        """The model field of the register's value now: ``is_orphan``."""
        return f"is_{self.param}"

    @property
    def at_field(self) -> str:
        """The model field of the value at first authorisation: ``is_orphan_at_authorisation``."""
        return f"is_{self.param}_at_authorisation"

    @property
    def at_param(self) -> str:
        return f"{self.param}_at_authorisation"


FLAGS = (
    Flag(
        "orphan",
        "Orphan medicine",
        "Orphan medicines treat rare diseases: life-threatening or chronically debilitating "
        "conditions that affect no more than 5 in 10,000 people in the EU. They get ten years "
        "of market exclusivity.",
        needs_authorisation=False,
        lost_event=EventKind.ORPHAN_DESIGNATION_REMOVED,
        gained_event=EventKind.ORPHAN_DESIGNATION,
        yes_both="An orphan medicine when first authorised, and still one in the EMA's register.",
        no_both="Not an orphan medicine, at authorisation or now.",
        lost="An orphan medicine when first authorised; its orphan designation is no longer in "
        "the EMA's register (removed {change}).",
        gained="Not an orphan medicine when first authorised; one in the EMA's register now "
        "(designated {change}).",
    ),
    Flag(
        "conditional",
        "Conditional marketing authorisation",
        "Granted on less complete data than usual, when the benefit of having the medicine "
        "available at once outweighs the risk. The company must provide the missing data; the "
        "authorisation is renewed every year until it becomes a standard one.",
        needs_authorisation=True,
        lost_event=EventKind.CONVERSION,
        yes_both="Authorised conditionally, and still a conditional authorisation in the EMA's "
        "register.",
        no_both="A standard (not conditional) marketing authorisation, at authorisation and now.",
        lost="Authorised conditionally; converted to a standard marketing authorisation {change}.",
        gained="A standard authorisation when first authorised, yet conditional in the EMA's "
        "register now.",
    ),
    Flag(
        "exceptional_circumstances",
        "Authorised under exceptional circumstances",
        "Granted when complete data can never be obtained, for example because the disease is "
        "very rare. The EMA reviews new information every year.",
        needs_authorisation=True,
        yes_both="Authorised under exceptional circumstances, and still so in the EMA's register.",
        no_both="Not authorised under exceptional circumstances.",
        lost="Authorised under exceptional circumstances; no longer so in the EMA's register.",
        gained="Not under exceptional circumstances when first authorised; so in the EMA's "
        "register now.",
    ),
    Flag(
        "accelerated_assessment",
        "Accelerated assessment",
        "An assessment in 150 days instead of the usual 210, for medicines of major interest "
        "for public health.",
        needs_authorisation=True,
        yes_both="Assessed under the accelerated procedure.",
        no_both="Assessed in the standard time, not under the accelerated procedure.",
        lost="Accelerated assessment applied when first authorised; the EMA's register now says "
        "no.",
        gained="No accelerated assessment recorded when first authorised; the EMA's register "
        "now says yes.",
    ),
    Flag(
        "prime",
        "PRIME (priority medicine)",
        "The EMA's scheme that supports the development of medicines which may offer a major "
        "advantage where there is no satisfactory treatment.",
        needs_authorisation=False,
        gained_event=EventKind.PRIME_GRANTED,
        yes_both="Supported by PRIME, the EMA's priority-medicines scheme.",
        no_both="Not supported by PRIME.",
        lost="Supported by PRIME when first authorised; the EMA's register now says no.",
        gained="Not recorded under PRIME when first authorised; the EMA's register now says yes "
        "(granted {change}).",
    ),
)
FLAGS_BY_PARAM = {flag.param: flag for flag in FLAGS}
#: Model fields of the register's values now, and of the values at first authorisation.
NOW_FIELDS = tuple(flag.field for flag in FLAGS)
AT_AUTHORISATION_FIELDS = tuple(flag.at_field for flag in FLAGS)
#: Fields that must be empty for an application that never got a marketing authorisation.
NOT_APPLICABLE_WITHOUT_AUTHORISATION = (
    *(flag.field for flag in FLAGS if flag.needs_authorisation),
    *AT_AUTHORISATION_FIELDS,
)


def has_held_authorisation(status: str) -> bool:
    return status in HELD_AUTHORISATION


def date_phrase(
    date: datetime.date | None, partial: str = "", known_by: datetime.date | None = None
) -> str:
    """``on 22 February 2024``, ``in February 2022``, ``in 2017``, ``by 27 October 2025``, or ""."""
    if date:
        return f"on {format_date(date, 'j F Y')}"
    if partial:
        year, _sep, month = partial.partition("-")
        return f"in {MONTHS[int(month)]} {year}" if month else f"in {year}"
    if known_by:
        return f"by {format_date(known_by, 'j F Y')}"
    return ""


def _change_phrase(events, kind: str | None) -> str:
    """The date phrase of the latest event of ``kind``, or "(date not known)"."""
    dated = [event for event in events if kind and event.kind == kind]
    if dated:
        event = dated[-1]
        phrase = date_phrase(event.date, event.date_partial, event.known_by)
        if phrase:
            return phrase
    return "on a date not known"


def flag_sentence(product, flag: Flag, timeline: list) -> str:
    """One plain sentence that says the flag at authorisation and now (``timeline`` in order)."""
    if flag.needs_authorisation and not has_held_authorisation(product.status):
        return "Not applicable: no marketing authorisation was granted."
    at = getattr(product, flag.at_field)
    now = getattr(product, flag.field)
    if not has_held_authorisation(product.status):  # orphan, PRIME: the application's own
        return {
            True: "Yes, according to the EMA's register.",
            False: "No, according to the EMA's register.",
        }.get(now, "Not known.")
    if at is True and now is True:
        return flag.yes_both
    if at is False and now is False:
        return flag.no_both
    if at is True and now is False:
        return flag.lost.format(change=_change_phrase(timeline, flag.lost_event))
    if at is False and now is True:
        return flag.gained.format(change=_change_phrase(timeline, flag.gained_event))
    words = {True: "yes", False: "no", None: "not known"}
    return f"At first authorisation: {words[at]}; in the EMA's register now: {words[now]}."


def indication_orphan_now(indication, product) -> bool | None:
    """An indication's orphan designation now: none where the product's is no longer listed."""
    if product.is_orphan is False:
        return False
    if product.is_orphan is None:
        return None
    return indication.is_orphan
