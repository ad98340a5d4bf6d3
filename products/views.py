"""Public pages: home, the filterable list and its CSV, a product, categories, therapeutic areas.

Bad query parameters never make a server error: the page (status 400) shows what was wrong beside
the filter concerned and lists what the valid parameters select.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import DetailView, ListView, TemplateView
from django_filters.views import FilterView

from products.choices import HELD_AUTHORISATION, WITH_REASON, Status
from products.csv_export import product_url_maker, stream_products_csv
from products.facets import Facet, build_facets
from products.filters import CATEGORY_NOT_KNOWN, ProductFilterSet
from products.flags import FLAGS, flag_sentence, indication_orphan_now
from products.history import catalogue_added_on, public_change_log, recent_fact_changes
from products.models import (
    AuthorisationEvent,
    CatalogueSummary,
    Category,
    Product,
    TherapeuticArea,
    partial_date_sort_key,
)
from products.quality import verified_share
from products.querysets import latest_events
from products.search import suggest_spelling

PAGE_SIZES = (20, 50, 100)
#: Parameters that are not filters but belong to a list's state.
LIST_OPTIONS = ("page", "page_size")


def public_products():
    return Product.objects.published()


def api_list_url() -> str | None:
    try:
        return reverse("api:product-list")
    except NoReverseMatch:
        return None


class HomeView(TemplateView):
    """Counts by category and status, authorisations per year, the latest changes, search."""

    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        products = public_products()
        # The whole catalogue's counts from its summary (a few hundred rows, kept by triggers),
        # not from every published product (migration 0015).
        summary = CatalogueSummary.objects
        categories = list(Category.objects.all())
        per_year = summary.authorisations_per_year()
        by_category = Counter()  # the same products by category: the per-year rows summed
        for row in per_year:
            by_category[row["category_slug"]] += row["count"]
        category_counts = [
            {"category": category, "count": by_category.get(category.slug, 0)}
            for category in categories
        ]
        by_status = summary.count_by_status()
        context.update(
            {
                "total": sum(by_category.values()),
                "category_counts": category_counts,
                "category_not_known": by_category.get(None, 0),
                "category_not_known_value": CATEGORY_NOT_KNOWN,
                "status_counts": [
                    {"value": value, "label": label, "count": by_status[value]}
                    for value, label in Status.choices
                    if value in HELD_AUTHORISATION and by_status.get(value)
                ],
                "record_counts": [
                    {"value": value, "label": label, "count": by_status[value]}
                    for value, label in Status.choices
                    if value not in HELD_AUTHORISATION and by_status.get(value)
                ],
                "record_total": sum(
                    count for value, count in by_status.items() if value not in HELD_AUTHORISATION
                ),
                "per_year": per_year,
                "categories": categories,
                "latest_events": latest_events(
                    AuthorisationEvent.objects.filter(product__in=products), limit=8
                ),
                # A change to the facts, with what changed; not a load that rewrote the rows.
                "recently_updated": recent_fact_changes(products, limit=5),
                "catalogue_added_on": catalogue_added_on(products),
                "verified_share": verified_share(),
            }
        )
        return context


def listed_total(filterset: ProductFilterSet, facets: list[Facet]) -> int | None:
    """The number of products the list holds, from the panel's status group: the group counts
    every status under the list's other filters, and the list holds the statuses chosen (or,
    with none, those that held an authorisation). None without that group, or with a search:
    a search of several words finds the products with all of them if any of the products it
    is given has them all, so its selection under every status may differ from the list's."""
    status = next((facet for facet in facets if facet.param == "status"), None)
    if status is None or filterset.form.cleaned_data.get("q"):
        return None
    listed = filterset.listed_statuses()
    return sum(option.count for option in status.options if option.value in listed)


@dataclass
class Chip:
    """An active filter shown above the results, with the link that removes it."""

    label: str
    value: str
    remove_url: str
    invalid: bool = False


class ProductListView(FilterView):
    """The filterable list. Invalid parameters are reported and left out; the rest apply."""

    filterset_class = ProductFilterSet
    queryset = Product.objects.published().for_list()
    template_name = "products/product_list.html"
    paginate_by = settings.CATALOGUE_PAGE_SIZE

    def get(self, request, *args, **kwargs):
        # The filter form submits every control; empty ones (and defaults) are dropped so that
        # URLs stay short and shareable.
        query = self.short_query(request.GET)
        if query != request.GET:
            return HttpResponseRedirect(
                f"{request.path}?{query.urlencode()}" if query else request.path
            )
        self.option_errors: dict[str, str] = {}
        self.filterset = self.get_filterset(self.get_filterset_class())
        self.filterset.is_valid()
        self.object_list = self.filterset.qs  # built from the valid parameters only
        # The panel first: its status group also counts the list (no query of its own).
        self.facets = build_facets(self.filterset, public_products())
        context = self.get_context_data(filter=self.filterset, object_list=self.object_list)
        invalid = bool(self.filterset.errors or self.option_errors)
        return self.render_to_response(context, status=400 if invalid else 200)

    def short_query(self, query: QueryDict) -> QueryDict:
        defaults = {"page": "1", "page_size": str(self.paginate_by)}
        short = QueryDict(mutable=True)
        for key in query:
            values = [v for v in query.getlist(key) if v != "" and v != defaults.get(key)]
            if values:
                short.setlist(key, values)
        return short

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["data"] = self.request.GET  # bound even without parameters: the default list
        return kwargs

    def get_paginate_by(self, queryset):
        raw = self.request.GET.get("page_size")
        if raw is None:
            return self.paginate_by
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= settings.CATALOGUE_MAX_PAGE_SIZE:
            self.option_errors["page_size"] = _(
                "“%(value)s” is not a page size: give a number from 1 to %(max)s. "
                "Showing %(default)s per page."
            ) % {
                "value": raw,
                "max": settings.CATALOGUE_MAX_PAGE_SIZE,
                "default": self.paginate_by,
            }
            return self.paginate_by
        return size

    def paginate_queryset(self, queryset, page_size):
        """A page number that is not one, or is past the end, shows the nearest real page."""
        paginator = Paginator(queryset, page_size)
        if (total := listed_total(self.filterset, self.facets)) is not None:
            paginator.count = total  # Paginator.count is a cached property: no COUNT query
        raw = self.request.GET.get("page", "1")
        try:
            number = int(raw)
        except ValueError:
            number = 0
        if number < 1:
            self.option_errors["page"] = _("“%(value)s” is not a page number.") % {"value": raw}
            number = 1
        elif number > paginator.num_pages:
            self.option_errors["page"] = ngettext(
                "There is no page %(number)s: this list has %(pages)s page.",
                "There is no page %(number)s: this list has %(pages)s pages.",
                paginator.num_pages,
            ) % {"number": number, "pages": paginator.num_pages}
            number = paginator.num_pages
        page = paginator.page(number)
        page.object_list = list(page.object_list)  # evaluated once, prefetches included
        return paginator, page, page.object_list, page.has_other_pages()

    def search_context(self, q: str, products: list, filter_query: QueryDict) -> dict:
        """What the list says about a search: a "Did you mean" correction, whether the products
        shown have only some of its words, and whether filters besides the search are in use.
        """
        if not q.strip() or self.filterset.form.errors.get("q"):
            return {"filters_in_use": any(key != "q" for key in filter_query)}
        suggestion = suggest_spelling(q)
        return {
            "suggestion": suggestion,
            "suggestion_url": suggestion and "?" + urlencode({"q": suggestion}),
            "some_words_only": bool(products) and hasattr(products[0], "search_matched"),
            "filters_in_use": any(key != "q" for key in filter_query),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.filterset
        facets = self.facets
        query = self.request.GET
        filter_query = query.copy()
        for key in LIST_OPTIONS:
            filter_query.pop(key, None)
        api_url = api_list_url()
        page = context["page_obj"]
        context.update(
            {
                "nav": "products",
                "page_range": page.paginator.get_elided_page_range(
                    page.number, on_each_side=2, on_ends=1
                ),
                "facets": facets,
                "chips": self.chips(facets),
                "errors": dict(filterset.form.errors),
                "option_errors": self.option_errors,
                "has_errors": bool(filterset.form.errors or self.option_errors),
                "default_statuses": not filterset.form.cleaned_data.get("status"),
                # A list of ended authorisations or failed applications says why (a column).
                "show_reason": any(
                    status in WITH_REASON
                    for status in filterset.form.cleaned_data.get("status", ())
                ),
                "reasoned_statuses": WITH_REASON,
                "q": query.get("q", ""),
                **self.search_context(query.get("q", ""), page.object_list, filter_query),
                "ordering": query.get("ordering", ""),
                "ordering_choices": filterset.filters["ordering"].extra["choices"],
                "authorised_from": query.get("authorised_from", ""),
                "authorised_to": query.get("authorised_to", ""),
                "page_size": context["paginator"].per_page,
                "page_sizes": PAGE_SIZES,
                "export_url": reverse("products:product_export")
                + (f"?{filter_query.urlencode()}" if filter_query else ""),
                "api_url": api_url
                and api_url + (f"?{filter_query.urlencode()}" if filter_query else ""),
                "feed_url": reverse("products:product_list_feed")
                + (f"?{filter_query.urlencode()}" if filter_query else ""),
            }
        )
        return context

    def chips(self, facets) -> list[Chip]:
        """Every parameter in use, labelled, with a link that removes just that value."""
        labels = {
            facet.param: {option.value: option.label for option in facet.options}
            for facet in facets
        }
        names = {name: str(f.label) for name, f in self.filterset.filters.items()}
        errors = self.filterset.form.errors
        chips = []
        for param in self.filterset.filters:
            if param == "ordering":
                continue
            for value in self.request.GET.getlist(param):
                remaining = self.request.GET.copy()
                remaining.setlist(
                    param, [other for other in remaining.getlist(param) if other != value]
                )
                remaining.pop("page", None)
                url = self.request.path + (f"?{remaining.urlencode()}" if remaining else "")
                label = labels.get(param, {}).get(value, value)
                if param == "q":
                    label = f"“{value}”"
                chips.append(Chip(names[param], str(label), url, invalid=param in errors))
        return chips


class ProductDetailView(DetailView):
    """One published product; others are 404 for the public."""

    queryset = Product.objects.published().with_related()
    template_name = "products/product_detail.html"
    extra_context = {"nav": "products"}

    def get(self, request, *args, **kwargs):
        """The product; a former name's address (``/products/durveqtix/``) moved permanently."""
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            renamed = Product.objects.published().by_former_slug(kwargs["slug"])
            if renamed is None:
                raise
            return HttpResponsePermanentRedirect(renamed.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        product = self.object
        context["timeline"] = timeline = product.timeline
        context["facts_as_of"] = newest_dated_fact(product, timeline)
        context["flags"] = [
            {
                "label": flag.label,
                "sentence": flag_sentence(product, flag, timeline),
                "at_authorisation": getattr(product, flag.at_field),
                "now": getattr(product, flag.field),
                "explanation": flag.explanation,
            }
            for flag in FLAGS
        ]
        context["indications"] = [
            (indication, indication_orphan_now(indication, product))
            for indication in product.indications.all()
        ]
        context["areas"] = {
            area.pk: area
            for indication in product.indications.all()
            for area in indication.therapeutic_areas.all()
        }.values()
        context["json_ld"] = self.json_ld(product)
        context["change_log"] = public_change_log(product)  # curation: products/history.py
        return context

    def json_ld(self, product: Product) -> dict:
        """schema.org ``Drug``: only facts the catalogue knows."""
        data: dict = {
            "@context": "https://schema.org",
            "@type": "Drug",
            "name": product.name,
            "proprietaryName": product.name,
            "url": self.request.build_absolute_uri(product.get_absolute_url()),
        }
        if product.aliases:
            data["alternateName"] = product.aliases
        if product.inn:
            data["nonProprietaryName"] = product.inn
        if product.description:
            data["description"] = product.description
        if product.category:
            data["drugClass"] = {"@type": "DrugClass", "name": product.category.name}
        mechanisms = [mechanism.name for mechanism in product.mechanisms.all()]
        if mechanisms:
            data["mechanismOfAction"] = "; ".join(mechanisms)
        if product.route_of_administration:
            data["administrationRoute"] = product.route_of_administration
        if product.atc_code:
            data["code"] = {
                "@type": "MedicalCode",
                "codeValue": product.atc_code,
                "codingSystem": "ATC",
            }
        if product.ema_product_number:
            data["identifier"] = {
                "@type": "PropertyValue",
                "propertyID": "EMA product number",
                "value": product.ema_product_number,
            }
        data["legalStatus"] = {
            "@type": "DrugLegalStatus",
            "name": product.get_status_display(),
            "applicableLocation": {"@type": "AdministrativeArea", "name": "European Union"},
        }
        if product.has_held_authorisation:
            data["recognizingAuthority"] = {
                "@type": "Organization",
                "name": "European Medicines Agency",
                "url": "https://www.ema.europa.eu/",
            }
        if product.epar_url:
            data["sameAs"] = product.epar_url
        return data


def newest_dated_fact(product: Product, timeline) -> tuple[datetime.date | None, str] | None:
    """The date of the newest dated fact the catalogue holds on ``product``, as (date, partial).

    No field records when each source was read; the newest date any of them gave is the latest
    event of the timeline or the day the EMA last updated its page, whichever is later (a month
    or year counts as its end). ``None`` when nothing is dated.
    """
    dates = [(event.date, event.date_partial) for event in timeline]
    dates.append((product.ema_last_updated_date, ""))
    dates = [(date, partial) for date, partial in dates if date or partial]
    return max(dates, key=lambda pair: partial_date_sort_key(*pair), default=None)


class TermListView(ListView):
    """A vocabulary's terms, each with its public products: in the default list and not."""

    #: The path from a product to the terms, as ``ProductQuerySet.count_by_vocabulary`` takes it.
    path = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        listed, everything = listed_and_all_counts(self.path)
        for term in context[self.context_object_name]:
            term.listed_count = listed.get(term.slug, 0)
            term.record_count = everything.get(term.slug, 0) - term.listed_count
        context["record_statuses"] = record_statuses()
        return self.with_counts(context, listed, everything)

    def with_counts(self, context: dict, listed: dict, everything: dict) -> dict:
        return context


class CategoryListView(TermListView):
    """The four legal categories, what they mean, and how many products each has."""

    model = Category  # template: ListView's default, products/category_list.html
    path = "category"
    context_object_name = "categories"
    extra_context = {"nav": "categories"}

    def with_counts(self, context: dict, listed: dict, everything: dict) -> dict:
        context["not_known_count"] = listed.get(None, 0)
        context["not_known_record_count"] = everything.get(None, 0) - listed.get(None, 0)
        context["not_known_value"] = CATEGORY_NOT_KNOWN
        return context


def listed_and_all_counts(path: str) -> tuple[dict, dict]:
    """Public products per slug of the vocabulary at ``path``: in the default list, and in all."""

    def counts(products) -> dict:
        return {row["slug"]: row["count"] for row in products.count_by_vocabulary(path)}

    products = public_products()
    return counts(products.held_authorisation()), counts(products)


def record_statuses() -> list[str]:
    return [value for value in Status.values if value not in HELD_AUTHORISATION]


class CategoryDetailView(DetailView):
    model = Category
    template_name = "products/category_detail.html"
    context_object_name = "category"
    extra_context = {"nav": "categories"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        products = public_products().filter(category=self.object)
        context["products"] = products.held_authorisation().with_related().order_by("name")
        context["record"] = (
            products.exclude(status__in=HELD_AUTHORISATION)
            .select_related("holder")
            .order_by("name")
        )
        context["record_statuses"] = record_statuses()
        return context


class TherapeuticAreaListView(TermListView):
    """Therapeutic areas with the number of products for each."""

    model = TherapeuticArea
    path = "indications__therapeutic_areas"
    template_name = "products/therapeutic_area_list.html"
    context_object_name = "areas"
    extra_context = {"nav": "areas"}

    def with_counts(self, context: dict, listed: dict, everything: dict) -> dict:
        areas = [area for area in context["areas"] if everything.get(area.slug)]  # not drafts'
        context["areas"] = sorted(areas, key=lambda area: area.display_name.casefold())
        return context


class TherapeuticAreaDetailView(DetailView):
    """An area a published product treats; an area named only by drafts is a 404."""

    queryset = Product.objects.published().terms_in_use("indications__therapeutic_areas")
    template_name = "products/therapeutic_area_detail.html"
    context_object_name = "area"
    extra_context = {"nav": "areas"}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        area = self.object
        products = list(
            public_products().in_therapeutic_area_ids([area.pk]).with_related().order_by("name")
        )
        for product in products:
            product.area_indications = [
                indication
                for indication in product.indications.all()
                if any(other.pk == area.pk for other in indication.therapeutic_areas.all())
            ]
        context["products"] = [p for p in products if p.status in HELD_AUTHORISATION]
        context["record"] = [p for p in products if p.status not in HELD_AUTHORISATION]
        context["record_statuses"] = record_statuses()
        return context


def product_export(request):
    """The list as CSV, with the list's parameters; a bad parameter is a 400 with the reason.

    The file is streamed as it is written (``csv_export``), from one query however many rows.
    """
    filterset = ProductFilterSet(request.GET, queryset=Product.objects.published(), request=request)
    if not filterset.is_valid():
        lines = [
            f"{param}: {message}"
            for param, messages in filterset.errors.items()
            for message in messages
        ]
        return HttpResponse(
            "The CSV was not made: " + "; ".join(lines) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    pieces = stream_products_csv(filterset.qs, url_of=product_url_maker(request))
    response = StreamingHttpResponse(pieces, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="atmp-catalogue.csv"'
    return response
