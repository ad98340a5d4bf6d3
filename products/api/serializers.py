"""JSON shapes of the API: explicit fields, nested vocabulary, absolute links; read-only.

An unknown fact is ``null``: a text the catalogue leaves empty is sent as ``null`` rather than
``""``, so that a client tests one thing (``is None``) for "not known".
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from products import models, sources
from products.flags import FLAGS, Flag, indication_orphan_now
from products.models import Product


class OptionalCharField(serializers.CharField):
    """A text that may be empty in the catalogue: sent as ``null`` when empty (not known)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


class OptionalURLField(OptionalCharField, serializers.URLField):
    """A URL that may be empty in the catalogue: ``null`` when empty."""


def absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class VocabularyRefSerializer(serializers.Serializer):
    """A vocabulary term inside a product: its stable slug and its name."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class CategoryRefSerializer(VocabularyRefSerializer):
    abbreviation = serializers.CharField(read_only=True, help_text="GTMP, sCTMP, TEP or cATMP.")


def flag_field(flag: Flag, *, at: bool = False) -> serializers.BooleanField:
    when = "when first authorised" if at else "in the EMA's register now"
    return serializers.BooleanField(
        source=flag.at_field if at else flag.field,
        allow_null=True,
        read_only=True,
        help_text=f"{flag.label}, {when}; null where not known"
        + (" or never authorised." if flag.needs_authorisation or at else "."),
    )


#: The five flags (products/flags.py): the EMA register's value now, then at first authorisation;
#: null where not known or, for an application never authorised, not applicable.
FLAG_FIELDS = {
    **{flag.param: flag_field(flag) for flag in FLAGS},
    **{flag.at_param: flag_field(flag, at=True) for flag in FLAGS},
}
FlagFields = type("FlagFields", (serializers.Serializer,), dict(FLAG_FIELDS))


class IndicationSerializer(serializers.ModelSerializer):
    condition = serializers.CharField(read_only=True)
    population = OptionalCharField(help_text="Who may receive it; null where not stated.")
    therapeutic_area = VocabularyRefSerializer(
        source="therapeutic_areas",
        many=True,
        read_only=True,
        help_text=(
            "The EMA's therapeutic-area (MeSH) terms of this indication: a list, because one "
            "condition may carry several terms (empty where none is recorded)."
        ),
    )
    orphan = serializers.SerializerMethodField(
        help_text="Orphan designation for this indication in the EMA's register now: false once "
        "the product's designation is no longer listed; null where not known.",
    )
    orphan_at_authorisation = serializers.BooleanField(
        source="is_orphan",
        allow_null=True,
        read_only=True,
        help_text="Orphan designation for this indication when it was authorised (or applied "
        "for); null where not known.",
    )

    class Meta:
        model = models.Indication
        fields = (
            "condition",
            "population",
            "therapeutic_area",
            "orphan",
            "orphan_at_authorisation",
        )

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_orphan(self, indication: models.Indication) -> bool | None:
        return indication_orphan_now(indication, indication.product)


class SourceLinkSerializer(serializers.Serializer):
    """A source as the product's page lists it: a title to show, its link and its publisher."""

    title = serializers.CharField(
        read_only=True, help_text='What the source is, e.g. "EMA: orphan designation EU/3/08/579".'
    )
    url = OptionalURLField(help_text="Its address; null for a document without one.")
    publisher = OptionalCharField(
        help_text='Who published it: "European Medicines Agency", "European Commission", a '
        "company or a site; null where not known."
    )


class EventSerializer(serializers.ModelSerializer):
    date = serializers.DateField(
        allow_null=True,
        read_only=True,
        help_text="Exact date (YYYY-MM-DD); null where only "
        "the year or month is known (see date_partial) or nothing is.",
    )
    date_partial = OptionalCharField(
        help_text="Year (2011) or year and month (2012-04) where the exact date is not known."
    )
    known_by = serializers.DateField(
        allow_null=True,
        read_only=True,
        help_text="Where neither date nor date_partial is known: the date by which the event "
        "had happened (e.g. the date of the EMA export that first shows it).",
    )
    note = OptionalCharField()
    confidence = OptionalCharField(
        help_text="`verified` (the EMA, the Commission or the EMA's export states it) or "
        "`single-source` (one source outside the EMA, such as a company announcement); null for "
        "the catalogue's own record."
    )

    source_links = serializers.SerializerMethodField(
        help_text="The event's sources (the raw `sources`) as titled links, the EMA's first."
    )

    class Meta:
        model = models.AuthorisationEvent
        fields = (*models.AuthorisationEvent.FACT_FIELDS, "source_links")

    @extend_schema_field(SourceLinkSerializer(many=True))
    def get_source_links(self, event: models.AuthorisationEvent) -> list[dict]:
        return SourceLinkSerializer(sources.ordered_sources(event.sources), many=True).data


class ProductSerializer(FlagFields, serializers.ModelSerializer):
    """One ATMP. Relations are nested; ``events`` is the authorisation timeline in time order."""

    inn = OptionalCharField(help_text="International non-proprietary (or common) name.")
    category = CategoryRefSerializer(
        read_only=True, allow_null=True, help_text="Legal ATMP class; null where not known."
    )
    mechanisms = VocabularyRefSerializer(many=True, read_only=True)
    platform = OptionalCharField(help_text="Vector or cell type, e.g. AAV9, CAR-T.")
    target = OptionalCharField(help_text="Target antigen or transgene, e.g. CD19 CAR.")
    route_of_administration = OptionalCharField()
    indications = IndicationSerializer(many=True, read_only=True)
    holder = VocabularyRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="Current marketing authorisation holder (or applicant); null where not known.",
    )
    status_reason = OptionalCharField()
    authorisation_date_partial = OptionalCharField(
        help_text="Year or year and month of the first authorisation where the exact date is "
        "not known (authorisation_date is then null)."
    )
    atc_code = OptionalCharField()
    epar_url = OptionalURLField(help_text="The EMA's page of the product.")
    description = OptionalCharField(help_text="How it works, in plain words.")
    events = EventSerializer(
        source="timeline",
        many=True,
        read_only=True,
        help_text="The authorisation timeline, oldest first.",
    )
    source_links = serializers.SerializerMethodField(
        help_text="The sources as the product's page lists them, titled, the European Medicines "
        "Agency's first, then the European Commission's, then the others; each page once, the "
        "EPAR (epar_url) included. `sources` keeps the entries as the curators wrote them."
    )
    unverified = serializers.SerializerMethodField(
        help_text="Facts not yet checked against sources, in plain words (empty when none)."
    )
    url = serializers.HyperlinkedIdentityField(
        view_name="api:product-detail", lookup_field="slug", help_text="This resource."
    )
    html_url = serializers.SerializerMethodField(help_text="The product's public page.")

    class Meta:
        model = Product
        fields = (
            "slug",
            "name",
            "aliases",
            "inn",
            "ema_product_number",
            "category",
            "mechanisms",
            *Product.MODALITY_FIELDS,
            "indications",
            "holder",
            *Product.STATUS_FIELDS,
            *FLAG_FIELDS,
            "atc_code",
            "epar_url",
            "description",
            "events",
            "sources",
            "source_links",
            "unverified",
            "url",
            "html_url",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, product: Product) -> str:
        return absolute(self.context.get("request"), product.get_absolute_url())

    @extend_schema_field(SourceLinkSerializer(many=True))
    def get_source_links(self, product: Product) -> list[dict]:
        return SourceLinkSerializer(sources.product_sources(product), many=True).data

    def get_unverified(self, product: Product) -> list[str]:
        return [sources.plain_unverified(entry) for entry in product.unverified_fields]


class VocabularySerializer(serializers.ModelSerializer):
    """A vocabulary term with the number of published products in the default list."""

    #: The product filter that selects this term's products.
    filter_parameter: str = ""

    product_count = serializers.IntegerField(
        read_only=True,
        help_text="Published products with this term that hold or have held an EU marketing "
        "authorisation (the default list; products_url lists them).",
    )
    products_url = serializers.SerializerMethodField(
        help_text="The API's list of this term's products."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_products_url(self, term) -> str:
        query = urlencode({self.filter_parameter: term.slug})
        return absolute(self.context.get("request"), f"{reverse('api:product-list')}?{query}")


class PageLinkMixin(serializers.Serializer):
    html_url = serializers.SerializerMethodField(help_text="The term's public page.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, term) -> str:
        return absolute(self.context.get("request"), term.get_absolute_url())


def detail_url(view_name: str) -> serializers.HyperlinkedIdentityField:
    return serializers.HyperlinkedIdentityField(view_name=view_name, lookup_field="slug")


def vocabulary_serializer(
    name: str,
    model: type[models.NamedVocabulary],
    *,
    basename: str,
    filter_parameter: str,
    own_fields: tuple[str, ...] = (),
    has_page: bool = False,
) -> type[VocabularySerializer]:
    """The serializer of one vocabulary, named ``name`` (the schema's component): the term's
    slug, name and ``own_fields``, its ``product_count``, and links to its API resource (the
    router's ``basename``), its public page where it has one and its products."""
    fields = (
        "slug",
        "name",
        *own_fields,
        "product_count",
        "url",
        *(("html_url",) if has_page else ()),
        "products_url",
    )
    bases = (PageLinkMixin, VocabularySerializer) if has_page else (VocabularySerializer,)
    return type(
        name,
        bases,
        {
            "__module__": __name__,
            "filter_parameter": filter_parameter,
            "url": detail_url(f"api:{basename}-detail"),
            "Meta": type("Meta", (), {"model": model, "fields": fields}),
        },
    )


CategorySerializer = vocabulary_serializer(
    "CategorySerializer",
    models.Category,
    basename="category",
    filter_parameter="category",
    own_fields=("abbreviation", "definition"),
    has_page=True,
)
TherapeuticAreaSerializer = vocabulary_serializer(
    "TherapeuticAreaSerializer",
    models.TherapeuticArea,
    basename="therapeutic-area",
    filter_parameter="therapeutic_area",
    has_page=True,
)
MechanismSerializer = vocabulary_serializer(
    "MechanismSerializer",
    models.MechanismOfAction,
    basename="mechanism",
    filter_parameter="mechanism",
    own_fields=("description",),
)
HolderSerializer = vocabulary_serializer(
    "HolderSerializer", models.Company, basename="holder", filter_parameter="holder"
)


class DetailSerializer(serializers.Serializer):
    """404, 405 or 429: a sentence saying what went wrong."""

    detail = serializers.CharField()
