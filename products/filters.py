"""`ProductFilterSet`: the one definition of the catalogue's filters (pages, CSV and API)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from products.choices import CellSource, Status
from products.models import (
    Category,
    Company,
    MechanismOfAction,
    Product,
    TherapeuticArea,
)


class ProductFilterSet(filters.FilterSet):
    """Query parameters of SPEC.md. An unknown value is a form error, never an empty list."""

    q = filters.CharFilter(method="filter_q", label=_("Search"))
    category = filters.ModelMultipleChoiceFilter(
        field_name="category__slug",
        to_field_name="slug",
        queryset=Category.objects.all(),
        label=_("Category"),
    )
    status = filters.MultipleChoiceFilter(
        choices=Status.choices, method="filter_status", label=_("Status")
    )
    therapeutic_area = filters.ModelMultipleChoiceFilter(
        field_name="indications__therapeutic_areas__slug",
        to_field_name="slug",
        queryset=TherapeuticArea.objects.all(),
        distinct=True,
        label=_("Therapeutic area"),
    )
    mechanism = filters.ModelMultipleChoiceFilter(
        field_name="mechanisms__slug",
        to_field_name="slug",
        queryset=MechanismOfAction.objects.all(),
        distinct=True,
        label=_("Mechanism of action"),
    )
    holder = filters.ModelChoiceFilter(
        field_name="holder__slug",
        to_field_name="slug",
        queryset=Company.objects.all(),
        label=_("Marketing authorisation holder"),
    )
    cell_source = filters.ChoiceFilter(choices=CellSource.choices, label=_("Cell source"))
    orphan = filters.BooleanFilter(field_name="is_orphan", label=_("Orphan medicine"))
    conditional = filters.BooleanFilter(field_name="is_conditional", label=_("Conditional"))
    exceptional_circumstances = filters.BooleanFilter(
        field_name="is_exceptional_circumstances", label=_("Exceptional circumstances")
    )
    prime = filters.BooleanFilter(field_name="is_prime", label=_("PRIME"))
    authorised_from = filters.DateFilter(
        field_name="authorisation_date", lookup_expr="gte", label=_("Authorised from")
    )
    authorised_to = filters.DateFilter(
        field_name="authorisation_date", lookup_expr="lte", label=_("Authorised until")
    )
    ordering = filters.OrderingFilter(
        fields=(("name", "name"), ("authorisation_date", "authorisation_date")),
        label=_("Sort by"),
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_queryset(self, queryset):
        # Without a status parameter, every list shows the products that held an authorisation.
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.held_authorisation()
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("ordering"):
            if self.form.cleaned_data.get("q"):
                queryset = queryset.order_by_relevance()
            else:
                queryset = queryset.order_by("name", "slug")
        return queryset

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=value) if value else queryset

    def filter_q(self, queryset, name, value):
        return queryset.search(value)
