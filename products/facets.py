"""Facets of the product list: each filter's options with their counts under the other filters.

A group's counts ignore the group's own selection, so the options of one group add up as OR
(as the filter does): ticking "Gene therapy" leaves the other categories' counts as they were.
The groups that count the same selection (every group not in use) and whose products have one
value each (category, holder, cell source, the flags) are counted together in one aggregate
query (``ProductQuerySet.count_by_each``); the others (therapeutic areas, mechanisms, status, a
group in use) cost one query each (``count_by`` or ``count_by_vocabulary``), whatever the
catalogue's size. Counts are cached for the catalogue version: paging, reordering or changing
one group's selection recomputes only the groups whose other filters changed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext_lazy as _

from products.caching import cached, catalogue_stamp
from products.choices import HELD_AUTHORISATION
from products.filters import CATEGORY_NOT_KNOWN, BooleanChoiceFilter, ProductFilterSet, is_empty
from products.flags import FLAGS
from products.querysets import ProductQuerySet, status_in, vocabulary_rows

NOT_KNOWN = _("Not known")
#: Parameters that change the order or the page of a list, never its counts.
UNFILTERED = ("ordering", "page", "page_size")
#: What the category group is counted by: its legal class, named, in the classes' order.
CATEGORY_FIELDS = ("category__slug", "category__name", "category__position")
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


#: The filter panel: each group's parameter and widget (``checkbox``, ``radio`` or ``select``),
#: in the panel's order. A group's label and help text are its filter's (``products/filters.py``).
#: The flags: at first authorisation (what "conditionally authorised" usually means), then in the
#: EMA's register now; accelerated assessment is a filter only.
PANEL: tuple[tuple[str, str], ...] = (
    ("category", "checkbox"),
    ("status", "checkbox"),
    ("therapeutic_area", "checkbox"),
    ("mechanism", "checkbox"),
    ("holder", "select"),
    ("cell_source", "radio"),
    *(
        (param, "radio")
        for flag in FLAGS
        if flag.param != "accelerated_assessment"
        for param in (flag.at_param, flag.param)
    ),
)


def _status_group(value: str) -> str:
    if value in HELD_AUTHORISATION:
        return str(_("Held an EU authorisation"))
    return str(_("Regulatory record"))


#: Headings inside a group of choices: the statuses that held an authorisation first.
OPTION_GROUPS = {"status": _status_group}


def _selected(filterset: ProductFilterSet, param: str) -> set[str]:
    return set(filterset.data.getlist(param))


class FacetBuilder:
    """The panel's groups for one filterset over ``products`` (the public products)."""

    def __init__(self, filterset: ProductFilterSet, products: ProductQuerySet):
        self.filterset = filterset
        self.products = products
        self.stamp = catalogue_stamp(getattr(filterset, "request", None))
        #: Rows of ``count_by`` counted beforehand for several groups at once, by (param, fields).
        self.batched: dict[tuple[str, tuple[str, ...]], list[dict]] = {}

    def others(self, left_out: Collection[str]) -> list:
        """The parameters that select the products counted, as a part of a cache key."""
        data = self.filterset.data
        return sorted(
            (key, sorted(data.getlist(key))) for key in data if key not in {*left_out, *UNFILTERED}
        )

    def counted(self, param: str, what: str, count) -> list[dict]:
        """``count(products under the other filters)``, cached for this catalogue version."""
        return cached(
            self.stamp,
            ("facet", param, what, self.others({param})),
            lambda: count(
                self.filterset.filter_queryset(self.products, exclude={param, "ordering"})
            ),
        )

    def count_by(self, param: str, *fields: str) -> list[dict]:
        if (rows := self.batched.get((param, fields))) is not None:
            return [dict(row) for row in rows]
        return self.counted(param, ",".join(fields), lambda selected: selected.count_by(*fields))

    def left_out(self, param: str) -> frozenset[str]:
        """What ``param``'s group leaves out of its selection: itself when in use. A parameter
        not in use selects nothing, so groups not in use share one selection; ``status`` always
        leaves itself out (without it the list holds the products that held an authorisation,
        the group counts every status)."""
        in_use = param in self.filterset.data or param == "status"
        return frozenset({param} if in_use else ())

    def single_valued_fields(self, param: str) -> tuple[str, ...] | None:
        """The fields ``facet`` counts ``param``'s group by, when a product has one value of
        each (then groups can be counted together); None for many-to-many groups."""
        filter_ = self.filterset.filters[param]
        if param == "category":
            return CATEGORY_FIELDS
        if "to_field_name" in filter_.extra:
            path = filter_.field_name
            if self.products.is_multi_valued(path):
                return None
            return (f"{path}__slug", f"{path}__name")
        return (filter_.field_name,)

    def count_together(self, params: Iterable[str]) -> None:
        """Count the single-valued groups that share a selection in one query per selection
        (``ProductQuerySet.count_by_each``), cached for this catalogue version."""
        shared: dict[frozenset[str], list[tuple[str, tuple[str, ...]]]] = {}
        for param in params:
            if (fields := self.single_valued_fields(param)) is not None:
                shared.setdefault(self.left_out(param), []).append((param, fields))
        self.count_status_with_the_others(shared)
        for left_out, groups in shared.items():
            if len(groups) < 2:
                continue  # one group alone: its own query, cached as before
            counts = cached(
                self.stamp,
                ("facets", sorted(left_out), self.others(left_out), groups),
                lambda left_out=left_out, groups=groups: self.filterset.filter_queryset(
                    self.products, exclude={*left_out, "ordering"}
                ).count_by_each([fields for _param, fields in groups]),
            )
            for (param, fields), rows in zip(groups, counts, strict=True):
                self.batched[param, fields] = rows

    def count_status_with_the_others(self, shared: dict) -> None:
        """Count the status group in the same pass as the groups not in use (``shared``'s
        empty selection), and take both out of ``shared``.

        The groups not in use count the products of the listed statuses (``filter_queryset``
        with every parameter); status counts every status under the same other parameters: the
        first selection is the second's products of the listed statuses, so one pass over the
        second counts both (``count_by_each``'s ``within``). Not with a search: a search of
        several words decides from the products it is given whether it wants all of them.
        """
        status = self.single_valued_fields("status")
        others = shared.get(frozenset(), [])
        if (
            self.filterset.form.cleaned_data.get("q")
            or ("status", status) not in shared.get(frozenset({"status"}), [])
            or not others
        ):
            return
        groups = [*others, ("status", status)]
        listed = self.filterset.listed_statuses()
        counts = cached(
            self.stamp,
            ("facets", "within", listed, self.others({"status"}), groups),
            lambda: self.filterset.filter_queryset(
                self.products, exclude={"status", "ordering"}
            ).count_by_each(
                [fields for _param, fields in groups],
                within=status_in(listed),
                whole={len(groups) - 1},
            ),
        )
        for (param, fields), rows in zip(groups, counts, strict=True):
            self.batched[param, fields] = rows
        del shared[frozenset()]
        shared[frozenset({"status"})].remove(("status", status))

    def facet(self, param: str, widget: str) -> Facet:
        filter_ = self.filterset.filters[param]
        facet = Facet(
            param,
            str(filter_.label),
            widget,
            errors=list(self.filterset.form.errors.get(param, [])),
            help_text=str(filter_.extra.get("help_text") or ""),
        )
        selected = _selected(self.filterset, param)
        if param == "category":
            self.add_categories(facet, selected)
        elif isinstance(filter_, BooleanChoiceFilter):
            self.add_yes_no(facet, selected, filter_.field_name)
        elif "to_field_name" in filter_.extra:
            self.add_vocabulary(facet, selected, filter_.field_name)
        else:
            self.add_choices(facet, selected, filter_.field_name, filter_.extra["choices"])
        return facet

    def add_categories(self, facet: Facet, selected: set[str]) -> None:
        """The four legal classes in their order, and "not known"."""
        rows = self.count_by(facet.param, *CATEGORY_FIELDS)
        rows.sort(
            key=lambda row: (row["category__position"] is None, row["category__position"] or 0)
        )
        for row in rows:
            value = row["category__slug"] or CATEGORY_NOT_KNOWN
            name = row["category__name"] or NOT_KNOWN
            facet.options.append(Option(value, name, row["count"], value in selected))
        self.add_missing_selected(facet, selected)

    def add_choices(self, facet: Facet, selected: set[str], field: str, choices) -> None:
        """A filter's choices in their order: those some product has, and those ticked."""
        counts = _counts(self.count_by(facet.param, field), field)
        group = OPTION_GROUPS.get(facet.param, lambda value: "")
        for value, label in choices:
            if counts.get(value) or value in selected:
                count = counts.get(value, 0)
                facet.options.append(Option(value, label, count, value in selected, group(value)))

    def add_yes_no(self, facet: Facet, selected: set[str], field: str) -> None:
        """Yes or no; unknown values are counted by neither."""
        counts = _counts(self.count_by(facet.param, field), field)
        for value, label, key in self.yes_no:
            facet.options.append(Option(value, label, counts.get(key, 0), value in selected))

    @cached_property
    def yes_no(self) -> tuple[tuple[str, str, bool], ...]:
        """The options of a flag's group, their labels translated once for the ten groups."""
        return (("true", str(_("Yes")), True), ("false", str(_("No")), False))

    def add_vocabulary(self, facet: Facet, selected: set[str], path: str) -> None:
        """Terms selected by slug, listed by (plain) name, the ticked ones on top."""
        if (fields := self.single_valued_fields(facet.param)) is not None:
            rows = vocabulary_rows(path, self.count_by(facet.param, *fields))
        else:
            rows = self.counted(
                facet.param, path, lambda products: products.count_by_vocabulary(path)
            )
        rows = [row for row in rows if row["slug"]]
        if len(rows) > MAX_OPTIONS:  # the busiest ones; the search box finds the others
            rows.sort(key=lambda row: -row["count"])
            rows = [
                row
                for rank, row in enumerate(rows)
                if rank < MAX_OPTIONS or row["slug"] in selected
            ]
            more = _("The %(count)s with the most products; search for any other by its name.")
            facet.help_text = " ".join(
                filter(None, [facet.help_text, str(more % {"count": MAX_OPTIONS})])
            )
        for row in rows:  # a therapeutic area by its plain name when it has one
            row["name"] = row.get("plain_name") or row["name"]
        rows.sort(key=lambda row: row["name"].casefold())
        for row in rows:
            facet.options.append(
                Option(row["slug"], row["name"], row["count"], row["slug"] in selected)
            )
        self.add_missing_selected(facet, selected)
        facet.options.sort(key=lambda option: not option.selected)  # ticked ones on top

    def add_missing_selected(self, facet: Facet, selected: set[str]) -> None:
        """Keep a ticked option in the panel even when no product has it under the others."""
        cleaned = self.filterset.form.cleaned_data.get(facet.param)
        if is_empty(cleaned):
            return
        present = {option.value for option in facet.options}
        for item in [cleaned] if hasattr(cleaned, "slug") else list(cleaned):
            if item == CATEGORY_NOT_KNOWN:
                value, label = CATEGORY_NOT_KNOWN, str(NOT_KNOWN)
            else:
                value, label = item.slug, item.name
            if value in selected and value not in present:
                facet.options.append(Option(value, label, 0, True))


def _counts(rows: list[dict], key: str) -> dict:
    return {row[key]: row["count"] for row in rows}


def build_facets(filterset: ProductFilterSet, products: ProductQuerySet) -> list[Facet]:
    """The filter panel's groups (``PANEL``) for ``filterset`` over ``products``."""
    builder = FacetBuilder(filterset, products)
    builder.count_together(param for param, _widget in PANEL)
    return [builder.facet(param, widget) for param, widget in PANEL]
