"""Atom feeds of regulatory events: of any filtered list, and of one product.

``/products/feed/`` takes every parameter of ``/products/`` (``ProductFilterSet``, the one filter
definition) and lists, newest first, the timeline events of the products it selects;
``/products/<slug>/feed/`` those of one published product. Built with
``django.contrib.syndication``.

Dates: an entry's ``updated`` is the event's date; an event known only to its month or year is
dated the last day it can be (``2018-06``: 30 June 2018), one known only to have happened by a
date ("by 27 October 2025") that date, always at midnight UTC. The entry's visible text keeps
what the catalogue knows ("June 2018", "by 27 October 2025"), never an invented day. An event
with no date at all has no place in a feed and is left out.

A feed's ETag and ``Last-Modified`` come from the catalogue version (``products.caching``): its
entries change only when the catalogue does, and a reader's revalidation is a 304.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from products.caching import catalogue_stamp, versioned
from products.filters import ProductFilterSet
from products.models import EARLIEST_DATE, SLUG_PATTERN, AuthorisationEvent, Product
from products.querysets import events_newest_first

SLUG_RE = re.compile(SLUG_PATTERN)

#: Entries in a feed: the newest events of the selection.
FEED_MAX_ENTRIES = 100
#: List parameters that are not filters: a feed has no pages.
IGNORED_PARAMETERS = ("page", "page_size")
AUTHOR = "ATMP Catalogue"


class CatalogueAtomFeed(Atom1Feed):
    """Atom 1.0, whose ``updated`` without entries is the catalogue's last change (not "now").

    Django's own uses the time of the request, so an empty feed would change on every request
    while its ETag stays: the feed would not be a function of the catalogue.
    """

    def latest_post_date(self) -> datetime.datetime:
        if self.items:
            return super().latest_post_date()
        return self.feed["empty_updated"]


@dataclass(frozen=True)
class FeedSource:
    """What one feed shows: its words, the page it follows and its events."""

    title: str
    subtitle: str
    link: str
    events: list[AuthorisationEvent]
    changed_at: datetime.datetime
    path: str  # the feed's own address, less what does not change it: its Atom id


def midnight_utc(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.timezone.utc)


def catalogue_changed_at(request) -> datetime.datetime:
    """The catalogue's last change; for a catalogue never written to, its earliest date."""
    return catalogue_stamp(request).changed_at or midnight_utc(EARLIEST_DATE)


def event_date_text(event: AuthorisationEvent) -> str:
    """What the catalogue knows of the date: "23 August 2018", "June 2018", "by 27 October 2025"."""
    from django.utils.dateformat import format as format_date
    from django.utils.dates import MONTHS

    if event.date:
        return format_date(event.date, "j F Y")
    if event.date_partial:
        year, _sep, month = event.date_partial.partition("-")
        return f"{MONTHS[int(month)]} {year}" if month else year
    if event.known_by:
        return f"by {format_date(event.known_by, 'j F Y')}"
    return "date not known"


def event_key(event: AuthorisationEvent) -> str:
    """A name for the event within its product that survives a reload of the catalogue.

    ``extension-of-indication-2018-06``; a second event of the same kind and date gets ``-2``.
    """
    if event.date:
        when = event.date.isoformat()
    elif event.date_partial:
        when = event.date_partial
    else:
        when = f"by-{event.known_by.isoformat()}"
    number = getattr(event, "same_day_number", 1)
    return f"{event.kind}-{when}" + (f"-{number}" if number > 1 else "")


def value_in_words(value, choices: dict) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(choices.get(value, value))


def describe_filters(filterset: ProductFilterSet) -> list[str]:
    """The parameters in use, in words: ``Mechanism of action: CD19-directed CAR-T cells``."""
    parts = []
    for name, value in filterset.form.cleaned_data.items():
        if name == "ordering" or value is None or value == "":
            continue
        values = list(value) if isinstance(value, (list, tuple, QuerySet)) else [value]
        if not values:
            continue
        choices = dict(filterset.filters[name].extra.get("choices", ()))
        if name == "q":
            words = f"“{value}”"
        else:
            words = ", ".join(value_in_words(item, choices) for item in values)
        parts.append(f"{filterset.filters[name].label}: {words}")
    return parts


class EventFeed(Feed):
    """The shared shape of both feeds: one entry per event, linking to its product's page."""

    feed_type = CatalogueAtomFeed
    description_template = "products/feed_entry.html"
    author_name = AUTHOR

    def title(self, source: FeedSource) -> str:
        return source.title

    def subtitle(self, source: FeedSource) -> str:
        return source.subtitle

    def link(self, source: FeedSource) -> str:
        return source.link

    def feed_guid(self, source: FeedSource) -> str:
        return self.request.build_absolute_uri(source.path)

    def feed_extra_kwargs(self, source: FeedSource) -> dict:
        return {"empty_updated": source.changed_at}

    def items(self, source: FeedSource) -> list[AuthorisationEvent]:
        return source.events

    def item_title(self, event: AuthorisationEvent) -> str:
        return f"{event.product.name}: {event.get_kind_display()} ({event_date_text(event)})"

    def item_link(self, event: AuthorisationEvent) -> str:
        return event.product.get_absolute_url()

    def item_guid(self, event: AuthorisationEvent) -> str:
        url = self.request.build_absolute_uri(event.product.get_absolute_url())
        return f"{url}#event-{event_key(event)}"

    def item_guid_is_permalink(self, event: AuthorisationEvent) -> bool:
        return False

    def item_updateddate(self, event: AuthorisationEvent) -> datetime.datetime:
        return midnight_utc(event.latest_day)

    def item_categories(self, event: AuthorisationEvent) -> list[str]:
        return [event.kind]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = kwargs["item"]
        context["date_text"] = event_date_text(event)
        context["product_url"] = self.request.build_absolute_uri(event.product.get_absolute_url())
        return context

    def __call__(self, request, *args, **kwargs):
        self.request = request  # a new feed object serves each request
        return super().__call__(request, *args, **kwargs)


class ProductListFeed(EventFeed):
    """``/products/feed/?…``: the events of the products the same ``/products/`` URL lists."""

    def __init__(self, filterset: ProductFilterSet):
        super().__init__()
        self.filterset = filterset  # validated by ``product_list_feed``

    def get_object(self, request) -> FeedSource:
        filterset = self.filterset
        described = describe_filters(filterset)
        query = request.GET.copy()
        for key in IGNORED_PARAMETERS:
            query.pop(key, None)
        suffix = f"?{query.urlencode()}" if query else ""
        link = reverse("products:product_list") + suffix
        events = list(events_newest_first(filterset.qs, limit=FEED_MAX_ENTRIES))
        return FeedSource(
            title="ATMP Catalogue: regulatory events"
            + (f" ({'; '.join(described)})" if described else ""),
            subtitle="New authorisations, extensions of indication, conversions, status changes "
            "and the other steps of the timelines of the products "
            + ("listed with these filters" if described else "the catalogue lists")
            + ", newest first.",
            link=link,
            events=events,
            changed_at=catalogue_changed_at(request),
            path=reverse("products:product_list_feed") + suffix,
        )


class ProductFeed(EventFeed):
    """``/products/<slug>/feed/``: one published product's events."""

    def get_object(self, request, slug: str) -> FeedSource:
        product = get_object_or_404(Product.objects.published(), slug=slug)
        products = Product.objects.filter(pk=product.pk)
        return FeedSource(
            title=f"{product.name}: regulatory events · ATMP Catalogue",
            subtitle=f"The authorisation timeline of {product.name}, newest first.",
            link=product.get_absolute_url(),
            events=list(events_newest_first(products, limit=FEED_MAX_ENTRIES)),
            changed_at=catalogue_changed_at(request),
            path=reverse("products:product_feed", args=[product.slug]),
        )


def filter_errors(filterset: ProductFilterSet) -> JsonResponse:
    """A 400 naming each parameter the filters cannot use, as the API answers."""
    return JsonResponse(
        {param: list(messages) for param, messages in filterset.errors.items()}, status=400
    )


@versioned
def product_list_feed(request):
    """The list's feed; a parameter the filters cannot use is a 400 with the reason."""
    filterset = ProductFilterSet(request.GET, queryset=Product.objects.published(), request=request)
    if not filterset.is_valid():
        return filter_errors(filterset)
    return ProductListFeed(filterset)(request)


@versioned
def product_feed(request, slug: str):
    """One published product's feed; any other slug is a 404."""
    if not SLUG_RE.match(slug):
        raise Http404
    return ProductFeed()(request, slug=slug)
