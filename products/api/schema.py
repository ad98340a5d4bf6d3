"""OpenAPI details drf-spectacular cannot guess from ``ProductFilterSet`` by itself.

A vocabulary filter (``category``, ``therapeutic_area``, ``mechanism``, ``holder``) selects by
slug; drf-spectacular cannot follow ``category__slug`` + ``to_field_name`` to a model field, and
lists no allowed values. This extension documents such a parameter as a slug (a string) whose
allowed values are today's slugs, read from the database when the schema is generated, so the
schema (and the interactive docs) always offer exactly the values the API accepts. Without a
database (``check --deploy`` generates the schema too) the parameter is documented without them.
"""

from __future__ import annotations

from django.db import DatabaseError
from django_filters import filters
from django_filters.conf import settings
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from products.filters import BooleanChoiceFilter

#: What a client needs to know about a filter's values beyond its label and help text.
VALUE_NOTES = (
    (
        BooleanChoiceFilter,
        "`true` or `false`; products whose value is not known, or not applicable, match neither.",
    ),
    (filters.DateFilter, "ISO format, inclusive; a malformed date is a 400."),
    (filters.MultipleChoiceFilter, "Repeat the parameter for OR."),
)


def describe_filter(filter_field: filters.Filter) -> str:
    """A parameter's description: the filter's label and help text, then how to give values."""
    parts = [f"{filter_field.label}.", str(filter_field.extra.get("help_text") or "")]
    parts += [note for kind, note in VALUE_NOTES if isinstance(filter_field, kind)]
    return " ".join(part for part in parts if part)


class VocabularyFilterExtension(DjangoFilterExtension):
    """django-filter's extension, plus enums for filters that select model rows by a field."""

    priority = 1  # preferred to drf-spectacular's own extension for DjangoFilterBackend

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            # A query parameter is never null: it is given or absent.
            parameter["schema"].pop("nullable", None)
        return parameters

    def _get_field_description(self, filter_field, description):
        """The filter's own words (``describe_filter``), then the list of its choices if any."""
        described = super()._get_field_description(filter_field, description) or ""
        _own, _sep, choices = described.partition("\n\n")
        if described.startswith("* `"):
            choices = described
        return describe_filter(filter_field) + (f"\n\n{choices}" if choices else "")

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        to_field_name = filter_field.extra.get("to_field_name")
        queryset = filter_field.extra.get("queryset")
        if not (
            isinstance(filter_field, (filters.ModelChoiceFilter, filters.ModelMultipleChoiceFilter))
            and to_field_name
            and queryset is not None
            and not callable(queryset)
        ):
            return super().resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
        try:
            values = list(
                queryset.order_by(to_field_name).values_list(to_field_name, flat=True).distinct()
            )
        except DatabaseError:
            # No database (e.g. `check --deploy` on a build machine): document the type only.
            values = []
        if values and filter_field.extra.get("null_label") is not None:
            # The value that selects the rows where the relation is not known.
            values.append(filter_field.extra.get("null_value", settings.NULL_CHOICE_VALUE))
        many = isinstance(filter_field, filters.ModelMultipleChoiceFilter)
        schema = build_basic_type(OpenApiTypes.STR)
        if many:
            schema = build_array_type(schema)
        unknown = "A value not listed here" if values else "An unknown value"
        description = (
            f"{describe_filter(filter_field)} A {to_field_name}; {unknown.lower()} is a 400."
        )
        return [
            build_parameter_type(
                name=field_name,
                required=filter_field.extra["required"],
                location=OpenApiParameter.QUERY,
                description=description,
                schema=schema,
                enum=values or None,  # an empty enum would be invalid OpenAPI
                explode=True if many else None,
                style="form" if many else None,
            )
        ]
