"""Facets of the product list: each filter's options with their counts under the other filters.

A group's counts ignore the group's own selection, so the options of one group add up as OR
(as the filter does): ticking "Gene therapy" leaves the other categories' counts as they were.
Each group costs one aggregate query (``ProductQuerySet.count_by`` or ``count_by_vocabulary``),
whatever the catalogue's size, and is cached for the catalogue version: paging, reordering or
changing one group's selection recomputes only the groups whose other filters changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from products.caching import cached, catalogue_stamp
from products.choices import HELD_AUTHORISATION, CellSource, Status
from products.filters import CATEGORY_NOT_KNOWN, ProductFilterSet
from products.flags import FLAGS
from products.querysets import ProductQuerySet

NOT_KNOWN = _("Not known")
#: Parameters that change the order or the page of a list, never its counts.
UNFILTERED = ("ordering", "page", "page_size")
#: At most this many options in a vocabulary's group: a page must not grow with the catalogue.
MAX_OPTIONS = 100


@dataclass
class Option:
    value: str
    label: str
    count: int
    selected: bool
    group: str = ""


@dataclass
class Facet:
    """One filter group of the panel: ``widget`` is ``checkbox``, ``radio`` or ``select``."""

    param: str
    label: str
    widget: str
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    help_text: str = ""

    @property
    def selected_count(self) -> int:
        return sum(option.selected for option in self.options)

    @property
    def is_open(self) -> bool:
        """Whether the panel shows the group unfolded: short groups and groups in use."""
        return bool(self.selected_count or self.errors or len(self.options) <= 6)


#: The flags in the panel: at first authorisation (what "conditionally authorised" usually
#: means), then in the EMA's register now. Accelerated assessment is a filter only.
BOOLEAN_FACETS = [
    (param, field, label)
    for flag in FLAGS
    if flag.param != "accelerated_assessment"
    for param, field, label in (
        (flag.at_param, flag.at_field, _("%s at authorisation") % flag.label),
        (flag.param, flag.field, _("%s now") % flag.label),
    )
]


def _selected(filterset: ProductFilterSet, param: str) -> set[str]:
    return set(filterset.data.getlist(param))


def _counts(rows: list[dict], key: str) -> dict:
    return {row[key]: row["count"] for row in rows}


def build_facets(filterset: ProductFilterSet, products: ProductQuerySet) -> list[Facet]:
    """The filter panel's groups for ``filterset`` over ``products`` (the public products)."""
    errors = filterset.form.errors
    stamp = catalogue_stamp(getattr(filterset, "request", None))

    def counted(param: str, what: str, count) -> list[dict]:
        """``count(products under the other filters)``, cached for this catalogue version."""
        others = sorted(
            (key, sorted(filterset.data.getlist(key)))
            for key in filterset.data
            if key not in {param, *UNFILTERED}
        )
        return cached(
            stamp,
            ("facet", param, what, others),
            lambda: count(filterset.filter_queryset(products, exclude={param, "ordering"})),
        )

    def count_by(param: str, *fields: str) -> list[dict]:
        return counted(param, ",".join(fields), lambda selected: selected.count_by(*fields))

    def facet(param: str, label, widget: str, **kwargs) -> Facet:
        return Facet(param, label, widget, errors=list(errors.get(param, [])), **kwargs)

    facets = []

    # Category: the four legal classes in their order, and "not known".
    selected = _selected(filterset, "category")
    rows = count_by("category", "category__slug", "category__name", "category__position")
    rows.sort(key=lambda row: (row["category__position"] is None, row["category__position"] or 0))
    category = facet("category", _("Category"), "checkbox")
    for row in rows:
        value = row["category__slug"] or CATEGORY_NOT_KNOWN
        name = row["category__name"] or NOT_KNOWN
        category.options.append(Option(value, name, row["count"], value in selected))
    _add_missing_selected(category, selected, filterset.form.cleaned_data.get("category"))
    facets.append(category)

    # Status: all eleven, those that held an authorisation first.
    selected = _selected(filterset, "status")
    counts = _counts(count_by("status", "status"), "status")
    status = facet(
        "status",
        _("Status"),
        "checkbox",
        help_text=_(
            "With no status ticked, the list shows every product that holds or has held an EU "
            "marketing authorisation."
        ),
    )
    for value, label in Status.choices:
        if counts.get(value) or value in selected:
            group = (
                _("Held an EU authorisation")
                if value in HELD_AUTHORISATION
                else _("Regulatory record")
            )
            status.options.append(
                Option(value, label, counts.get(value, 0), value in selected, str(group))
            )
    facets.append(status)

    # Vocabularies selected by slug, listed by name.
    for param, path, label, widget in (
        ("therapeutic_area", "indications__therapeutic_areas", _("Therapeutic area"), "checkbox"),
        ("mechanism", "mechanisms", _("Mechanism of action"), "checkbox"),
        ("holder", "holder", _("Marketing authorisation holder"), "select"),
    ):
        selected = _selected(filterset, param)
        rows = counted(param, path, lambda selected, path=path: selected.count_by_vocabulary(path))
        rows = [row for row in rows if row["slug"]]
        group = facet(param, label, widget)
        if len(rows) > MAX_OPTIONS:  # the busiest ones; the search box finds the others
            rows.sort(key=lambda row: -row["count"])
            rows = [
                row
                for rank, row in enumerate(rows)
                if rank < MAX_OPTIONS or row["slug"] in selected
            ]
            group.help_text = _(
                "The %(count)s with the most products; search for any other by its name."
            ) % {"count": MAX_OPTIONS}
        for row in rows:  # a therapeutic area by its plain name when it has one
            row["name"] = row.get("plain_name") or row["name"]
        rows.sort(key=lambda row: row["name"].casefold())
        for row in rows:
            group.options.append(
                Option(row["slug"], row["name"], row["count"], row["slug"] in selected)
            )
        _add_missing_selected(group, selected, filterset.form.cleaned_data.get(param))
        group.options.sort(key=lambda option: not option.selected)  # ticked ones on top
        facets.append(group)

    # Cell source.
    selected = _selected(filterset, "cell_source")
    counts = _counts(count_by("cell_source", "cell_source"), "cell_source")
    cell_source = facet("cell_source", _("Cell source"), "radio")
    for value, label in CellSource.choices:
        if counts.get(value) or value in selected:
            cell_source.options.append(
                Option(value, label, counts.get(value, 0), value in selected)
            )
    facets.append(cell_source)

    # Regulatory flags: yes or no; unknown values are counted by neither.
    for param, model_field, label in BOOLEAN_FACETS:
        selected = _selected(filterset, param)
        counts = _counts(count_by(param, model_field), model_field)
        flag = facet(param, label, "radio")
        for value, option_label, key in (("true", _("Yes"), True), ("false", _("No"), False)):
            flag.options.append(Option(value, option_label, counts.get(key, 0), value in selected))
        facets.append(flag)
    return facets


def _add_missing_selected(facet: Facet, selected: set[str], cleaned) -> None:
    """Keep a ticked option in the panel even when no product has it under the other filters."""
    if cleaned is None:
        return
    present = {option.value for option in facet.options}
    for item in [cleaned] if hasattr(cleaned, "slug") else list(cleaned):
        if item == CATEGORY_NOT_KNOWN:
            value, label = CATEGORY_NOT_KNOWN, str(NOT_KNOWN)
        else:
            value, label = item.slug, item.name
        if value in selected and value not in present:
            facet.options.append(Option(value, label, 0, True))
