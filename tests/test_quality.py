"""The data-quality report (`/data-quality/`, as CSV and JSON) and the share verified on home."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from products import quality
from products.choices import EventKind
from products.models import AuthorisationEvent, ImportRun, Product
from tests.factories import ProductFactory

PAGE = reverse("products:data_quality")
CSV = reverse("products:data_quality_csv")
JSON = reverse("products:data_quality_json")


def findings_for(slug: str, kind: str | None = None) -> list[quality.Finding]:
    return [
        f
        for f in quality.build_report().findings
        if f.slug == slug and (kind is None or f.kind == kind)
    ]


def test_a_planted_atmp_disagreement_is_listed_and_dropped_once_fixed(client, catalogue):
    product = ProductFactory(
        name="Plantex",
        slug="plantex",
        ema_product_number="EMEA/H/C/990001",
        atc_code="L01",
        epar_url="https://www.ema.europa.eu/en/medicines/x",
    )
    assert findings_for("plantex") == []  # nothing else to say about it
    assert findings_for("plantex", "disagreement") == []
    product.ema_advanced_therapy = False  # the export's flag as last imported
    product.atmp_reason = "a gene therapy by the Regulation's definition"
    product.save()
    [finding] = findings_for("plantex", "disagreement")
    assert finding.fact == "Advanced therapy (ATMP)"
    assert (finding.catalogue, finding.ema, finding.side) == ("yes", "no", "catalogue")
    assert "a gene therapy by the Regulation's definition" in finding.why
    page = client.get(PAGE).content.decode()
    assert 'href="/products/plantex/"' in page
    assert "its own value" in page
    rows = list(csv.DictReader(io.StringIO(client.get(CSV).content.decode("utf-8-sig"))))
    planted = [row for row in rows if row["slug"] == "plantex" and row["kind"] == "disagreement"]
    assert planted[0]["url"] == "http://testserver/products/plantex/"
    assert planted[0]["ema"] == "no"
    data = client.get(JSON).json()
    assert {"kind": "disagreement", "slug": "plantex"}.items() <= next(
        f for f in data["findings"] if f["slug"] == "plantex"
    ).items()

    product.ema_advanced_therapy = True  # fixed: the next export agrees
    product.save()
    assert findings_for("plantex", "disagreement") == []
    assert "plantex" not in client.get(PAGE).content.decode()
    assert not [f for f in client.get(JSON).json()["findings"] if f["slug"] == "plantex"]


def test_a_register_flag_unexplained_by_the_timeline_is_a_disagreement_until_the_event(catalogue):
    product = ProductFactory(
        name="Flagex",
        slug="flagex",
        is_conditional=False,
        is_conditional_at_authorisation=True,
        epar_url="https://www.ema.europa.eu/en/medicines/y",
    )
    [finding] = findings_for("flagex", "disagreement")
    assert finding.fact == "Conditional marketing authorisation"
    assert finding.catalogue == "yes at first authorisation"
    assert finding.ema == "no in the register now"
    assert finding.side == "both"
    AuthorisationEvent.objects.create(
        product=product, kind=EventKind.CONVERSION, date=datetime.date(2024, 2, 1)
    )
    assert findings_for("flagex", "disagreement") == []


def test_the_real_catalogues_known_atmp_disagreements_are_listed(catalogue):
    """The export flags Zemcelpro as no advanced therapy; the catalogue holds it is one."""
    [finding] = findings_for("zemcelpro", "disagreement")
    assert (finding.catalogue, finding.ema, finding.side) == ("yes", "no", "catalogue")


def test_without_an_import_run_the_page_says_what_it_compares_with(client, catalogue):
    assert not ImportRun.objects.exists()
    text = client.get(PAGE).content.decode()
    assert "No export of the EMA has been imported into this catalogue yet" in text


def test_what_the_last_import_left_for_a_curator_is_listed(client, catalogue):
    kymriah = Product.objects.get(slug="kymriah")
    ImportRun.objects.create(
        file_name="medicines-output.xlsx",
        diff=(
            f"Kymriah ({kymriah.ema_product_number}): unchanged\n"
            "  flagged for review: is_accelerated_assessment: the export says yes; the "
            "catalogue's not known is marked doubtful ('x') and is left for a curator\n"
            "Secret draft (EMEA/H/C/999999): created\n"
            "  flagged for review: the export names it 'Secret'"
        ),
    )
    [finding] = [f for f in findings_for("kymriah", "disagreement")]
    assert finding.fact == "is_accelerated_assessment"
    assert finding.ema.startswith("the export says yes")
    assert "medicines-output.xlsx" in finding.why
    text = client.get(PAGE).content.decode()
    assert "medicines-output.xlsx" in text
    assert "Secret" not in text  # about no published product


def test_unverified_facts_and_single_source_events_are_listed(catalogue):
    kymriah = findings_for("kymriah", "unverified")
    assert "Whether it had an accelerated assessment (sources conflict)" in [
        f.fact for f in kymriah
    ]
    holoclar = [f.fact for f in findings_for("holoclar", "unverified")]
    assert any(fact.startswith("Timeline: Conversion") for fact in holoclar)


def test_a_product_without_an_ema_source_is_listed(catalogue):
    ProductFactory(name="Sourcex", slug="sourcex", epar_url="", atc_code="L01")
    Product.objects.filter(slug="sourcex").update(sources=["https://example.com/news"])
    [finding] = findings_for("sourcex", "no-ema-source")
    assert finding.catalogue == "1 source, none from the EMA"
    Product.objects.filter(slug="sourcex").update(
        epar_url="https://www.ema.europa.eu/en/medicines/human/EPAR/sourcex"
    )
    assert findings_for("sourcex", "no-ema-source") == []


def test_a_product_unchanged_for_over_a_year_is_listed(catalogue):
    ProductFactory(name="Oldex", slug="oldex", epar_url="https://www.ema.europa.eu/x")
    Product.objects.filter(slug="oldex").update(
        updated_at=timezone.now() - datetime.timedelta(days=400)
    )
    [finding] = findings_for("oldex", "stale")
    assert finding.fact == "Last checked"
    assert findings_for("kymriah", "stale") == []


def test_missing_numbers_and_dates_are_listed(catalogue):
    product = ProductFactory(
        name="Gapex", slug="gapex", ema_product_number=None, atc_code="", epar_url=""
    )
    AuthorisationEvent.objects.create(product=product, kind=EventKind.PRIME_GRANTED)
    facts = {f.fact for f in findings_for("gapex", "missing")}
    assert facts == {"EMA product number", "ATC code", "Date of: PRIME support granted"}
    assert all(f.side == "none" for f in findings_for("gapex", "missing"))


def test_drafts_are_not_in_the_report(catalogue):
    ProductFactory(name="Hidden", slug="hidden", is_published=False, ema_product_number=None)
    assert findings_for("hidden") == []


def test_the_report_reads_a_fixed_number_of_queries(client, catalogue, django_assert_num_queries):
    for _n in range(5):
        ProductFactory(ema_advanced_therapy=False, ema_product_number=None)
    with django_assert_num_queries(3):  # products, their events, the last import run
        quality.build_report()


def test_the_share_verified_counts_the_doubts(catalogue):
    share = quality.verified_share()
    products = Product.objects.published()
    total = products.count() * quality.FACTS_PER_PRODUCT
    assert share.total == total
    doubts = sum(len(p.unverified_fields) for p in products if p.verification != "unverified")
    unverified = sum(1 for p in products if p.verification == "unverified")
    assert share.verified == total - doubts - unverified * quality.FACTS_PER_PRODUCT
    assert 0 < share.verified < share.total


def test_the_home_page_shows_the_share_verified(client, catalogue):
    share = quality.verified_share()
    text = client.get(reverse("products:home")).content.decode()
    assert f"<strong>{share.percent} %</strong> of the catalogue's facts are verified" in text
    assert f'href="{PAGE}"' in text


@pytest.mark.parametrize("path", [PAGE, CSV, JSON])
def test_the_report_ignores_parameters_and_refuses_writes(client, catalogue, path):
    assert client.get(path + "?kind=%00&page=x").status_code == 200
    assert client.post(path).status_code == 405


def test_after_importing_the_real_export_its_review_is_listed(catalogue):
    """A real run of the EMA's export of 27 October 2025: Breyanzi's MeSH area is left open."""
    from products.importers.ema import import_file
    from tests.ema_workbooks import REAL_EXPORT

    import_file(REAL_EXPORT)
    report = quality.build_report()
    assert report.import_run.file_name == REAL_EXPORT.name
    [finding] = [f for f in report.findings if f.slug == "breyanzi" and f.kind == "disagreement"]
    assert "Mediastinal Neoplasms" in finding.ema
    assert REAL_EXPORT.name in finding.why


def test_a_new_import_run_shows_at_once_even_with_pages_cached(client, catalogue, settings):
    """An import that changes no product moves no catalogue version: the page is not cached."""
    settings.CATALOGUE_CACHE_PAGES = True
    assert "No export of the EMA has been imported" in client.get(PAGE).content.decode()
    ImportRun.objects.create(file_name="medicines-output-2026-12-01.xlsx", diff="")
    assert "medicines-output-2026-12-01.xlsx" in client.get(PAGE).content.decode()
