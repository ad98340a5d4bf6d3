"""Template helpers of the public pages: unknown values, partial dates, JSON-LD, the chart."""

from __future__ import annotations

import datetime
import html
import itertools
import json
import math
from collections import defaultdict

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dates import MONTHS
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from products.choices import HELD_AUTHORISATION, Status

register = template.Library()

#: json_script's escapes: the JSON cannot close its <script> element or open a comment.
JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}

#: CSS class of each status (colour and icon come with a visible label, never alone).
STATUS_TONES = {
    Status.AUTHORISED: "ok",
    Status.SUSPENDED: "warn",
    Status.OPINION: "info",
    Status.UNDER_RE_EXAMINATION: "info",
}


def escaped(value) -> str:
    """``conditional_escape(value)`` without its lazy-argument wrappers: the same text, for the
    hot loops below (a page's rows and options call it some thousand times)."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def html_format(format_string: str, *args, **kwargs) -> SafeString:
    """``format_html`` for the hot loops: the same result, each argument ``escaped``."""
    return SafeString(
        format_string.format(
            *[escaped(arg) for arg in args],
            **{name: escaped(value) for name, value in kwargs.items()},
        )
    )


@register.filter
def or_not_known(value):
    """The value, or a marked "not known" when the fact is unknown (None or empty)."""
    if value is None or value == "" or value == []:
        return html_format('<span class="not-known">{}</span>', _("not known"))
    return value


@register.filter
def short_category(category) -> str:
    """ "Gene therapy" for "Gene therapy medicinal product": table cells stay narrow."""
    name = category.name
    for suffix in (" medicinal product", " product"):
        name = name.removesuffix(suffix)
    return name


@register.filter
def status_tone(status: str) -> str:
    if status in STATUS_TONES:
        return STATUS_TONES[status]
    return "ended" if status in HELD_AUTHORISATION else "record"


@register.filter
def status_label(status: str) -> str:
    """A status's label, as ``get_status_display``, which hashes every status's translatable
    label (a lookup in the translations each) for every row of a table."""
    try:
        return Status(status).label
    except ValueError:
        return status


@register.simple_tag
def partial_date(date: datetime.date | None, partial: str = "", style: str = "long"):
    """An exact date, or a partial one as given (2026, April 2026), or "not known"."""
    if date:
        # Django's date format "j F Y", without its formatter (a table has dozens of dates).
        iso = date.isoformat()
        text = f"{date.day} {MONTHS[date.month]} {date.year:04d}" if style == "long" else iso
        return html_format('<time datetime="{}">{}</time>', iso, text)
    if partial:
        year, _sep, month = partial.partition("-")
        text = f"{MONTHS[int(month)]} {year}" if month else year
        return html_format('<time datetime="{}">{}</time>', partial, text)
    return or_not_known(None)


@register.filter
def json_ld(value) -> str:
    """``value`` as JSON safe to place inside <script type="application/ld+json">."""
    return mark_safe(json.dumps(value, cls=DjangoJSONEncoder, indent=1).translate(JSON_ESCAPES))


@register.inclusion_tag("products/_chart.html")
def authorisation_chart(rows: list[dict], categories: list, *, chart_id: str = "chart"):
    """A stacked bar chart (SVG) of first authorisations per year by category, and its table.

    ``rows`` come from ``ProductQuerySet.authorisations_per_year()``; products whose year is not
    known are left out of the bars and counted in ``unknown_year``.
    """
    series = [(category.slug, category.name) for category in categories]
    series.append(("not-known", _("Category not known")))
    known = [row for row in rows if row["year"] is not None]
    unknown_year = sum(row["count"] for row in rows if row["year"] is None)
    if not known:
        return {"empty": True, "unknown_year": unknown_year, "chart_id": chart_id}

    by_year: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in known:
        by_year[row["year"]][row["category_slug"] or "not-known"] += row["count"]
    used = [(slug, name) for slug, name in series if any(slug in c for c in by_year.values())]
    years = list(range(min(by_year), max(by_year) + 1))
    totals = {year: sum(by_year[year].values()) for year in years}
    peak = max(totals.values())
    # At most about six gridlines whatever the peak: 1, 2, 5, 10, 20, 50, 100… products apart.
    step = next(
        step
        for power in itertools.count()
        for step in (10**power, 2 * 10**power, 5 * 10**power)
        if peak <= 6 * step
    )
    top = math.ceil(peak / step) * step

    width, height = 720, 280
    left, right, top_margin, bottom = 36, 8, 24, 30
    plot_width, plot_height = width - left - right, height - top_margin - bottom
    slot = plot_width / len(years)
    bar = min(slot * 0.72, 40)
    label_every = 1 if len(years) <= 20 else 2

    def y_of(value: float) -> float:
        return top_margin + plot_height - plot_height * value / top

    bars = []
    for index, year in enumerate(years):
        x = left + index * slot + (slot - bar) / 2
        stacked = 0
        segments = []
        for slug, name in used:
            count = by_year[year].get(slug, 0)
            if not count:
                continue
            y_top = y_of(stacked + count)
            segments.append(
                {
                    "slug": slug,
                    "y": round(y_top, 2),
                    "height": round(y_of(stacked) - y_top, 2),
                    "title": f"{year}: {count} × {name}",
                }
            )
            stacked += count
        bars.append(
            {
                "year": year,
                "x": round(x, 2),
                "width": round(bar, 2),
                "label_x": round(x + bar / 2, 2),
                "show_label": index % label_every == 0 or index == len(years) - 1,
                "segments": segments,
                "total": totals[year],
                "total_y": round(y_of(totals[year]) - 4, 2),
            }
        )
    ticks = [{"value": value, "y": round(y_of(value), 2)} for value in range(0, top + 1, step)]
    busiest = max(years, key=lambda year: (totals[year], year))
    table = [
        {
            "year": year,
            "counts": [by_year[year].get(slug, 0) for slug, _n in used],
            "total": totals[year],
        }
        for year in years
        if totals[year]
    ]
    return {
        "chart_id": chart_id,
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "baseline_y": round(y_of(0), 2),
        "label_y": height - 10,
        "bars": bars,
        "ticks": ticks,
        "series": used,
        "table": table,
        "first_year": years[0],
        "last_year": years[-1],
        "total": sum(totals.values()),
        "busiest_year": busiest,
        "busiest_count": totals[busiest],
        "unknown_year": unknown_year,
    }


@register.filter
def therapeutic_areas(product) -> list[str]:
    """The distinct therapeutic area names of a product's indications, in order: each plain
    name, or the MeSH heading of an area that has none. From ``area_names`` when the rows were
    fetched with ``ProductQuerySet.for_list()``, else from the prefetched indications."""
    if (listed := getattr(product, "area_names", None)) is not None:
        return list(dict.fromkeys(listed))
    names: list[str] = []
    for indication in product.indications.all():
        for area in indication.therapeutic_areas.all():
            if area.display_name not in names:
                names.append(area.display_name)
    return names


@register.simple_tag
def facet_group(facet):
    """One group of the list's filter panel (``products.facets.Facet``): a ``<details>`` with
    the group's label, its errors and help, and its options as checkboxes, radio buttons or a
    select (``facet_options``).

    Fourteen groups on every list page, each once a template of some thirty lookups and tags:
    written here, in one place, as the rows of the product table are (``product_row``).
    """
    param, label, selected = facet.param, facet.label, facet.selected_count
    errors = " ".join(escaped(error) for error in facet.errors)
    parts = [
        html_format(
            '<details class="facet" id="facet-{}"{}>\n  <summary>{}{}{}</summary>\n'
            "  <fieldset{}>\n"
            '    <legend class="visually-hidden">{}</legend>\n    ',
            param,
            " open" if facet.is_open else "",
            label,
            html_format(' <span class="facet__selected">{} selected</span>', selected)
            if selected
            else "",
            mark_safe(' <span class="facet__error-mark">error</span>') if facet.errors else "",
            html_format(' aria-describedby="{}-error"', param) if facet.errors else "",
            label,
        )
    ]
    if facet.errors:
        parts.append(
            html_format(
                '<p class="field-error" id="{}-error"><span class="visually-hidden">Error:'
                "</span> {} This filter was not applied.</p>",
                param,
                mark_safe(errors),
            )
        )
    parts.append("\n    ")
    if facet.help_text:
        parts.append(html_format('<p class="hint">{}</p>', facet.help_text))
    parts.append("\n    ")
    if facet.widget == "select":
        parts.append(
            html_format(
                '\n      <label for="f-{param}" class="visually-hidden">{label}</label>\n'
                '      <select id="f-{param}" name="{param}">\n'
                '        <option value="">Any</option>\n        {options}\n      </select>\n    ',
                param=param,
                label=label,
                options=facet_options(facet),
            )
        )
    else:
        parts.append(
            html_format(
                '\n      <ul class="options{}">\n        ',
                " options--long" if len(facet.options) > 10 else "",
            )
        )
        if facet.widget == "radio":
            parts.append(
                html_format(
                    '\n        <li><input type="radio" id="f-{param}-any" name="{param}"'
                    ' value=""{checked}><label for="f-{param}-any">Any</label></li>\n        ',
                    param=param,
                    checked="" if selected else " checked",
                )
            )
        parts.append("\n        ")
        if facet.options:
            parts.append(facet_options(facet))
        else:
            parts.append('<li class="muted">No options under the other filters.</li>')
        parts.append("\n      </ul>\n    ")
    parts.append("\n  </fieldset>\n</details>\n")
    return mark_safe("".join(parts))  # each part escaped by html_format


def facet_options(facet):
    """A filter group's options (``facet_group``): ``<option>`` items for a select, else ``<li>``
    items with a checkbox or radio each and the group headings between them.

    The panel's hot loop (a hundred options or more), written once here: as template code each
    option cost a dozen variable lookups on every cold list page.
    """
    if facet.widget == "select":
        return mark_safe(
            "".join(
                html_format(
                    '<option value="{}"{}>{} ({})</option>',
                    option.value,
                    " selected" if option.selected else "",
                    option.label,
                    option.count,
                )
                for option in facet.options
            )
        )
    items = []
    group = None
    for number, option in enumerate(facet.options, start=1):
        if option.group != group and option.group:
            items.append(html_format('<li class="options__group">{}</li>', option.group))
        group = option.group
        items.append(
            html_format(
                '<li>\n          <input type="{widget}" id="f-{param}-{number}" name="{param}"'
                ' value="{value}"{checked}>\n          <label for="f-{param}-{number}">'
                '<span class="options__label">{label}</span> <span class="count">'
                '<span class="visually-hidden">(</span>{count}<span class="visually-hidden">'
                " product{plural})</span></span></label>\n        </li>",
                widget=facet.widget,
                param=facet.param,
                number=number,
                value=option.value,
                checked=" checked" if option.selected else "",
                label=option.label,
                count=option.count,
                plural="" if option.count == 1 else "s",
            )
        )
    return mark_safe("\n        ".join(items))  # each item escaped by html_format


@register.simple_tag
def product_row(product, *, compare=False, show_reason=False, reasoned_statuses=()):
    """One ``<tr>`` of the product table (``_product_table.html``): its hot loop, written once
    here, as a template each row cost some thirty variable lookups on every cold list page."""
    cells = []
    if compare:
        cells.append(
            html_format(
                '<td class="compare-cell" data-label="Compare"><input type="checkbox"'
                ' id="compare-{slug}" name="products" value="{slug}" form="compare-form">'
                '<label class="visually-hidden" for="compare-{slug}">Compare {name}</label></td>',
                slug=product.slug,
                name=product.name,
            )
        )
    inn = html_format('<span class="inn">{}</span>', product.inn) if product.inn else ""
    aliases = ", ".join(product.aliases or ())
    if aliases:
        aliases = html_format('<span class="aliases">formerly {}</span>', aliases)
    cells.append(
        html_format(
            '<th scope="row" data-label="Product">\n        <a class="product-link" href="{}">{}'
            "</a>\n        {}\n        {}\n      </th>",
            product.get_absolute_url(),
            product.name,
            inn,
            aliases,
        )
    )
    category = product.category
    if category:
        category = html_format(
            '<span class="cat cat--{}" title="{}">{}</span>',
            category.slug,
            category.name,
            short_category(category),
        )
    cells.append(html_format('<td data-label="Category">{}</td>', or_not_known(category)))
    areas = "; ".join(therapeutic_areas(product))
    cells.append(html_format('<td data-label="Therapeutic areas">{}</td>', or_not_known(areas)))
    holder = product.holder.name if product.holder else None
    cells.append(html_format('<td data-label="Holder">{}</td>', or_not_known(holder)))
    since = ""
    if product.status_date and product.status != "authorised":
        since = html_format(
            ' <span class="status-date">since {}</span>', partial_date(product.status_date)
        )
    cells.append(
        html_format(
            '<td data-label="Status"><span class="status status--{}">{}</span>{}</td>',
            status_tone(product.status),
            status_label(product.status),
            since,
        )
    )
    if product.authorisation_date or product.authorisation_date_partial:
        first = partial_date(product.authorisation_date, product.authorisation_date_partial)
    elif product.has_held_authorisation:
        first = or_not_known(None)
    else:
        first = mark_safe('<span class="muted">never</span>')
    cells.append(
        html_format('<td data-label="First authorised" class="first-authorised">{}</td>', first)
    )
    if show_reason:
        reason = ""
        if product.status in reasoned_statuses:
            reason = or_not_known(product.status_reason)
        cells.append(html_format('<td data-label="Reason" class="reason">{}</td>', reason))
    return html_format("<tr>\n      {}\n    </tr>", mark_safe("\n      ".join(cells)))
