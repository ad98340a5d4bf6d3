"""The register through time: flags now and at authorisation, their changes as dated events,
matching by name, and proposals the import leaves to a curator (issue 12)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from products.choices import EventKind
from products.flags import FLAGS_BY_PARAM, date_phrase, flag_sentence
from products.importers.ema import import_file
from products.models import AuthorisationEvent, Indication, Product
from tests.ema_workbooks import medicine, real_medicine, snapshot, write_workbook
from tests.factories import ProductFactory

EXPORT_DAY = datetime.date(2025, 10, 27)  # the banner of tests/ema_workbooks.py


def _import(tmp_path, *rows, dry_run=False):
    return import_file(
        write_workbook(tmp_path / "export.xlsx", rows), dry_run=dry_run, run_by="tester"
    )


def _hemgenix(**values):
    """Hemgenix's row as the export has it: conditional, orphan and PRIME."""
    return real_medicine(
        "Hemgenix",
        **{
            "therapeutic_area_mesh": "Hemophilia B",
            "conditional_approval": "Yes",
            "orphan_medicine": "Yes",
            "prime_priority_medicine": "Yes",
            **values,
        },
    )


# A change the export shows becomes a dated event ---------------------------------------------


def test_a_conversion_only_the_export_shows_is_dated_no_later_than_the_export(catalogue, tmp_path):
    report = _import(tmp_path, _hemgenix(conditional_approval="No"))
    hemgenix = Product.objects.get(slug="hemgenix")
    assert (hemgenix.is_conditional, hemgenix.is_conditional_at_authorisation) == (False, True)
    conversion = hemgenix.events.get(kind=EventKind.CONVERSION)
    assert (conversion.date, conversion.date_partial, conversion.known_by) == (None, "", EXPORT_DAY)
    assert (
        "  event added: Conversion from conditional to standard authorisation (by 2025-10-27)"
        in (report.diff_lines())
    )
    sentence = flag_sentence(hemgenix, FLAGS_BY_PARAM["conditional"], hemgenix.timeline)
    assert sentence == (
        "Authorised conditionally; converted to a standard marketing authorisation "
        "by 27 October 2025."
    )


def test_an_orphan_designation_gone_from_the_register_is_an_event(catalogue, tmp_path):
    _import(tmp_path, _hemgenix(orphan_medicine="No"))
    hemgenix = Product.objects.get(slug="hemgenix")
    removed = hemgenix.events.get(kind=EventKind.ORPHAN_DESIGNATION_REMOVED)
    assert removed.known_by == EXPORT_DAY
    assert hemgenix.is_orphan_at_authorisation is True and hemgenix.is_orphan is False
    # The indication keeps its designation at authorisation; now it reads as no longer listed.
    assert list(hemgenix.indications.values_list("is_orphan", flat=True)) == [True]
    hemgenix.check_orphan_facts()  # no contradiction


def test_prime_granted_after_authorisation_is_an_event(catalogue, tmp_path):
    Product.objects.filter(slug="hemgenix").update(is_prime=False, is_prime_at_authorisation=False)
    _import(tmp_path, _hemgenix())
    hemgenix = Product.objects.get(slug="hemgenix")
    assert hemgenix.events.filter(kind=EventKind.PRIME_GRANTED, known_by=EXPORT_DAY).exists()


def test_a_change_the_timeline_already_records_adds_no_second_event(catalogue, tmp_path):
    # Holoclar's conversion (22 February 2024) is on the timeline; an export that still says
    # "conditional: no" adds nothing.
    Product.objects.filter(slug="holoclar").update(is_conditional=None)
    _import(
        tmp_path,
        medicine(name_of_medicine="Holoclar", ema_product_number="EMEA/H/C/002450",
                 conditional_approval="No", orphan_medicine="No",
                 therapeutic_area_mesh="Stem Cell Transplantation;Corneal Diseases"),
    )  # fmt: skip
    holoclar = Product.objects.get(slug="holoclar")
    assert holoclar.events.filter(kind=EventKind.CONVERSION).count() == 1
    assert holoclar.is_conditional is False


def test_an_application_never_authorised_gets_no_authorisation_flags(catalogue, tmp_path):
    # Elevidys was refused: the export's "conditional: no" is not applicable, never "no".
    row = medicine(name_of_medicine="Elevidys", ema_product_number="EMEA/H/C/005293",
                   medicine_status="Refused", marketing_authorisation_date=None,
                   refusal_of_marketing_authorisation_date="24/09/2025",
                   therapeutic_area_mesh="Muscular Dystrophy, Duchenne",
                   conditional_approval="No", exceptional_circumstances="No",
                   accelerated_assessment="No", orphan_medicine="No",
                   prime_priority_medicine="Yes")  # fmt: skip
    report = _import(tmp_path, row)
    elevidys = Product.objects.get(slug="elevidys")
    assert (elevidys.is_conditional, elevidys.is_exceptional_circumstances) == (None, None)
    assert elevidys.is_accelerated_assessment is None
    assert (elevidys.is_orphan, elevidys.is_prime) == (False, True)  # these apply to it
    fields = {change.field for change in report.products[0].changes}
    assert not fields & {"is_conditional", "is_exceptional_circumstances"}


def test_a_never_authorised_product_cannot_hold_authorisation_flags(catalogue):
    elevidys = Product.objects.get(slug="elevidys")
    elevidys.is_conditional = False
    with pytest.raises(ValidationError) as caught:
        elevidys.full_clean()
    assert "is_conditional" in caught.value.message_dict
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(slug="elevidys").update(is_conditional_at_authorisation=True)


# Matching by name ---------------------------------------------------------------------------


def test_a_product_without_a_number_is_matched_by_name_and_the_number_proposed(catalogue, tmp_path):
    Product.objects.filter(slug="luxceptar").update(ema_product_number=None)
    before = snapshot()
    row = medicine(name_of_medicine="Luxceptar", ema_product_number="EMEA/H/C/002397",
                   medicine_status="Application withdrawn", advanced_therapy="No",
                   international_non_proprietary_name_inn_common_name=None,
                   marketing_authorisation_date=None,
                   withdrawal_of_application_date="06/11/2019")  # fmt: skip
    report = _import(tmp_path, row, dry_run=True)
    assert snapshot() == before
    [diff] = report.products
    assert diff.name == "Luxceptar" and diff.action == "unchanged"
    [review] = diff.reviews
    assert review.startswith("proposed: EMA product number EMEA/H/C/002397")
    assert "matches by name" in review
    real = _import(tmp_path, row)
    assert real.created == 0  # no second Luxceptar
    assert Product.objects.filter(name="Luxceptar").count() == 1
    assert Product.objects.get(slug="luxceptar").ema_product_number is None  # for a curator


def test_a_different_inn_is_no_match(db, tmp_path):
    ProductFactory(name="Lumina", slug="lumina", inn="luminagene", ema_product_number=None)
    row = medicine(name_of_medicine="Lumina", ema_product_number="EMEA/H/C/009977",
                   international_non_proprietary_name_inn_common_name="otheragene")  # fmt: skip
    report = _import(tmp_path, row, dry_run=True)
    [diff] = report.products
    assert diff.action == "created" and not any("proposed: EMA" in r for r in diff.reviews)


def test_the_exports_mesh_areas_are_proposed_not_applied(catalogue, tmp_path):
    report = _import(tmp_path, _hemgenix(therapeutic_area_mesh="Hemophilia B;Blood Coagulation"))
    hemgenix = Product.objects.get(slug="hemgenix")
    areas = {a.name for i in hemgenix.indications.all() for a in i.therapeutic_areas.all()}
    assert areas == {"Hemophilia B"}
    assert report.products[0].reviews == [
        "proposed therapeutic area(s) from the export's MeSH column, for a curator to place on "
        "an indication: Blood Coagulation"
    ]


def test_a_known_advanced_therapy_disagreement_is_no_news_but_a_change_is(catalogue, tmp_path):
    # Aucatzyl: the export says "not an advanced therapy"; the catalogue knows and disagrees.
    row = medicine(name_of_medicine="Aucatzyl", ema_product_number="EMEA/H/C/005907",
                   advanced_therapy="No", international_non_proprietary_name_inn_common_name=None,
                   marketing_authorisation_date="17/07/2025", therapeutic_area_mesh=None,
                   marketing_authorisation_developer_applicant_holder="Autolus GmbH")  # fmt: skip
    aucatzyl = Product.objects.get(slug="aucatzyl")
    assert aucatzyl.ema_advanced_therapy is False and aucatzyl.is_atmp is True
    report = _import(tmp_path, row, dry_run=True)
    assert not any("advanced-therapy" in r for r in report.products[0].reviews)
    Product.objects.filter(slug="aucatzyl").update(ema_advanced_therapy=True)
    report = _import(tmp_path, row, dry_run=True)
    assert any("advanced-therapy flag is no" in r for r in report.products[0].reviews)


# Orphan facts of product and indications -----------------------------------------------------


def test_an_indication_designated_orphan_makes_the_product_one_at_authorisation(catalogue):
    breyanzi = Product.objects.get(slug="breyanzi")  # not an orphan medicine at authorisation
    indications = list(breyanzi.indications.all())
    indications[0].is_orphan = True
    with pytest.raises(ValidationError) as caught:
        breyanzi.check_orphan_facts(indications)
    assert "is_orphan_at_authorisation" in caught.value.message_dict


def test_an_orphan_product_needs_an_orphan_indication(catalogue):
    hemgenix = Product.objects.get(slug="hemgenix")
    with pytest.raises(ValidationError):
        hemgenix.check_orphan_facts([Indication(product=hemgenix, condition="x", is_orphan=False)])


# Dates and sentences --------------------------------------------------------------------------


def test_date_phrases_never_invent_a_day():
    assert date_phrase(datetime.date(2024, 2, 22)) == "on 22 February 2024"
    assert date_phrase(None, "2022-02") == "in February 2022"
    assert date_phrase(None, "2017") == "in 2017"
    assert date_phrase(None, "", EXPORT_DAY) == "by 27 October 2025"
    assert date_phrase(None) == ""


def test_a_known_by_event_sorts_at_its_date_and_needs_no_date(catalogue):
    abecma = Product.objects.get(slug="abecma")
    kinds = [e.kind for e in abecma.timeline]
    assert kinds.index("conversion") > kinds.index("extension-of-indication")  # 2024 < 2025
    event = AuthorisationEvent(
        product=abecma, kind=EventKind.OTHER, date=datetime.date(2025, 1, 1), known_by=EXPORT_DAY
    )
    with pytest.raises(ValidationError):
        event.full_clean()


@pytest.mark.parametrize(
    ("slug", "param", "sentence"),
    [
        ("holoclar", "conditional",
         "Authorised conditionally; converted to a standard marketing authorisation on "
         "22 February 2024."),
        ("holoclar", "orphan",
         "An orphan medicine when first authorised; its orphan designation is no longer in the "
         "EMA's register (removed by 27 October 2025)."),
        ("glybera", "orphan",
         "An orphan medicine when first authorised; its orphan designation is no longer in the "
         "EMA's register (removed in October 2017)."),
        ("zolgensma", "conditional",
         "Authorised conditionally, and still a conditional authorisation in the EMA's register."),
        ("elevidys", "conditional", "Not applicable: no marketing authorisation was granted."),
        ("elevidys", "orphan", "Yes, according to the EMA's register."),
        ("kymriah", "accelerated_assessment",
         "At first authorisation: not known; in the EMA's register now: no."),
    ],
)  # fmt: skip
def test_each_flag_reads_as_one_plain_sentence(catalogue, slug, param, sentence):
    product = Product.objects.get(slug=slug)
    assert flag_sentence(product, FLAGS_BY_PARAM[param], product.timeline) == sentence


def test_timeline_sources_are_titled_links_on_the_page_and_in_the_api(client, catalogue):
    html = client.get("/products/holoclar/").content.decode()
    assert "Resting on a single source; not yet confirmed" in html  # the 2024 conversion
    assert 'rel="external nofollow">Company announcement: holostem.com' in html
    assert "ema_medicines_output" not in html and "in this folder" not in html
    api = client.get("/api/v1/products/abecma/").json()
    conversion = next(e for e in api["events"] if e["kind"] == "conversion")
    assert conversion["source_links"] == [
        {
            "title": "EMA: medicines data export of 27 October 2025",
            "url": None,
            "publisher": "European Medicines Agency",
        }
    ]
    assert "by 27 October 2025" in client.get("/products/abecma/").content.decode()
