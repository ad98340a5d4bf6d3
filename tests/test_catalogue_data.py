"""The loaded catalogue agrees with the verified fact sheet, product by product."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from products.importers.factsheet import build_catalogue
from products.models import Product

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SHEET = json.loads((FIXTURES / "source" / "ema_atmps.json").read_text(encoding="utf-8"))
AUTHORISED = [r for r in SHEET if r["record_type"] == "eu_authorised_atmp"]
NEGATIVE = [
    r
    for r in SHEET
    if r["record_type"] == "negative_or_withdrawn_application"
    and r["name"] != "Glybera (initial negative opinions)"
]
# The sheet's category wording -> the catalogue's slug (an independent, explicit table).
CATEGORY = {
    "gene therapy medicinal product": "gene-therapy",
    "somatic cell therapy medicinal product": "somatic-cell-therapy",
    "tissue engineered product": "tissue-engineered",
    "combined ATMP": "combined",
}
# Negative outcomes: the status each one ends in (from `outcome` and `key_dates`).
NEGATIVE_STATUS = {
    "Elevidys": ("refused", "2025-09-24"),
    "Heparesc": ("refused", "2015-12-21"),
    "Cerepro": ("application-withdrawn", "2010-03-08"),
    "Hyalograft C autograft": ("application-withdrawn", "2013-01-14"),
    "Lumevoq": ("application-withdrawn", "2023-04-20"),
    "Roctavian (first application)": ("application-withdrawn", "2020-11-04"),
    "Fanskya (RP-L102)": ("application-withdrawn", "2025-08-22"),
    "Jelrix": ("under-re-examination", None),
    "Amtagvi": ("application-withdrawn", "2025-07-22"),
    "Artobend": ("application-withdrawn", "2020-11-18"),
    "Contusugene Ladenovec Gendux": ("application-withdrawn", "2009-06-12"),
    "OraNera (previously Caomecs)": ("application-withdrawn", "2013-03-14"),
    "Luxceptar (ATIR101)": ("application-withdrawn", "2019-11-06"),
    "Sitoiganap": ("application-withdrawn", "2022-05-02"),
}


def find(record) -> Product:
    if record["ema_product_number"]:
        return Product.objects.get(ema_product_number=record["ema_product_number"])
    return Product.objects.get(name=record["name"].split(" (")[0])


def iso(value):
    return value.isoformat() if value else None


def test_every_record_of_the_sheet_is_a_product(catalogue):
    assert catalogue.count() == len(AUTHORISED) + 1 + len(NEGATIVE) == 47
    assert catalogue.filter(is_published=True).count() == 47
    assert Product.objects.held_authorisation().count() == 32


@pytest.mark.parametrize("record", AUTHORISED, ids=lambda r: r["name"])
def test_authorised_product_facts_are_those_of_the_sheet(catalogue, record):
    product = find(record)
    assert record["name"].startswith(product.name)
    assert product.inn == record["inn"]
    assert product.ema_product_number == record["ema_product_number"]
    assert (product.category.slug if product.category else None) == CATEGORY.get(
        record["atmp_category"]
    )
    assert product.status == record["status"]
    assert iso(product.status_date) == record["status_date"]
    assert iso(product.authorisation_date) == record["authorisation_date"]
    assert (product.authorisation_date_partial or None) == record["authorisation_date_partial"]
    flags = record["authorisation_type"]
    assert product.is_orphan == flags["orphan"]
    assert product.is_conditional == flags["conditional"]
    assert product.is_exceptional_circumstances == flags["exceptional_circumstances"]
    assert product.is_accelerated_assessment == flags["accelerated_assessment"]
    assert product.is_prime == flags["prime"]
    holder = record["marketing_authorisation_holder"]["current"]
    if holder is None:
        assert product.holder is None
    else:
        assert holder.startswith(product.holder.name)
    indications = list(product.indications.all())
    assert [i.condition for i in indications] == [i["condition"] for i in record["indications"]]
    for indication, expected in zip(indications, record["indications"], strict=True):
        assert indication.is_orphan == expected["orphan_designation"]
        areas = sorted(a.name for a in indication.therapeutic_areas.all())
        assert areas == sorted(a.strip() for a in expected["therapeutic_area"].split(";"))
    assert product.epar_url == record["epar_url"]
    assert product.sources[: len(record["sources"])] == record["sources"]


@pytest.mark.parametrize("record", NEGATIVE, ids=lambda r: r["name"])
def test_refusals_and_withdrawn_applications_keep_their_outcome(catalogue, record):
    product = find(record)
    status, date = NEGATIVE_STATUS[record["name"]]
    assert (product.status, iso(product.status_date)) == (status, date)
    assert product.inn == record["inn"]
    assert product.authorisation_date is None
    assert [i.condition for i in product.indications.all()] == [record["indication_sought"]]
    assert record["applicant"].startswith(product.holder.name)


def test_unknown_facts_stay_empty(catalogue):
    itvisma = Product.objects.get(slug="itvisma")
    assert itvisma.authorisation_date is None
    assert itvisma.authorisation_date_partial == "2026"  # not rounded to 1 January
    assert itvisma.ema_product_number is None and itvisma.holder is None
    assert itvisma.is_orphan is None and itvisma.is_prime is None
    assert Product.objects.get(slug="zemcelpro").category is None
    assert Product.objects.get(slug="kymriah").is_accelerated_assessment is None


def test_waskyra_awaits_the_commission_decision(catalogue):
    waskyra = Product.objects.get(slug="waskyra")
    assert waskyra.status == "opinion"
    assert [(e.kind, e.date_display) for e in waskyra.timeline][-1] == (
        "positive-opinion",
        "2025-11-13",
    )


def test_glybera_timeline_holds_its_initial_negative_opinions(catalogue):
    glybera = Product.objects.get(slug="glybera")
    assert [(e.kind, e.date_display) for e in glybera.timeline] == [
        ("negative-opinion", "2011"),
        ("negative-opinion", "2012-04"),
        ("positive-opinion", "2012-07-19"),
        ("initial-authorisation", "2012-10-25"),
        ("expiry", "2017-10-28"),
    ]
    assert not Product.objects.filter(name__startswith="Glybera (").exists()


def test_former_names_are_aliases_and_separate_applications_have_their_own_slug(catalogue):
    assert Product.objects.get(slug="beqvez").aliases == ["Durveqtix"]
    first = Product.objects.get(slug="roctavian-first-application")
    assert first.ema_product_number == "EMEA/H/C/004749"
    assert Product.objects.get(slug="roctavian").ema_product_number == "EMEA/H/C/005830"


def test_every_product_has_a_mechanism_and_a_description_in_own_words(catalogue):
    for product in catalogue.prefetch_related("mechanisms"):
        assert product.mechanisms.exists(), product.slug
        assert len(product.description) > 80, product.slug
    sheet_sentences = {(r.get("modality") or {}).get("mechanism_of_action") for r in SHEET} - {None}
    assert not set(catalogue.values_list("description", flat=True)) & sheet_sentences


def test_the_fixture_file_is_what_the_generator_builds_from_the_sheet(catalogue_data):
    curation = json.loads((FIXTURES / "curation.json").read_text(encoding="utf-8"))
    rebuilt = json.loads(json.dumps(build_catalogue(SHEET, curation)))
    assert rebuilt == catalogue_data, "run `manage.py build_catalogue` and commit the result"


def test_every_status_agrees_with_the_latest_event(catalogue):
    for product in catalogue.prefetch_related("events"):
        product.check_timeline()  # raises ValidationError on disagreement
        assert product.events.exists(), product.slug
