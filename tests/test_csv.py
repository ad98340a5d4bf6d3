"""/products/export.csv: the list's filters, one row per product, a header, correct quoting."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_script_prefix
from django.urls import reverse

from products import csv_export
from products.choices import Status
from products.csv_export import COLUMNS, product_url_maker
from products.models import Indication, Product, TherapeuticArea
from tests.factories import (
    MechanismOfActionFactory,
    ProductFactory,
    TherapeuticAreaFactory,
)

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
    shown = Product.objects.published().held_authorisation()
    assert {row["slug"] for row in exported} == set(shown.values_list("slug", flat=True))
    names = [row["name"] for row in exported]
    assert names == sorted(names, key=str.casefold) and len(set(names)) == shown.count()


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
    # Doubtful when first authorised (sources conflict); "no" in the EMA's register now.
    assert kymriah["accelerated_assessment_at_authorisation"] == "not known"
    assert kymriah["accelerated_assessment"] == "no"
    assert kymriah["conditional_at_authorisation"] == "no"
    holoclar = exported["holoclar"]
    assert (holoclar["conditional_at_authorisation"], holoclar["conditional"]) == ("yes", "no")
    assert kymriah["url"] == "http://testserver/products/kymriah/"
    beqvez = exported["beqvez"]
    assert beqvez["former_names"] == "Durveqtix"
    assert beqvez["status_date"] == "2025-05-15"
    assert exported["itvisma"]["authorisation_date"] == "2026"
    assert exported["zemcelpro"]["category"] == "not known"


def test_indications_are_joined_in_one_cell(client, catalogue):
    kymriah = next(row for row in rows(client.get(EXPORT)) if row["slug"] == "kymriah")
    indications = kymriah["indications"].split(" | ")
    product = Product.objects.get(slug="kymriah")
    assert len(indications) == product.indications.count() > 1
    assert indications[1] == "Relapsed or refractory diffuse large B-cell lymphoma"
    areas = kymriah["therapeutic_areas"].split(" | ")
    expected = TherapeuticArea.objects.filter(indications__product=product).distinct()
    assert "Lymphoma, Follicular" in areas and len(areas) == len(set(areas)) == expected.count()


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


def test_list_cells_follow_the_pages_order_and_name_a_shared_area_once(client, catalogue):
    alpha, mid, zeta = (
        TherapeuticAreaFactory(name=f"{word} area") for word in ("Alpha", "Mid", "Zeta")
    )
    mechanisms = [
        MechanismOfActionFactory(name="Zulu mechanism"),
        MechanismOfActionFactory(name="Alpha mechanism"),
    ]
    product = ProductFactory(name="Orderex", slug="orderex", mechanisms=mechanisms, indications=[])
    # Created out of order: the CSV follows position, then creation (id), as the pages do.
    second = Indication.objects.create(product=product, condition="Second", position=2)
    second.therapeutic_areas.set([zeta, alpha])
    first = Indication.objects.create(product=product, condition="First", position=1)
    first.therapeutic_areas.set([zeta, mid])
    also_second = Indication.objects.create(product=product, condition="Also second", position=2)
    also_second.therapeutic_areas.set([alpha])

    (row,) = rows(client.get(EXPORT + "?q=orderex"))
    assert row["indications"] == "First | Second | Also second"
    # Each indication's areas by name; Zeta (first and second) and Alpha (second and also
    # second) once each, where they first appear.
    assert row["therapeutic_areas"] == "Mid area | Zeta area | Alpha area"
    assert row["mechanisms"] == "Alpha mechanism | Zulu mechanism"
    assert row["indications"].split(" | ") == [i.condition for i in product.indications.all()]
    assert row["mechanisms"].split(" | ") == [m.name for m in product.mechanisms.all()]


def test_a_product_without_lists_holder_or_category_reads_not_known(client, catalogue):
    product = ProductFactory(
        name="Emptex", slug="emptex", holder=None, category=None, indications=[], is_prime=None
    )
    product.mechanisms.clear()
    (row,) = rows(client.get(EXPORT + "?q=emptex"))
    for column in ("indications", "therapeutic_areas", "mechanisms", "holder", "category", "prime"):
        assert row[column] == "not known", column
    assert row["former_names"] == "" and row["orphan"] == "yes" and row["conditional"] == "no"


def test_the_number_of_queries_does_not_grow_with_the_rows(
    client, catalogue, django_assert_max_num_queries
):
    def export() -> tuple[int, list[dict]]:
        with CaptureQueriesContext(connection) as queries:
            exported = rows(client.get(EXPORT + "?category=gene-therapy"))
        return len(queries), exported

    before, few = export()
    ProductFactory.create_batch(12)  # each with a holder, mechanism, indication, area, event
    with django_assert_max_num_queries(before):
        after, many = export()
    assert len(many) == len(few) + 12 and after == before
    # Validation of the category (1) and the export itself (1): events and the search columns
    # are not read.
    assert before == 2
    with CaptureQueriesContext(connection) as queries:
        content(client.get(EXPORT))
    sql = " ".join(query["sql"] for query in queries)
    assert "authorisationevent" not in sql and "search_" not in sql


def test_the_file_is_the_same_whatever_the_sizes_of_fetches_and_pieces(
    client, catalogue, monkeypatch
):
    whole = client.get(EXPORT + "?status=authorised&status=refused")
    expected = content(whole)
    monkeypatch.setattr(csv_export, "FETCH_SIZE", 3)
    monkeypatch.setattr(csv_export, "ROWS_PER_PIECE", 4)
    pieces = list(client.get(EXPORT + "?status=authorised&status=refused").streaming_content)
    assert len(pieces) > 5 and pieces[0].startswith("\ufeff".encode())
    assert b"".join(pieces) == expected


@pytest.mark.parametrize("prefix", ["/", "/catalogue/"])
@pytest.mark.parametrize("secure", [False, True])
def test_product_urls_are_the_absolute_urls_of_their_pages(rf, catalogue, prefix, secure):
    with override_script_prefix(prefix):
        request = rf.get(EXPORT, secure=secure)
        url_of = product_url_maker(request)
        for product in catalogue:
            expected = request.build_absolute_uri(product.get_absolute_url())
            assert url_of(product.slug) == expected


def test_status_and_update_time_read_as_the_orm_gives_them(client, catalogue):
    utc = datetime.timezone.utc
    last_microsecond = datetime.datetime(2025, 3, 30, 1, 59, 59, 999999, tzinfo=utc)
    Product.objects.filter(slug="kymriah").update(updated_at=last_microsecond)
    all_statuses = "&".join(f"status={status}" for status in Status.values)
    exported = rows(client.get(EXPORT + "?" + all_statuses))
    products = {product.slug: product for product in Product.objects.published()}
    assert len(exported) == len(products) > 40
    for row in exported:
        product = products[row["slug"]]
        assert row["status"] == product.get_status_display()
        assert row["updated_at"] == product.updated_at.isoformat(timespec="seconds")
    kymriah = next(row for row in exported if row["slug"] == "kymriah")
    assert kymriah["updated_at"] == "2025-03-30T01:59:59+00:00"  # cut to the second, not rounded


def test_the_csv_gives_the_reason_for_a_withdrawal_expiry_or_refusal(client, catalogue):
    import csv
    import io

    from django.urls import reverse

    response = client.get(
        reverse("products:product_export") + "?status=withdrawn&status=refused&status=authorised"
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(text))}
    assert "commercial reasons" in rows["provenge"]["status_reason"]
    assert "EMBARK" in rows["elevidys"]["status_reason"]
    assert rows["kymriah"]["status_reason"] == ""  # authorised: no reason to give
