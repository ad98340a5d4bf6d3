"""`ProductFilterSet`: the one definition of the catalogue's filters (pages, CSV and API).

Each filter carries its ``label`` and ``help_text``: the list's filter panel
(``products/facets.py``), the chips of the filters in use, the OpenAPI schema's parameter
descriptions (``products/api/schema.py``) and the tests read them from here. Adding a filter is
one definition below, plus its ``(parameter, widget)`` in ``facets.PANEL`` to show it in the panel.
"""

from __future__ import annotations

from collections.abc import Collection

from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from products.choices import HELD_AUTHORISATION, CellSource, Status
from products.flags import FLAGS_BY_PARAM, Flag
from products.models import Category, Product

#: The ``category`` value of products whose category no source states (Zemcelpro).
CATEGORY_NOT_KNOWN = "not-known"
ISO_DATE = ["%Y-%m-%d"]
#: Control characters no page, CSV cell or feed (XML 1.0) can carry; NUL is Django's own check.
NO_CONTROL_CHARACTERS = RegexValidator(
    r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]",
    inverse_match=True,
    message=_("Search text cannot contain control characters."),
)


def is_empty(value) -> bool:
    """Whether a cleaned value selects nothing, so its filter leaves a queryset as it is.

    A vocabulary's field cleans an absent parameter to ``queryset.none()``, which the filters
    test with ``not value``: that evaluates it, compiling the vocabulary's query (its ordering,
    its ``EXISTS``) only to learn it is empty, for every filter and facet group of a request.
    """
    if isinstance(value, QuerySet):
        return value.query.is_empty()
    return value in (None, "", [], ())


class BooleanChoiceFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is an error (django-filter's own ignores it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", (("true", _("Yes")), ("false", _("No"))))
        kwargs.setdefault("coerce", lambda value: value == "true")
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)


def flag_filter(flag: Flag, *, at: bool = False) -> BooleanChoiceFilter:
    """``orphan=true`` (the EMA's register now) or ``orphan_at_authorisation=true``."""
    if at:
        return BooleanChoiceFilter(
            field_name=flag.at_field,
            label=_("%s at authorisation") % flag.label,
            help_text=_("When the product was first authorised."),
        )
    return BooleanChoiceFilter(
        field_name=flag.field,
        label=_("%s now") % flag.label,
        help_text=_("As the EMA's register says today."),
    )


def vocabulary_filter(path: str, *, many: bool = True, **kwargs) -> filters.ModelChoiceFilter:
    """Terms by slug: those a published product uses. ``field_name`` is the vocabulary's path
    from a product (the panel counts by it)."""
    kind = filters.ModelMultipleChoiceFilter if many else filters.ModelChoiceFilter
    return kind(
        field_name=path,
        to_field_name="slug",
        queryset=Product.objects.published().terms_in_use(path),
        **kwargs,
    )


class ProductOrderingFilter(filters.OrderingFilter):
    """SPEC.md's orderings; unknown dates sort last either way (``ProductQuerySet.ordered``)."""

    def filter(self, qs, value):
        keys = [key for key in value or () if key]  # "ordering=," cleans to ["", ""]
        return qs.ordered(keys) if keys else qs


class ProductFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("authorised_from"), cleaned.get("authorised_to")
        if start and end and end < start:
            self.add_error(
                "authorised_to", _("The end of the range is before its start (%s).") % start
            )
        return cleaned


class ProductFilterSet(filters.FilterSet):
    """Query parameters of SPEC.md. An unknown value is a form error, never an empty list.

    The vocabularies accept the terms that a published product uses: a draft's new holder,
    mechanism or therapeutic area is unknown to the public, as any other unknown slug.
    """

    q = filters.CharFilter(
        method="filter_q",
        max_length=200,
        validators=[NO_CONTROL_CHARACTERS],
        label=_("Search"),
        help_text=_(
            "Free text over brand name (and former names), INN, holder, indications, mechanism "
            "and target; tolerant of misspellings. Without a sort order, the best matches come "
            "first."
        ),
    )
    category = filters.ModelMultipleChoiceFilter(
        field_name="category__slug",
        to_field_name="slug",
        queryset=Category.objects.all(),
        distinct=False,  # a foreign key cannot repeat a product; DISTINCT would sort every column
        null_label=_("Not known"),
        null_value=CATEGORY_NOT_KNOWN,
        label=_("Category"),
        help_text=_(
            "The four legal classes of advanced therapies; “Not known” where no source says."
        ),
    )
    status = filters.MultipleChoiceFilter(
        choices=Status.choices,
        method="filter_status",
        label=_("Status"),
        help_text=_(
            "With no status chosen, the list holds every product that holds or has held an EU "
            "marketing authorisation."
        ),
    )
    therapeutic_area = vocabulary_filter(
        "indications__therapeutic_areas",
        label=_("Therapeutic area"),
        method="filter_therapeutic_area",
    )
    mechanism = vocabulary_filter(
        "mechanisms", label=_("Mechanism of action"), method="filter_mechanism"
    )
    holder = vocabulary_filter("holder", label=_("Marketing authorisation holder"), many=False)
    cell_source = filters.ChoiceFilter(
        choices=CellSource.choices,
        label=_("Cell source"),
        help_text=_("Whose cells the product is made of."),
    )
    # The flags in the EMA's register now, and when first authorised (products/flags.py).
    orphan = flag_filter(FLAGS_BY_PARAM["orphan"])
    conditional = flag_filter(FLAGS_BY_PARAM["conditional"])
    exceptional_circumstances = flag_filter(FLAGS_BY_PARAM["exceptional_circumstances"])
    accelerated_assessment = flag_filter(FLAGS_BY_PARAM["accelerated_assessment"])
    prime = flag_filter(FLAGS_BY_PARAM["prime"])
    orphan_at_authorisation = flag_filter(FLAGS_BY_PARAM["orphan"], at=True)
    conditional_at_authorisation = flag_filter(FLAGS_BY_PARAM["conditional"], at=True)
    exceptional_circumstances_at_authorisation = flag_filter(
        FLAGS_BY_PARAM["exceptional_circumstances"], at=True
    )
    accelerated_assessment_at_authorisation = flag_filter(
        FLAGS_BY_PARAM["accelerated_assessment"], at=True
    )
    prime_at_authorisation = flag_filter(FLAGS_BY_PARAM["prime"], at=True)
    authorised_from = filters.DateFilter(
        method="filter_authorised_from",
        input_formats=ISO_DATE,
        label=_("Authorised from"),
        help_text=_(
            "First authorised on or after this day (YYYY-MM-DD). A date known only as a year or "
            "a month counts when all of it is in the range."
        ),
    )
    authorised_to = filters.DateFilter(
        method="filter_authorised_to",
        input_formats=ISO_DATE,
        label=_("Authorised until"),
        help_text=_("First authorised on or before this day (YYYY-MM-DD)."),
    )
    ordering = ProductOrderingFilter(
        choices=[
            ("name", _("Name (A–Z)")),
            ("-name", _("Name (Z–A)")),
            ("authorisation_date", _("Authorisation date (oldest first)")),
            ("-authorisation_date", _("Authorisation date (newest first)")),
        ],
        label=_("Sort by"),
        help_text=_("By name unless chosen; with a search, the best matches first."),
    )

    class Meta:
        model = Product
        form = ProductFilterForm
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        # Always bound: no parameters at all still means the default list (and its ordering).
        super().__init__(QueryDict() if data is None else data, *args, **kwargs)

    def get_form_class(self):
        """django-filter's form class, made once per process and class (django-filter makes a
        class, and a field per filter, for every filterset). No field depends on the request
        (the vocabularies' querysets are not callables), and a form deep-copies its class's
        fields, querysets included, when it is made."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_queryset(self, queryset, *, exclude: Collection[str] = ()):
        """Apply every valid parameter except those named in ``exclude`` (used by facets).

        Without a ``status`` parameter the list holds the products that held an authorisation;
        without ``ordering`` it comes by name, or by relevance when searched.
        """
        cleaned = self.form.cleaned_data
        if "status" not in exclude and not cleaned.get("status"):
            queryset = queryset.held_authorisation()
        for name, value in cleaned.items():
            if name not in exclude and not is_empty(value):
                queryset = self.filters[name].filter(queryset, value)
        if not cleaned.get("ordering") and "ordering" not in exclude:
            if cleaned.get("q"):
                queryset = queryset.order_by_relevance()
            else:
                queryset = queryset.order_by("name", "slug")
        return queryset

    def listed_statuses(self) -> list[str]:
        """The statuses the list holds: those chosen, or with none (or an invalid choice) those
        of the products that held an authorisation, as ``filter_queryset`` selects them."""
        return [
            str(status) for status in self.form.cleaned_data.get("status") or HELD_AUTHORISATION
        ]

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=value) if value else queryset

    def filter_therapeutic_area(self, queryset, name, value):
        # An absent parameter cleans to an empty queryset, which django-filter passes on.
        if not value:
            return queryset
        return queryset.in_therapeutic_area_ids([area.pk for area in value])

    def filter_mechanism(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.with_mechanisms(mechanism.slug for mechanism in value)

    def filter_authorised_from(self, queryset, name, value):
        return queryset.authorised_from(value)

    def filter_authorised_to(self, queryset, name, value):
        return queryset.authorised_to(value)

    def filter_q(self, queryset, name, value):
        return queryset.search(value)
