"""The comparison of 2 to 4 products (issue 16): page and API, errors keyed ``products``."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import example, given

from products.choices import Status
from products.compare import split_slugs
from tests.factories import ProductFactory
from tests.test_bad_input import SLOW_EXAMPLES, values

pytestmark = pytest.mark.django_db

PAGE = "/compare/"
API = "/api/v1/compare/"
CAR_T = "kymriah,yescarta,breyanzi"


def rows_by_key(body: dict) -> dict:
    return {row["key"]: row for row in body["rows"]}


def test_split_slugs_takes_commas_and_repeats_in_order_each_once():
    assert split_slugs(["kymriah, yescarta", "breyanzi", "kymriah", ""]) == [
        "kymriah",
        "yescarta",
        "breyanzi",
    ]


def test_the_api_compares_three_car_t_products_row_by_row(client, catalogue):
    response = client.get(f"{API}?products={CAR_T}")
    assert response.status_code == 200
    body = response.json()
    assert [product["slug"] for product in body["products"]] == ["kymriah", "yescarta", "breyanzi"]
    assert body["products"][0]["html_url"] == "http://testserver/products/kymriah/"
    assert body["products"][0]["url"] == "http://testserver/api/v1/products/kymriah/"
    rows = rows_by_key(body)
    assert list(rows) == [
        "category",
        "mechanisms",
        "platform",
        "target",
        "cell_source",
        "delivery",
        "indications",
        "therapeutic_areas",
        "holder",
        "status",
        "status_date",
        "authorisation_date",
        "orphan",
        "conditional",
        "exceptional_circumstances",
        "accelerated_assessment",
        "prime",
        "timeline",
    ]
    # Alike: all three are autologous CD19 CAR-T gene therapies.
    assert rows["category"] == {
        "key": "category",
        "label": "Category",
        "differs": False,
        "values": ["gene-therapy"] * 3,
    }
    assert rows["mechanisms"]["values"] == [["cd19-car-t"]] * 3
    assert rows["cell_source"]["values"] == ["autologous"] * 3
    assert rows["cell_source"]["differs"] is False
    # Different: holders and first authorisation dates.
    assert rows["holder"]["differs"] is True
    assert len(set(rows["holder"]["values"])) == 3
    assert rows["authorisation_date"]["values"][0] == "2018-08-23"
    assert rows["authorisation_date"]["differs"] is True
    assert {"kind": "initial-authorisation", "date": "2018-08-23"} in rows["timeline"]["values"][0]
    assert set(rows["orphan"]["values"][0]) == {"at_authorisation", "now"}


def test_differences_follow_the_values(client):
    ProductFactory(slug="alphex", target="CD19", is_prime=True, is_prime_at_authorisation=True)
    ProductFactory(slug="betex", target="CD19", is_prime=False, is_prime_at_authorisation=True)
    rows = rows_by_key(client.get(f"{API}?products=alphex,betex").json())
    assert rows["target"] == {
        "key": "target",
        "label": "Target",
        "differs": False,
        "values": ["CD19", "CD19"],
    }
    assert rows["prime"]["differs"] is True
    assert rows["prime"]["values"] == [
        {"at_authorisation": True, "now": True},
        {"at_authorisation": True, "now": False},
    ]
    assert rows["status_date"]["values"] == [None, None]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("products=kymriah,kymria", "No published product is called “kymria”."),
        ("products=kymriah,Yescarta", "No published product is called “Yescarta”."),
        ("products=kymriah,a%00b", "Null characters are not allowed."),
        ("products=kymriah,%25%27", "No published product is called “%'”."),
        (
            "products=kymriah,yescarta,breyanzi,tecartus,aucatzyl",
            "Compare at most 4 products at a time; 5 were named.",
        ),
        (
            "products=kymriah",
            "Name 2 to 4 products, separated by commas: products=kymriah,yescarta.",
        ),
        ("", "Name 2 to 4 products, separated by commas: products=kymriah,yescarta."),
        ("products=,,", "Name 2 to 4 products, separated by commas: products=kymriah,yescarta."),
    ],
)
def test_the_api_answers_400_naming_the_parameter(client, catalogue, query, message):
    response = client.get(f"{API}?{query}")
    assert response.status_code == 400
    assert response.json() == {"products": [message]}


def test_a_draft_is_unknown(client, catalogue):
    ProductFactory(slug="draftex", is_published=False)
    response = client.get(f"{API}?products=kymriah,draftex")
    assert response.json() == {"products": ["No published product is called “draftex”."]}
    page = client.get(f"{PAGE}?products=kymriah,draftex")
    assert page.status_code == 400
    assert "No published product is called “draftex”." in page.content.decode()


def test_the_api_comparison_is_a_304_when_unchanged(client, catalogue):
    first = client.get(f"{API}?products={CAR_T}")
    assert (
        client.get(f"{API}?products={CAR_T}", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    )


def test_the_page_shows_a_column_per_product_and_marks_differences(client, catalogue):
    response = client.get(f"{PAGE}?products={CAR_T}")
    assert response.status_code == 200
    html = response.content.decode()
    heads = re.findall(r'<a class="compare-table__name" href="([^"]+)">([^<]+)</a>', html)
    assert heads == [
        ("/products/kymriah/", "Kymriah"),
        ("/products/yescarta/", "Yescarta"),
        ("/products/breyanzi/", "Breyanzi"),
    ]
    assert "<h1>Compare Kymriah, Yescarta and Breyanzi</h1>" in html
    classes = re.findall(
        r'class="compare-row compare-row--\w+( compare-row--differs)?" data-key="(\w+)"', html
    )
    assert len(classes) == 18
    differing = {key for differs, key in classes if differs}
    alike = {key for differs, key in classes if not differs}
    assert {"holder", "authorisation_date", "timeline"} <= differing
    assert {"category", "mechanisms", "cell_source", "delivery"} <= alike
    assert not differing & alike
    # Flags: one plain sentence each, at authorisation and now.
    assert "An orphan medicine when first authorised" in html or "Not an orphan medicine" in html


def test_the_page_with_one_product_offers_products_like_it(client, catalogue):
    response = client.get(f"{PAGE}?products=kymriah")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Compare Kymriah with…" in html
    assert '<input type="checkbox" name="products" value="kymriah" checked>' in html
    offered = re.findall(r'<input type="checkbox" name="products" value="([a-z0-9-]+)">', html)
    # The other CD19 CAR-T products first, then the other gene therapies, each by name.
    assert offered[:4] == ["aucatzyl", "breyanzi", "tecartus", "yescarta"]
    assert "luxturna" in offered[4:]
    assert offered[4:] == sorted(offered[4:])
    assert "error-summary" not in html


def test_the_page_turns_ticked_boxes_into_one_address(client, catalogue):
    response = client.get(f"{PAGE}?products=kymriah&products=yescarta")
    assert response.status_code == 302
    assert response["Location"] == "/compare/?products=kymriah,yescarta"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("products=kymriah,nope", "No published product is called “nope”."),
        (
            "products=kymriah,yescarta,breyanzi,tecartus,aucatzyl",
            "Compare at most 4 products at a time; 5 were named.",
        ),
    ],
)
def test_a_bad_page_is_a_400_with_the_message_and_the_products_it_knew(
    client, catalogue, query, message
):
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<code>products</code>: {message}" in html
    assert '<input type="checkbox" name="products" value="kymriah" checked>' in html


def test_the_comparison_makes_a_bounded_number_of_queries(
    client, catalogue, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        assert client.get(f"{PAGE}?products=kymriah,yescarta,breyanzi,tecartus").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(f"{API}?products=kymriah,yescarta,breyanzi,tecartus").status_code == 200


def test_unknown_dates_read_not_known(client):
    ProductFactory(slug="knownex", authorisation_date=datetime.date(2020, 1, 2))
    ProductFactory(
        slug="unknownex", authorisation_date=None, status=Status.AUTHORISED, cell_source=None
    )
    html = client.get(f"{PAGE}?products=knownex,unknownex").content.decode()
    row = html.split('data-key="authorisation_date"')[1].split("</tr>")[0]
    assert '<time datetime="2020-01-02">2 January 2020</time>' in row
    assert "not known" in row
    cell_row = html.split('data-key="cell_source"')[1].split("</tr>")[0]
    assert "No cells" in cell_row and "not known" in cell_row


@SLOW_EXAMPLES
@given(value=values)
@example(value="kymriah," + "x" * 5000)
@example(value=",".join(["kymriah"] * 50))
@example(value="kymriah,%00")
def test_hostile_products_values_are_a_400_never_a_500(client, catalogue, value):
    for surface in (PAGE, API):
        response = client.get(f"{surface}?products={value}")
        assert response.status_code in {200, 400, 414}, (surface, value[:200], response.status_code)
        assert b"Traceback" not in response.content
