"""One place per filter: its label and help text live on ``ProductFilterSet``'s filter, and the
panel (facets), the chips of the filters in use and the OpenAPI schema read them from there."""

import pytest
import yaml
from django.core.cache import cache
from django.http import QueryDict
from django.urls import reverse

from products import facets
from products.filters import BooleanChoiceFilter, ProductFilterSet
from products.flags import FLAGS_BY_PARAM
from products.models import Product

FILTERS = ProductFilterSet.base_filters
LIST = reverse("products:product_list")
#: One valid value for each group of the panel.
PANEL_QUERY = (
    "category=combined&status=expired&therapeutic_area=fractures-cartilage&mechanism=autologous-"
    "chondrocyte-implantation&holder=vericel-denmark-aps&cell_source=autologous"
)


def help_text(name: str) -> str:
    return str(FILTERS[name].extra.get("help_text") or "")


@pytest.mark.parametrize("name", list(FILTERS))
def test_every_filter_has_a_label_and_every_filter_but_the_vocabularies_explains_itself(name):
    assert str(FILTERS[name].label).strip()
    if name not in {"holder", "mechanism", "therapeutic_area"}:  # a name says what they hold
        assert help_text(name).endswith(".")


def test_the_panel_names_existing_filters_once_each_with_a_known_widget():
    params = [param for param, _widget in facets.PANEL]
    assert len(params) == len(set(params)) and set(params) <= set(FILTERS)
    assert {widget for _param, widget in facets.PANEL} <= {"checkbox", "radio", "select"}


def test_the_panel_groups_carry_their_filters_label_and_help_text(catalogue):
    filterset = ProductFilterSet(QueryDict(), queryset=Product.objects.published())
    filterset.is_valid()
    groups = facets.build_facets(filterset, Product.objects.published())
    assert [group.param for group in groups] == [param for param, _widget in facets.PANEL]
    for group in groups:
        assert group.label == str(FILTERS[group.param].label)
        assert group.help_text.startswith(help_text(group.param))
        assert group.options, group.param
    prime = next(group for group in groups if group.param == "prime")
    assert prime.label == f"{FLAGS_BY_PARAM['prime'].label} now"


def test_a_chip_is_labelled_as_its_group_in_the_panel(client, catalogue):
    flags = "&".join(
        f"{param}=false"
        for param, _widget in facets.PANEL
        if isinstance(FILTERS[param], BooleanChoiceFilter)
    )
    response = client.get(f"{LIST}?{PANEL_QUERY}&{flags}")
    assert response.status_code == 200, response.context["errors"]
    panel = {group.param: group.label for group in response.context["facets"]}
    chips = {chip.label for chip in response.context["chips"]}
    assert len(chips) == len(panel) == len(facets.PANEL)
    assert chips == set(panel.values())
    assert [product.slug for product in response.context["page_obj"]] == ["maci"]


def test_the_date_and_sort_fields_of_the_page_read_their_filters(client, catalogue):
    page = client.get(LIST + "?authorised_from=2018-01-01").content.decode()
    for name in ("authorised_from", "authorised_to", "ordering"):
        assert f">{FILTERS[name].label}</label>" in page
    assert help_text("authorised_from").split(" (")[0] in page


def test_the_schema_describes_each_parameter_with_its_filters_words(client, catalogue):
    cache.clear()
    schema = yaml.safe_load(client.get(reverse("api:schema")).content)
    parameters = {
        parameter["name"]: parameter["description"]
        for parameter in schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    }
    for name, filter_ in FILTERS.items():
        assert parameters[name].startswith(f"{filter_.label}. {help_text(name)}".strip()), name
    assert "`true` or `false`" in parameters["prime_at_authorisation"]
    assert "Repeat the parameter for OR." in parameters["status"]
    assert "YYYY-MM-DD" in parameters["authorised_to"]


def test_a_new_filter_is_one_definition_and_one_panel_entry(catalogue, monkeypatch):
    """Adding a filter: the panel shows it, labelled and explained, with nothing else to edit."""

    class WithAtmp(ProductFilterSet):
        still_atmp = BooleanChoiceFilter(
            field_name="is_atmp", label="Still an ATMP", help_text="As the EMA classifies it."
        )

    monkeypatch.setattr(facets, "PANEL", (*facets.PANEL, ("still_atmp", "radio")))
    filterset = WithAtmp(QueryDict("still_atmp=true"), queryset=Product.objects.all())
    assert filterset.is_valid()
    group = facets.build_facets(filterset, Product.objects.published())[-1]
    assert (group.param, group.label, group.help_text) == (
        "still_atmp",
        "Still an ATMP",
        "As the EMA classifies it.",
    )
    yes = next(option for option in group.options if option.value == "true")
    assert yes.selected and yes.count == filterset.qs.filter(is_atmp=True).count() > 0
