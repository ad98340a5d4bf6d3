"""The loaded catalogue agrees with the verified fact sheet, product by product."""

import copy
import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from products.history import public_change_log, recent_fact_changes
from products.importers.catalogue import load_catalogue
from products.importers.ema import read_export
from products.importers.factsheet import build_catalogue
from products.management.commands.build_catalogue import read_sources
from products.models import AuthorisationEvent, Indication, Product

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
EXPORT = FIXTURES / "source" / "ema_medicines_output_2025-10-27.xlsx"
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
    # The sheet's flags are the values at first authorisation; its export block the register's
    # values now (both true, each for its time).
    flags = record["authorisation_type"]
    for param in ("orphan", "conditional", "exceptional_circumstances", "prime"):
        assert getattr(product, f"is_{param}_at_authorisation") == flags[param], param
    assert product.is_accelerated_assessment_at_authorisation == flags["accelerated_assessment"]
    current = (record.get("ema_export_2025_10_27") or {}).get("flags_current")
    for param in ("orphan", "conditional", "exceptional_circumstances", "prime"):
        assert getattr(product, f"is_{param}") == (current[param] if current else None), param
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
    assert itvisma.is_orphan_at_authorisation is None
    assert Product.objects.get(slug="zemcelpro").category is None
    # Doubtful at authorisation (the sources conflict); the register says no now.
    kymriah = Product.objects.get(slug="kymriah")
    assert kymriah.is_accelerated_assessment_at_authorisation is None
    assert kymriah.is_accelerated_assessment is False


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
        ("orphan-designation", "2004-03-08"),
        ("negative-opinion", "2011"),
        ("negative-opinion", "2012-04"),
        ("positive-opinion", "2012-07-19"),
        ("other", "2012-07"),
        ("initial-authorisation", "2012-10-25"),
        ("expiry", "2017-10-28"),
        ("orphan-designation-removed", "2017-10"),
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
    inputs = read_sources(
        FIXTURES / "source" / "ema_atmps.json",
        FIXTURES / "curation.json",
        EXPORT,
        FIXTURES / "source" / "ema_atmps_changes.json",
    )
    rebuilt = build_catalogue(
        inputs["sheet"],
        inputs["curation"],
        export_rows=inputs["export_rows"],
        changes=inputs["changes"],
    )
    rebuilt = json.loads(json.dumps(rebuilt))
    assert rebuilt == catalogue_data, "run `manage.py build_catalogue` and commit the result"


def test_every_status_agrees_with_the_latest_event(catalogue):
    for product in catalogue.prefetch_related("events"):
        product.check_timeline()  # raises ValidationError on disagreement
        assert product.events.exists(), product.slug


# The register through time --------------------------------------------------------------------

CHANGES = json.loads((FIXTURES / "source" / "ema_atmps_changes.json").read_text(encoding="utf-8"))
HELD = {"authorised", "suspended", "withdrawn", "expired", "lapsed", "revoked"}


@pytest.fixture(scope="module")
def export_rows():
    return {row.product_number: row for row in read_export(EXPORT).rows}


def test_the_catalogue_agrees_with_the_export_for_every_product_it_holds(catalogue, export_rows):
    """Product number, status, first authorisation date and the flags now, product by product.

    The only fields left empty are the authorisation flags of applications never authorised.
    """
    compared = 0
    for product in catalogue:
        row = export_rows.get(product.ema_product_number)
        if row is None:
            continue
        compared += 1
        assert product.status == row.status, product.slug
        assert product.authorisation_date == row.authorisation_date, product.slug
        for field, value in row.flags.items():
            expected = value
            if product.status not in HELD and field in (
                "is_conditional",
                "is_exceptional_circumstances",
                "is_accelerated_assessment",
            ):
                expected = None  # not applicable, never "no"
            assert getattr(product, field) == expected, (product.slug, field)
    # Every product of the catalogue with a number, Luxceptar's found by name: all but Waskyra,
    # Itvisma and Adstiladrin (after the export, or no number yet).
    assert compared == catalogue.count() - 3
    assert set(
        catalogue.filter(ema_product_number__isnull=True).values_list("slug", flat=True)
    ) == {
        "waskyra",
        "itvisma",
        "adstiladrin",
    }


def test_the_export_finds_luxceptar_by_its_number(catalogue, export_rows):
    luxceptar = Product.objects.get(slug="luxceptar")
    assert luxceptar.ema_product_number == "EMEA/H/C/002397"
    assert export_rows["EMEA/H/C/002397"].name == "Luxceptar"


@pytest.mark.parametrize(
    ("slug", "flag", "at_authorisation", "now", "event"),
    [
        ("abecma", "conditional", True, False, "conversion"),
        ("carvykti", "conditional", True, False, "conversion"),
        ("holoclar", "conditional", True, False, "conversion"),
        ("holoclar", "orphan", True, False, "orphan-designation-removed"),
        ("alofisel", "orphan", True, False, "orphan-designation-removed"),
        ("glybera", "orphan", True, False, "orphan-designation-removed"),
        ("skysona", "orphan", True, False, "orphan-designation-removed"),
        ("zalmoxis", "orphan", True, False, "orphan-designation-removed"),
        ("zynteglo", "orphan", True, False, "orphan-designation-removed"),
    ],
)
def test_every_flag_that_changed_since_authorisation_has_its_event(
    catalogue, slug, flag, at_authorisation, now, event
):
    product = Product.objects.get(slug=slug)
    assert getattr(product, f"is_{flag}_at_authorisation") is at_authorisation
    assert getattr(product, f"is_{flag}") is now
    assert event in [e.kind for e in product.timeline]


def test_no_flag_changed_without_an_event_on_the_timeline(catalogue):
    """The list above is complete: any other difference would need its own event."""
    lost = {"conditional": "conversion", "orphan": "orphan-designation-removed"}
    for product in catalogue.prefetch_related("events"):
        kinds = {event.kind for event in product.events.all()}
        for flag, kind in lost.items():
            if (
                getattr(product, f"is_{flag}_at_authorisation")
                and getattr(product, f"is_{flag}") is False
            ):
                assert kind in kinds, (product.slug, flag)


def test_roctavian_is_a_prime_medicine_as_the_corrected_sheet_and_the_export_say(catalogue):
    roctavian = Product.objects.get(slug="roctavian")
    assert roctavian.is_prime is True and roctavian.is_prime_at_authorisation is True


def test_a_change_known_only_from_the_export_is_dated_no_later_than_the_export(catalogue):
    abecma = Product.objects.get(slug="abecma")
    conversion = next(e for e in abecma.timeline if e.kind == "conversion")
    assert conversion.date is None and conversion.date_partial == ""
    assert conversion.known_by.isoformat() == "2025-10-27"
    assert conversion.confidence == "verified"


def test_every_change_of_the_changes_file_is_an_event_or_a_note_for_curators(catalogue):
    """Verified and single-source changes are on the timeline with their source; doubtful ones
    and Waskyra's reported decision (it would change the status) wait for a curator."""
    for item in CHANGES["products"]:
        name = item["name"].split(" (")[0]
        product = (
            Product.objects.get(ema_product_number=item["ema_product_number"])
            if item["ema_product_number"]
            else Product.objects.get(name=name)
        )
        sources = {s for event in product.events.all() for s in event.sources}
        for change in item["changes"]:
            if change["confidence"] == "doubtful" or name == "Waskyra":
                assert change["detail"][:40] in product.curator_notes, (name, change["kind"])
            else:
                assert change["source"] in sources, (name, change["kind"], change["source"])
    waskyra = Product.objects.get(slug="waskyra")
    assert waskyra.status == "opinion" and "2026-01-09" in waskyra.curator_notes


def test_single_source_events_say_so(catalogue):
    holoclar = Product.objects.get(slug="holoclar")
    holder = next(e for e in holoclar.timeline if e.kind == "change-of-holder")
    assert holder.confidence == "single-source"
    assert holder.date_partial == "2020-06"  # the curated month; the company source merged in
    assert len(holder.sources) == 1


def test_applications_never_authorised_have_no_authorisation_flags(catalogue):
    for product in catalogue.exclude(status__in=HELD):
        for field in (
            "is_conditional",
            "is_exceptional_circumstances",
            "is_accelerated_assessment",
            "is_orphan_at_authorisation",
            "is_conditional_at_authorisation",
            "is_prime_at_authorisation",
        ):
            assert getattr(product, field) is None, (product.slug, field)
    elevidys = Product.objects.get(slug="elevidys")
    assert (elevidys.is_orphan, elevidys.is_prime) == (True, False)  # they still apply


def test_product_and_indication_orphan_facts_agree(catalogue):
    for product in catalogue.prefetch_related("indications"):
        product.check_orphan_facts()  # raises ValidationError on disagreement


# Reloading the catalogue: history on both sides ------------------------------------------------

HISTORIES = (Product.history, Indication.history, AuthorisationEvent.history)


def history_counts() -> list[int]:
    return [manager.count() for manager in HISTORIES]


@pytest.fixture
def loaded_a_month_ago(catalogue):
    """The catalogue as if loaded a month ago: a change today is a day of its own in the log."""
    for manager in HISTORIES:
        manager.update(history_date=F("history_date") - datetime.timedelta(days=30))
    return catalogue


def test_reloading_the_same_catalogue_writes_no_history(loaded_a_month_ago, catalogue_data):
    logs = {product.slug: public_change_log(product) for product in Product.objects.all()}
    before = history_counts()
    report = load_catalogue(catalogue_data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(logs))
    assert history_counts() == before
    assert {product.slug: public_change_log(product) for product in Product.objects.all()} == logs
    assert recent_fact_changes(Product.objects.all()) == []


def test_a_real_change_shows_once_in_the_change_log(loaded_a_month_ago, catalogue_data):
    data = copy.deepcopy(catalogue_data)
    kymriah = next(item for item in data["products"] if item["slug"] == "kymriah")
    kymriah["events"][-1]["note"] += " (checked again)"
    kymriah["inn"] += " (checked)"
    before = history_counts()
    report = load_catalogue(data)
    assert (report.created, report.updated) == (0, 1)
    # One record of the product's save and one of the changed event; nothing deleted or re-added.
    assert [after - was for after, was in zip(history_counts(), before, strict=True)] == [1, 0, 1]
    assert AuthorisationEvent.history.latest("history_id").history_type == "~"
    log = public_change_log(Product.objects.get(slug="kymriah"))
    assert log[0]["date"] == timezone.localdate() and not log[0]["added"]
    inn = str(Product._meta.get_field("inn").verbose_name)
    assert sorted(log[0]["fields"]) == sorted([inn, "authorisation timeline"])
    assert [entry["added"] for entry in log[1:]] == [True]
    changed = recent_fact_changes(Product.objects.all())
    assert [change["product"].slug for change in changed] == ["kymriah"]


def test_a_changed_mechanism_alone_counts_as_an_update(loaded_a_month_ago, catalogue_data):
    data = copy.deepcopy(catalogue_data)
    kymriah = next(item for item in data["products"] if item["slug"] == "kymriah")
    other = next(m["slug"] for m in data["mechanisms"] if m["slug"] not in kymriah["mechanisms"])
    kymriah["mechanisms"] = [other]
    report = load_catalogue(data)
    assert (report.created, report.updated) == (0, 1)
    product = Product.objects.get(slug="kymriah")
    assert [m.slug for m in product.mechanisms.all()] == [other]
