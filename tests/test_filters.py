"""ProductFilterSet: one test per parameter of SPEC.md, and invalid values."""

import pytest
from django.http import QueryDict

from products.choices import HELD_AUTHORISATION, Status
from products.filters import BooleanChoiceFilter, ProductFilterSet
from products.flags import FLAGS
from products.models import Product

#: Every flag's filter, now and at authorisation, as the filterset defines them.
FLAG_FILTERS = [
    (name, filter_.field_name)
    for name, filter_ in ProductFilterSet.base_filters.items()
    if isinstance(filter_, BooleanChoiceFilter)
]

#: An invalid value of each parameter: an error named by the parameter (``query`` up to its
#: ``=``), so a 400 naming it on every surface the filterset drives (feeds, FHIR).
INVALID_QUERIES = [
    "category=cell-therapy",
    "status=approved",
    "therapeutic_area=nowhere",
    "mechanism=magic",
    "holder=nobody",
    "cell_source=xenogeneic",
    "orphan=maybe",
    "conditional=1",
    "exceptional_circumstances=yes",
    "prime=TRUE",
    "authorised_from=2020-13-01",
    "authorised_to=23/08/2018",
    "ordering=price",
    "q=nul%00byte",
]


def run(query: str) -> ProductFilterSet:
    return ProductFilterSet(QueryDict(query), queryset=Product.objects.published())


def slugs(query: str) -> list[str]:
    filterset = run(query)
    assert filterset.is_valid(), filterset.errors
    return [product.slug for product in filterset.qs]


def test_no_parameter_lists_products_that_held_an_authorisation_by_name(catalogue):
    listed = slugs("")
    held = Product.objects.published().filter(status__in=HELD_AUTHORISATION)
    assert len(listed) == held.count() > 0
    assert listed == sorted(listed)
    assert "elevidys" not in listed  # refused
    statuses = set(Product.objects.filter(slug__in=listed).values_list("status", flat=True))
    assert statuses == set(HELD_AUTHORISATION) & statuses and "authorised" in statuses


def test_an_unbound_filterset_still_applies_the_default_list(catalogue):
    filterset = ProductFilterSet(None, queryset=Product.objects.published())
    assert list(filterset.qs) == list(run("").qs) != []


def test_q_searches_and_orders_by_relevance(catalogue):
    assert slugs("q=kymria") == ["kymriah"]
    assert slugs("q=onasemnogene")[:2] == ["zolgensma", "itvisma"]


def test_q_too_long_is_an_error(catalogue):
    filterset = run("q=" + "a" * 201)
    assert not filterset.is_valid() and "q" in filterset.errors


def test_category_repeats_for_or(catalogue):
    assert set(slugs("category=tissue-engineered")) == {"chondrocelect", "holoclar", "spherox"}
    combined = slugs("category=tissue-engineered&category=combined")
    assert set(combined) == {"chondrocelect", "holoclar", "spherox", "maci"}


def test_category_not_known_selects_products_without_a_category(catalogue):
    assert slugs("category=not-known") == ["zemcelpro"]
    assert set(slugs("category=not-known&category=combined")) == {"zemcelpro", "maci"}


def test_status_selects_exactly_the_statuses_named(catalogue):
    assert set(slugs("category=gene-therapy&status=withdrawn")) == {"beqvez", "skysona", "zynteglo"}
    assert set(slugs("status=refused")) == {"elevidys", "heparesc"}
    assert "elevidys" in slugs("status=refused&status=authorised")


def test_therapeutic_area_repeats_for_or(catalogue):
    assert set(slugs("therapeutic_area=lymphoma-mantle-cell")) == {"tecartus"}
    both = slugs("therapeutic_area=lymphoma-mantle-cell&therapeutic_area=lymphoma-follicular")
    assert set(both) == {"tecartus", "kymriah", "yescarta", "breyanzi"}


def test_mechanism_repeats_for_or(catalogue):
    assert set(slugs("mechanism=bcma-car-t")) == {"abecma", "carvykti"}
    either = slugs("mechanism=bcma-car-t&mechanism=cd19-car-t")
    cd19 = slugs("mechanism=cd19-car-t")
    assert sorted(either) == sorted({"abecma", "carvykti", *cd19}) and cd19


def test_holder(catalogue):
    assert set(slugs("holder=kite-pharma-eu-bv")) == {"tecartus", "yescarta"}


def test_cell_source(catalogue):
    assert set(slugs("cell_source=allogeneic")) == {"alofisel", "ebvallo", "zalmoxis", "zemcelpro"}


def test_every_flag_has_its_two_filters():
    expected = {(flag.param, flag.field) for flag in FLAGS}
    expected |= {(flag.at_param, flag.at_field) for flag in FLAGS}
    assert set(FLAG_FILTERS) == expected and len(FLAG_FILTERS) == 2 * len(FLAGS)


@pytest.mark.parametrize(("param", "field"), FLAG_FILTERS)
def test_flags_take_true_or_false(catalogue, param, field):
    listed = Product.objects.published().held_authorisation()
    yes, no = slugs(f"{param}=true"), slugs(f"{param}=false")
    assert yes and no
    assert set(yes) == set(listed.filter(**{field: True}).values_list("slug", flat=True))
    assert set(no) == set(listed.filter(**{field: False}).values_list("slug", flat=True))


def test_authorised_from_and_to_are_inclusive(catalogue):
    assert "kymriah" in slugs("authorised_from=2018-08-23&authorised_to=2018-08-23")
    assert set(slugs("authorised_from=2018-08-23&authorised_to=2018-08-23")) == {
        "kymriah",
        "yescarta",
    }
    assert set(slugs("authorised_to=2010-01-01")) == {"chondrocelect"}


def test_ordering_values(catalogue):
    assert slugs("ordering=-name")[0] == "zynteglo"
    assert slugs("ordering=name")[0] == "abecma"
    assert slugs("ordering=authorisation_date")[0] == "chondrocelect"
    assert slugs("ordering=-authorisation_date")[0] == "itvisma"
    assert slugs("q=car-t&ordering=name")[0] == "abecma"
    assert slugs("ordering=-authorisation_date,name")[0] == "itvisma"
    assert slugs("ordering=,")[:2] == ["abecma", "adstiladrin"]  # empty: the default


@pytest.mark.parametrize("query", INVALID_QUERIES)
def test_an_invalid_value_is_an_error_named_by_its_parameter(catalogue, query):
    filterset = run(query)
    assert not filterset.is_valid()
    assert list(filterset.errors) == [query.split("=")[0]]


def test_a_range_that_ends_before_it_starts_is_an_error(catalogue):
    filterset = run("authorised_from=2024-01-01&authorised_to=2020-01-01")
    assert not filterset.is_valid()
    assert "authorised_to" in filterset.errors


def test_valid_parameters_still_apply_beside_an_invalid_one(catalogue):
    filterset = run("category=combined&orphan=maybe")
    assert not filterset.is_valid()
    assert [p.slug for p in filterset.qs] == ["maci"]


def test_filter_queryset_can_leave_out_parameters_for_facets(catalogue):
    filterset = run("category=combined&status=expired")
    filterset.is_valid()
    products = Product.objects.published()
    without_category = filterset.filter_queryset(products, exclude={"category"})
    assert set(p.slug for p in without_category) == {"glybera", "maci"}
    without_status = filterset.filter_queryset(products, exclude={"status"})
    assert set(p.slug for p in without_status) == {"maci", "hyalograft-c-autograft"}


@pytest.fixture
def varied_products(db):
    """Products whose single-valued facets vary, "not known" (None) included."""
    from products.choices import CellSource, Status
    from tests.factories import CategoryFactory, CompanyFactory, ProductFactory

    categories = [
        CategoryFactory(),
        CategoryFactory(slug="somatic-cell-therapy", name="Somatic cell therapy", position=2),
        None,
    ]
    holders = [CompanyFactory(), CompanyFactory(), None]
    statuses = [Status.AUTHORISED, Status.WITHDRAWN, Status.EXPIRED]
    sources = [CellSource.NONE, CellSource.AUTOLOGOUS, None]
    flags = [True, False, None]
    for n in range(18):
        ProductFactory(
            category=categories[n % 3],
            holder=holders[n % 5 % 3],
            status=statuses[n % 4 % 3],
            cell_source=sources[n % 7 % 3],
            is_orphan=flags[n % 3],
            is_prime=flags[n % 2],
            is_conditional_at_authorisation=flags[n % 5 % 3],
        )


@pytest.mark.parametrize(
    "query",
    ["", "status=withdrawn&status=authorised", "category=gene-therapy", "orphan=false", "q=zz"],
)
def test_groups_counted_together_count_as_each_group_alone(varied_products, query):
    """``count_by_each`` (one query with GROUPING SETS) gives every group's ``count_by`` rows."""
    filterset = run(query)
    filterset.is_valid()
    selected = filterset.filter_queryset(Product.objects.published(), exclude={"ordering"})
    groups = [
        ("category__slug", "category__name", "category__position"),
        ("status",),
        ("holder__slug", "holder__name"),
        ("cell_source",),
        ("is_orphan",),
        ("is_prime",),
        ("is_conditional_at_authorisation",),
    ]

    def rows(counted):
        return sorted((sorted(row.items(), key=str) for row in counted), key=str)

    together = selected.count_by_each(groups)
    alone = [selected.count_by(*fields) for fields in groups]
    assert [rows(counted) for counted in together] == [rows(counted) for counted in alone]
    assert query == "q=zz" or all(together), "every group has rows but for the empty search"
    assert sum(row["count"] for row in together[1]) == selected.count()


@pytest.mark.parametrize(
    "query", ["", "category=gene-therapy", "orphan=false&cell_source=autologous", "q=zz"]
)
@pytest.mark.parametrize("statuses", [HELD_AUTHORISATION, [Status.WITHDRAWN], [Status.REFUSED]])
def test_groups_counted_within_a_part_of_the_selection_count_as_that_part_alone(
    varied_products, query, statuses
):
    """``count_by_each(within=...)``: the groups count the products of the selection that meet
    the condition, the ``whole`` ones all of them (the panel's status group), in one pass."""
    from products.querysets import status_in

    filterset = run(query)
    filterset.is_valid()
    every_status = filterset.filter_queryset(
        Product.objects.published(), exclude={"status", "ordering"}
    )
    groups = [
        ("category__slug", "category__name", "category__position"),
        ("holder__slug", "holder__name"),
        ("is_orphan",),
        ("status",),
    ]

    def rows(counted):
        return sorted((sorted(row.items(), key=str) for row in counted), key=str)

    together = every_status.count_by_each(groups, within=status_in(statuses), whole={3})
    part = every_status.filter(status__in=statuses)
    alone = [part.count_by(*fields) for fields in groups[:3]] + [every_status.count_by("status")]
    assert [rows(counted) for counted in together] == [rows(counted) for counted in alone]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "category=gene-therapy&orphan=true",
        "status=withdrawn&status=refused&prime=false",
        "holder=nobody",
        "status=nope&orphan=true",
        "q=factorex&category=gene-therapy",
    ],
)
def test_the_panel_counted_together_is_the_panel_counted_group_by_group(varied_products, query):
    """The filter panel's counts are the same whether groups sharing a selection are counted in
    one query or each in its own."""
    from products.facets import PANEL, FacetBuilder, build_facets

    def panel(facets):
        return [
            (facet.param, [(o.value, o.label, o.count, o.selected) for o in facet.options])
            for facet in facets
        ]

    filterset = run(query)
    filterset.is_valid()
    together = build_facets(filterset, Product.objects.published())
    alone = FacetBuilder(filterset, Product.objects.published())
    assert panel(together) == panel([alone.facet(param, widget) for param, widget in PANEL])
    assert sum(o.count for facet in together if facet.param == "status" for o in facet.options)
