"""/products/export.csv: the list's filters, one row per product, a header, correct quoting."""

import csv
import io

import pytest
from django.urls import reverse

from products.csv_export import COLUMNS
from tests.factories import ProductFactory

EXPORT = reverse("products:product_export")


def content(response) -> bytes:
    assert response.streaming  # written while it is sent, never held whole in memory
    return b"".join(response.streaming_content)


def rows(response) -> list[dict]:
    text = content(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_is_a_csv_attachment_with_a_header_row(client, catalogue):
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="atmp-catalogue.csv"'
    body = content(response)
    assert body.startswith("\ufeff".encode())  # spreadsheets detect UTF-8
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header == [name for name, _value in COLUMNS] + ["url", "updated_at"]


def test_export_without_parameters_is_the_default_list_one_row_per_product(client, catalogue):
    exported = rows(client.get(EXPORT))
    assert len(exported) == 32
    names = [row["name"] for row in exported]
    assert names == sorted(names, key=str.casefold) and len(set(names)) == 32


def test_a_row_holds_the_products_facts(client, catalogue):
    exported = {row["slug"]: row for row in rows(client.get(EXPORT))}
    kymriah = exported["kymriah"]
    assert kymriah["inn"] == "tisagenlecleucel"
    assert kymriah["ema_product_number"] == "EMEA/H/C/004090"
    assert kymriah["category"] == "Gene therapy medicinal product"
    assert kymriah["status"] == "Authorised"
    assert kymriah["authorisation_date"] == "2018-08-23"
    assert kymriah["holder"] == "Novartis Europharm Limited"
    assert kymriah["mechanisms"] == "CD19-directed CAR-T cells"
    assert kymriah["orphan"] == "yes" and kymriah["conditional"] == "no"
    assert kymriah["accelerated_assessment"] == "not known"
    assert kymriah["url"] == "http://testserver/products/kymriah/"
    beqvez = exported["beqvez"]
    assert beqvez["former_names"] == "Durveqtix"
    assert beqvez["status_date"] == "2025-05-15"
    assert exported["itvisma"]["authorisation_date"] == "2026"
    assert exported["zemcelpro"]["category"] == "not known"


def test_indications_are_joined_in_one_cell(client, catalogue):
    kymriah = next(row for row in rows(client.get(EXPORT)) if row["slug"] == "kymriah")
    indications = kymriah["indications"].split(" | ")
    assert len(indications) == 3
    assert indications[1] == "Relapsed or refractory diffuse large B-cell lymphoma"
    areas = kymriah["therapeutic_areas"].split(" | ")
    assert "Lymphoma, Follicular" in areas and len(areas) == len(set(areas)) == 3


def test_commas_quotes_and_newlines_are_quoted(client, catalogue):
    ProductFactory(
        name='Quoted "Name", Ltd',
        slug="quoted-name",
        inn="line one\nline two",
        route_of_administration='=HYPERLINK("http://evil")',
    )
    text = content(client.get(EXPORT + "?q=quoted")).decode("utf-8-sig")
    assert '"Quoted ""Name"", Ltd"' in text
    assert '"line one\nline two"' in text
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["name"] == 'Quoted "Name", Ltd'
    assert row["inn"] == "line one\nline two"
    assert row["route_of_administration"] == '\'=HYPERLINK("http://evil")'  # not a formula


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=gene-therapy&status=withdrawn", {"beqvez", "skysona", "zynteglo"}),
        ("q=kymria", {"kymriah"}),
        ("therapeutic_area=hemophilia-b", {"beqvez", "hemgenix"}),
        ("mechanism=bcma-car-t", {"abecma", "carvykti"}),
        ("status=refused", {"elevidys", "heparesc"}),
        ("authorised_to=2010-01-01", {"chondrocelect"}),
    ],
)
def test_export_takes_the_lists_parameters(client, catalogue, query, expected):
    exported = rows(client.get(EXPORT + "?" + query))
    assert {row["slug"] for row in exported} == expected
    page = client.get(reverse("products:product_list") + "?" + query + "&page_size=100")
    assert [row["slug"] for row in exported] == [p.slug for p in page.context["page_obj"]]


def test_export_follows_the_ordering(client, catalogue):
    exported = rows(client.get(EXPORT + "?ordering=-authorisation_date"))
    assert exported[0]["slug"] == "itvisma" and exported[-1]["slug"] == "adstiladrin"


@pytest.mark.parametrize(
    "query", ["category=cell-therapy", "authorised_from=2020-99-01", "orphan=maybe"]
)
def test_an_invalid_parameter_is_a_400_with_a_plain_message(client, catalogue, query):
    response = client.get(EXPORT + "?" + query)
    assert response.status_code == 400
    assert not response.streaming  # checked before the file begins
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("The CSV was not made: " + query.split("=")[0] + ": ")
    assert body.count("\n") == 1
