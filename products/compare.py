"""Side-by-side comparison of 2 to 4 published products: ``/compare/`` and ``/api/v1/compare/``.

``?products=kymriah,yescarta,breyanzi`` (or ``products`` repeated, as the list's tick boxes send
it). ``CompareForm`` reads the parameter for the page and the API alike; ``build_comparison``
makes the rows both show: each row holds one machine value per product (what the API gives and
what differences are computed from) and one cell per product (what the page shows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView

from products.flags import FLAGS, flag_sentence
from products.models import SLUG_PATTERN, Product

MIN_PRODUCTS = 2
MAX_PRODUCTS = 4
#: Products offered beside a product chosen alone ("Compare with…").
MAX_CANDIDATES = 40
SLUG_RE = re.compile(SLUG_PATTERN)


def split_slugs(values: list[str]) -> list[str]:
    """``["kymriah,yescarta", "breyanzi"]`` -> the slugs in order, each once, blanks dropped."""
    slugs: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in slugs:
                slugs.append(part)
    return slugs


class CompareForm(forms.Form):
    """``products``: 2 to 4 slugs of published products. Errors are keyed ``products``.

    ``cleaned_data["products"]`` holds the products, in the order given, with everything the
    comparison shows prefetched (a fixed number of queries). An error with code ``too_few``
    is the only one left when fewer than two known products were named.
    """

    products = forms.CharField(required=False)

    def __init__(self, query, *args, **kwargs):
        self.slugs = split_slugs(query.getlist("products"))
        super().__init__({"products": ",".join(self.slugs)}, *args, **kwargs)
        self.known: list[Product] = []

    def clean_products(self) -> list[Product]:
        slugs = self.slugs
        # Whatever was named, the first few known products are kept to offer them again.
        candidates = [slug for slug in slugs if SLUG_RE.match(slug)][: MAX_PRODUCTS * 5]
        found = {
            product.slug: product
            for product in Product.objects.published().with_related().filter(slug__in=candidates)
        }
        self.known = [found[slug] for slug in slugs if slug in found]
        if len(slugs) > MAX_PRODUCTS:
            raise ValidationError(
                _("Compare at most %(max)s products at a time; %(count)s were named."),
                code="too_many",
                params={"max": MAX_PRODUCTS, "count": len(slugs)},
            )
        unknown = [slug for slug in slugs if slug not in found]
        if unknown:
            raise ValidationError(
                ngettext(
                    "No published product is called %(slugs)s.",
                    "No published products are called %(slugs)s.",
                    len(unknown),
                )
                % {"slugs": ", ".join(f"“{slug}”" for slug in unknown)},
                code="unknown",
            )
        if len(slugs) < MIN_PRODUCTS:
            raise ValidationError(
                _(
                    "Name %(min)s to %(max)s products, separated by commas: "
                    "products=kymriah,yescarta."
                ),
                code="too_few",
                params={"min": MIN_PRODUCTS, "max": MAX_PRODUCTS},
            )
        return self.known

    @property
    def only_too_few(self) -> bool:
        """Whether the one problem is that fewer than two products were named (a first step)."""
        errors = self.errors.as_data().get("products", [])
        return bool(errors) and all(error.code == "too_few" for error in errors)


@dataclass
class Row:
    """One line of the table: a fact of each product, and whether they differ."""

    key: str
    label: str
    kind: str  # how the page shows a cell: text, links, indications, status, flag, timeline…
    values: list[Any]  # the machine values, one per product (the API's)
    cells: list[Any] = field(default_factory=list)  # what the page shows, one per product
    group: str = ""

    @property
    def differs(self) -> bool:
        return any(value != self.values[0] for value in self.values[1:])


def date_value(date, partial: str = "", known_by=None) -> str | None:
    """ISO date, partial date as given (``2018-06``), ``by 2025-10-27``, or None."""
    if date:
        return date.isoformat()
    if partial:
        return partial
    if known_by:
        return f"by {known_by.isoformat()}"
    return None


def product_areas(product: Product) -> list:
    areas = {
        area.pk: area
        for indication in product.indications.all()
        for area in indication.therapeutic_areas.all()
    }
    return sorted(areas.values(), key=lambda area: area.name.casefold())


def build_comparison(products: list[Product]) -> list[Row]:
    """The rows of the comparison of ``products`` (prefetched by ``with_related()``)."""
    list_url = reverse("products:product_list")
    timelines = {product.pk: product.timeline for product in products}

    def row(key, label, kind, value, cell=None, group=""):
        return Row(
            key=key,
            label=label,
            kind=kind,
            values=[value(product) for product in products],
            cells=[(cell or value)(product) for product in products],
            group=group,
        )

    rows = [
        row(
            "category",
            _("Category"),
            "links",
            lambda p: p.category.slug if p.category else None,
            lambda p: [(p.category.name, p.category.get_absolute_url())] if p.category else [],
            group=_("What it is"),
        ),
        row(
            "mechanisms",
            _("Mechanism of action"),
            "links",
            lambda p: sorted(m.slug for m in p.mechanisms.all()),
            lambda p: [(m.name, f"{list_url}?mechanism={m.slug}") for m in p.mechanisms.all()],
        ),
        row("platform", _("Platform"), "text", lambda p: p.platform or None),
        row("target", _("Target"), "text", lambda p: p.target or None),
        row(
            "cell_source",
            _("Cell source"),
            "text",
            lambda p: p.cell_source,
            lambda p: p.get_cell_source_display() if p.cell_source else None,
        ),
        row(
            "delivery",
            _("Delivery"),
            "text",
            lambda p: p.delivery,
            lambda p: p.get_delivery_display() if p.delivery else None,
        ),
        row(
            "indications",
            _("Indications"),
            "indications",
            lambda p: [
                {
                    "condition": i.condition,
                    "population": i.population,
                    "therapeutic_areas": sorted(a.slug for a in i.therapeutic_areas.all()),
                    "orphan_at_authorisation": i.is_orphan,
                }
                for i in p.indications.all()
            ],
            lambda p: list(p.indications.all()),
            group=_("What it is for"),
        ),
        row(
            "therapeutic_areas",
            _("Therapeutic areas"),
            "links",
            lambda p: [area.slug for area in product_areas(p)],
            lambda p: [(area.name, area.get_absolute_url()) for area in product_areas(p)],
        ),
        row(
            "holder",
            _("Marketing authorisation holder"),
            "links",
            lambda p: p.holder.slug if p.holder else None,
            lambda p: [(p.holder.name, f"{list_url}?holder={p.holder.slug}")] if p.holder else [],
            group=_("Status and dates"),
        ),
        row("status", _("Status"), "status", lambda p: p.status, lambda p: p),
        row(
            "status_date",
            _("Status since"),
            "date",
            lambda p: date_value(p.status_date),
            lambda p: (p.status_date, ""),
        ),
        row(
            "authorisation_date",
            _("First authorised"),
            "authorised",
            lambda p: date_value(p.authorisation_date, p.authorisation_date_partial),
            lambda p: p,
        ),
    ]
    for index, flag in enumerate(FLAGS):
        rows.append(
            row(
                flag.param,
                flag.label,
                "flag",
                lambda p, flag=flag: {
                    "at_authorisation": getattr(p, flag.at_field),
                    "now": getattr(p, flag.field),
                },
                lambda p, flag=flag: flag_sentence(p, flag, timelines[p.pk]),
                group=_("At authorisation and now") if index == 0 else "",
            )
        )
    rows.append(
        row(
            "timeline",
            _("Timeline"),
            "timeline",
            lambda p: [
                {"kind": e.kind, "date": date_value(e.date, e.date_partial, e.known_by)}
                for e in timelines[p.pk]
            ],
            lambda p: timelines[p.pk],
            group=_("Timeline"),
        )
    )
    return rows


def candidates_for(products: list[Product]) -> list[Product]:
    """Products like those chosen, to compare them with: those sharing a mechanism first, then
    those of the same category, each by name (two queries, at most ``MAX_CANDIDATES``)."""
    if not products:
        return []
    published = Product.objects.published().exclude(pk__in=[product.pk for product in products])
    mechanisms = {m.slug for product in products for m in product.mechanisms.all()}
    categories = {product.category_id for product in products if product.category_id}
    alike = list(published.with_mechanisms(mechanisms).order_by("name")[:MAX_CANDIDATES])
    same_category = (
        published.filter(category__in=categories)
        .exclude(pk__in=[product.pk for product in alike])
        .order_by("name")
    )
    return alike + list(same_category[: MAX_CANDIDATES - len(alike)])


def compare_url(slugs: list[str]) -> str:
    """``/compare/?products=kymriah,yescarta`` (commas left readable)."""
    return reverse("products:compare") + "?products=" + quote(",".join(slugs), safe=",")


class CompareView(TemplateView):
    """The comparison table; with fewer than two products, a choice of products to add.

    An unknown slug or more than four products is a 400 whose page says so beside a choice of
    the products it did recognise.
    """

    template_name = "products/compare.html"
    extra_context = {"nav": "products"}

    def get(self, request, *args, **kwargs):
        raw = request.GET.getlist("products")
        if len(raw) > 1:  # the list's tick boxes: one canonical, shareable address
            return HttpResponseRedirect(compare_url(split_slugs(raw)))
        form = CompareForm(request.GET)
        valid = form.is_valid()
        context = self.get_context_data(form=form)
        if valid:
            products = form.cleaned_data["products"]
            context.update(products=products, rows=build_comparison(products))
        else:
            context.update(
                products=form.known,
                errors=[] if form.only_too_few else form.errors["products"],
                candidates=candidates_for(form.known) if len(form.known) < MIN_PRODUCTS else [],
            )
        context.update(min_products=MIN_PRODUCTS, max_products=MAX_PRODUCTS)
        status = 200 if valid or form.only_too_few else 400
        return self.render_to_response(context, status=status)
