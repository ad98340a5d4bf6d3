"""The EMA import (products/importers/ema/): reading the export, applying it, and the agreement
of the catalogue's data with the real export of 27/10/2025."""

from __future__ import annotations

import datetime
import io
import json
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings

from products.choices import EventKind, Status
from products.importers import ema
from products.importers.ema import (
    ExportFormatError,
    doubted_fields,
    holder_key,
    import_export,
    import_file,
    parse_date,
    parse_flag,
    read_export,
)
from products.models import Company, ImportRun, Product
from tests.ema_workbooks import (
    REAL_EXPORT,
    kymriah_row,
    medicine,
    snapshot,
    write_json,
    write_workbook,
)

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")
END_DATE = ema.END_DATE


@pytest.fixture(scope="module")
def real_export():
    return read_export(REAL_EXPORT)


# Values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("Yes", True), ("No", False), ("Da", True), ("Ne", False), ("DA", True), (" ne ", False),
        ("Sì", True), ("Sí", True), ("Oui", True), ("Non", False), ("Ja", True), ("Nein", False),
        ("Nej", False), ("Nee", False), ("Tak", True), ("Nie", False), ("Igen", True),
        ("Nem", False), ("Ano", True), ("Áno", True), ("Kyllä", True), ("Ei", False),
        ("Jah", True), ("Taip", True), ("Jā", True), ("Nē", False), ("Sim", True), ("Não", False),
        ("Nu", False), ("Ναι", True), ("Όχι", False), ("Да", True), ("Не", False), ("Iva", True),
        ("Le", False), (True, True), (False, False), ("", None), (None, None),
    ],
)  # fmt: skip
def test_flags_are_yes_and_no_words_of_the_eu_languages(word, value):
    assert parse_flag(word) is value


@pytest.mark.parametrize("word", ["Maybe", "Y", "1", "Unknown", "Dа?"])
def test_an_unknown_flag_word_is_refused_with_its_value(word):
    with pytest.raises(ValueError, match="is not a yes/no value"):
        parse_flag(word)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("05/10/2009", datetime.date(2009, 10, 5)),
        (" 5/10/2009 ", datetime.date(2009, 10, 5)),
        ("2009-10-05", datetime.date(2009, 10, 5)),
        (datetime.datetime(2009, 10, 5, 0, 0), datetime.date(2009, 10, 5)),
        (datetime.date(2009, 10, 5), datetime.date(2009, 10, 5)),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_day_month_year_text_or_real_dates(value, date):
    assert parse_date(value) == date


@pytest.mark.parametrize("value", ["2009/10/05", "31/02/2020", "10/2009", 40091, "soon"])
def test_a_malformed_date_is_refused(value):
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(value)


@pytest.mark.parametrize(
    ("number", "normalised"),
    [
        ("EMEA/H/C/004090", "EMEA/H/C/004090"),
        ("EMEA/H/C005201", "EMEA/H/C/005201"),
        (" EMEA/V/C/004732 ", "EMEA/V/C/004732"),
    ],
)
def test_product_numbers_are_normalised(number, normalised):
    assert ema.parse_product_number(number) == normalised


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("TiGenix NV", "TiGenix N.V."),
        ("Cytonet GmbH & Co. KG", "Cytonet GmbH KG"),
        ("CO.DON GmbH", "CO.DON Gmbh"),
        ("Ark Therapeutics Ltd", "Ark Therapeutics"),
        ("GenSight Biologics SA", "GenSight Biologics S.A."),
        (
            "Epitopoietic Research Corporation-Belgium (ERC Belgium)",
            "Epitopoietic Research Corporation-Belgium (E.R.C.)",
        ),
    ],
)
def test_one_holder_written_two_ways_is_one_holder(a, b):
    assert holder_key(a) == holder_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kite Pharma EU B.V.", "Kite Pharma B.V."),
        ("Novartis Europharm Limited", "Novartis Pharma AG"),
        ("Bristol-Myers Squibb Pharma EEIG", "Celgene Europe B.V."),
    ],
)
def test_different_holders_stay_different(a, b):
    assert holder_key(a) != holder_key(b)


def test_doubted_fields_read_the_fact_sheets_wording():
    assert doubted_fields(
        [
            "authorisation_type.accelerated_assessment (conflict)",
            "indications[1].orphan_designation (designation confirmed)",
            "current conditional status",
            "status_date (conflict)",
            "marketing_authorisation_holder.original (legal entity)",
            "post-Oct-2025 status",
            "atc_code (full)",
        ]
    ).keys() == {"is_conditional", "status_date"}
    # The sheet's authorisation_type is the values at first authorisation, which the import
    # never writes: a doubt about them holds back nothing of the register's values now.
    assert doubted_fields(["all authorisation_type flags"]) == {}
    assert doubted_fields(["all flags"]).keys() == {
        "is_orphan",
        "is_conditional",
        "is_exceptional_circumstances",
        "is_accelerated_assessment",
        "is_prime",
    }
    assert doubted_fields(["indication-specific orphan status for FL"]) == {}


def test_indication_text_has_its_html_entities_decoded():
    assert ema.clean_indication("For adults &lt;65&nbsp;years &amp; older.&nbsp;") == (
        "For adults <65 years & older."
    )


# Reading ----------------------------------------------------------------------------------------


def test_a_small_workbook_is_read_with_its_generation_time(tmp_path):
    path = write_workbook(tmp_path / "export.xlsx", [medicine()])
    export = read_export(path)
    assert export.file_name == "export.xlsx"
    assert export.generated_at == datetime.datetime(2025, 10, 27, 6, 13, tzinfo=AMSTERDAM)
    [row] = export.rows
    assert row.where == "row 10"
    assert (row.name, row.product_number, row.status) == (
        "Testagene",
        "EMEA/H/C/009901",
        Status.AUTHORISED,
    )
    assert row.holder == "Testa Biologics B.V."
    assert row.therapeutic_areas == ("Hemophilia B", "Hemophilia A")
    assert row.indication_text == "Treatment of adults <65 years with haemophilia B."
    assert row.flags == {
        "is_orphan": True,
        "is_conditional": True,
        "is_exceptional_circumstances": False,
        "is_accelerated_assessment": False,
        "is_prime": False,
    }
    assert row.is_advanced_therapy is True
    assert row.authorisation_date == datetime.date(2025, 7, 17)


def test_headers_are_matched_whatever_their_line_breaks_spaces_and_case(tmp_path):
    rename = {
        "PRIME: priority medicine": "PRIME:\npriority medicine",
        "Pharmacotherapeutic group (human)": "Pharmacotherapeutic group\n(human)",
        "Marketing authorisation date": "  Marketing   authorisation DATE ",
        "Therapeutic area (MeSH)": "Therapeutic area\r\n(MeSH)",
    }
    path = write_workbook(tmp_path / "export.xlsx", [medicine(prime_priority_medicine="Da")],
                          rename=rename)  # fmt: skip
    [row] = read_export(path).rows
    assert row.flags["is_prime"] is True
    assert row.authorisation_date == datetime.date(2025, 7, 17)


@pytest.mark.parametrize("header", ["Generic or hybrid", "Generic"])
def test_the_generic_column_may_have_either_name(tmp_path, header):
    path = write_workbook(
        tmp_path / "export.xlsx", [medicine()], rename={"Generic or hybrid": header}
    )
    assert len(read_export(path).rows) == 1


@pytest.mark.parametrize(
    ("yes", "no"), [("Yes", "No"), ("Da", "Ne"), ("Sì", "No"), ("Ja", "Nein"), ("Oui", "Non")]
)
def test_flags_in_any_language_are_read(tmp_path, yes, no):
    row = medicine(orphan_medicine=yes, conditional_approval=no, advanced_therapy=yes)
    [parsed] = read_export(write_workbook(tmp_path / "export.xlsx", [row])).rows
    assert parsed.flags["is_orphan"] is True
    assert parsed.flags["is_conditional"] is False
    assert parsed.is_advanced_therapy is True


def test_a_real_spreadsheet_date_is_read(tmp_path):
    row = medicine(marketing_authorisation_date=datetime.date(2025, 7, 17))
    [parsed] = read_export(write_workbook(tmp_path / "export.xlsx", [row])).rows
    assert parsed.authorisation_date == datetime.date(2025, 7, 17)


def test_a_product_number_without_its_slash_is_normalised(tmp_path):
    row = medicine(ema_product_number="EMEA/H/C009901")
    [parsed] = read_export(write_workbook(tmp_path / "export.xlsx", [row])).rows
    assert parsed.product_number == "EMEA/H/C/009901"


def test_the_header_row_is_found_wherever_it_is(tmp_path):
    path = write_workbook(tmp_path / "export.xlsx", [medicine()], banner_rows=3)
    assert read_export(path).rows[0].where == "row 5"
    path = write_workbook(tmp_path / "bare.xlsx", [medicine()], banner_rows=0)
    export = read_export(path)
    assert export.rows[0].where == "row 2"
    assert export.generated_at is None


def test_empty_rows_are_skipped(tmp_path):
    path = write_workbook(tmp_path / "export.xlsx", [medicine(), {}, medicine(
        ema_product_number="EMEA/H/C/009902", name_of_medicine="Other")])  # fmt: skip
    assert [row.where for row in read_export(path).rows] == ["row 10", "row 12"]


@pytest.mark.parametrize(("snake_case", "wrap"), [(True, False), (True, True), (False, False)])
def test_the_json_form_is_read(tmp_path, snake_case, wrap):
    rows = [medicine(advanced_therapy="Yes"), medicine(
        ema_product_number="EMEA/H/C005202", advanced_therapy=False)]  # fmt: skip
    path = write_json(tmp_path / "export.json", rows, snake_case=snake_case, wrap=wrap)
    export = read_export(path)
    assert [(row.where, row.product_number, row.is_advanced_therapy) for row in export.rows] == [
        ("record 1", "EMEA/H/C/009901", True),
        ("record 2", "EMEA/H/C/005202", False),
    ]
    assert export.rows[0].indication_text == "Treatment of adults <65 years with haemophilia B."


# Bad files --------------------------------------------------------------------------------------


def _bad(path: Path, *expected: str) -> str:
    with pytest.raises(ExportFormatError) as caught:
        read_export(path)
    message = str(caught.value)
    assert "\n" not in message
    for part in expected:
        assert part in message
    return message


def test_an_unknown_flag_names_row_column_and_value(tmp_path):
    rows = [medicine(), medicine(ema_product_number="EMEA/H/C/009902", orphan_medicine="Maybe")]
    _bad(write_workbook(tmp_path / "x.xlsx", rows), "row 11", "column X (Orphan medicine)",
         "'Maybe' is not a yes/no value")  # fmt: skip


def test_a_malformed_date_names_row_and_column(tmp_path):
    rows = [medicine(last_updated_date="2025/08/19")]
    _bad(write_workbook(tmp_path / "x.xlsx", rows), "row 10",
         "column AL (Last updated date)", "'2025/08/19' is not a date")  # fmt: skip


def test_an_unknown_status_is_refused(tmp_path):
    rows = [medicine(medicine_status="Pending")]
    _bad(write_workbook(tmp_path / "x.xlsx", rows), "row 10", "(Medicine status)", "'Pending'")


@pytest.mark.parametrize("number", ["EMEA/H/C/12345", "H/C/004090", ""])
def test_a_malformed_product_number_is_refused(tmp_path, number):
    rows = [medicine(ema_product_number=number)]
    _bad(write_workbook(tmp_path / "x.xlsx", rows), "row 10", "(EMA product number)")


def test_a_product_number_twice_is_refused(tmp_path):
    rows = [medicine(), medicine(ema_product_number="EMEA/H/C009901")]
    _bad(write_workbook(tmp_path / "x.xlsx", rows), "row 11", "EMEA/H/C/009901", "row 10")


def test_an_unknown_header_is_refused(tmp_path):
    path = write_workbook(tmp_path / "x.xlsx", [medicine()], rename={"Biosimilar": "Biosimilarity"})
    _bad(path, "row 9, column T", "unknown column 'Biosimilarity'")


def test_a_missing_header_is_refused(tmp_path):
    headers = [h for h in ema.COLUMNS if h != "Advanced therapy"]
    path = write_workbook(tmp_path / "x.xlsx", [medicine()], headers=headers)
    _bad(path, "row 9", "missing column(s) 'Advanced therapy'")


def test_a_repeated_header_is_refused(tmp_path):
    headers = [*ema.COLUMNS, "Orphan medicine"]
    _bad(write_workbook(tmp_path / "x.xlsx", [medicine()], headers=headers), "appears twice")


def test_a_wrong_sheet_is_refused(tmp_path):
    _bad(write_workbook(tmp_path / "x.xlsx", [medicine()], sheet="Sheet1"),
         "no sheet 'Medicine' (sheets: Sheet1)")  # fmt: skip


def test_a_sheet_without_its_header_row_is_refused(tmp_path):
    path = write_workbook(tmp_path / "x.xlsx", [medicine()], rename={"Category": "Type"})
    _bad(path, "no header row")


def test_a_workbook_without_medicines_is_refused(tmp_path):
    _bad(write_workbook(tmp_path / "x.xlsx", []), "holds no medicines")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.98])
def test_a_truncated_workbook_is_refused(tmp_path, keep):
    data = REAL_EXPORT.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: int(len(data) * keep)])
    _bad(path, "not a readable XLSX workbook")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"Category;Name of medicine\nHuman;Kymriah\n", "neither an XLSX workbook nor JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "neither an XLSX workbook nor JSON"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old binary .xls"),
        (b"PK\x03\x04" + bytes(100), "not a readable XLSX workbook"),
        (b"", "the file is empty"),
        (b'[{"name_of_medicine": ', "not valid JSON"),
        (b'{"medicines_count": 3}', "expected a list of medicines"),
        (b"[1, 2]", "record 1: expected an object"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(tmp_path, content, reason):
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    _bad(path, reason)


def test_a_json_record_with_an_unknown_key_is_refused(tmp_path):
    record = {**medicine(), "colour": "blue"}
    _bad(write_json(tmp_path / "x.json", [medicine(), record]), "record 2, key 'colour'")


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_export(tmp_path / "nowhere.xlsx")


# Applying ---------------------------------------------------------------------------------------


def _import(tmp_path, *rows, name="export.xlsx", **options):
    return import_file(write_workbook(tmp_path / name, rows), run_by="tester", **options)


def test_a_new_advanced_therapy_arrives_unpublished_for_a_curator(db, tmp_path):
    row = medicine(name_of_medicine="Testagene (previously Probagene)")
    report = _import(tmp_path, row)
    assert report.summary == "created 1, updated 0, unchanged 0, flagged for review 0"
    product = Product.objects.get(ema_product_number="EMEA/H/C/009901")
    assert (product.name, product.slug, product.aliases) == (
        "Testagene",
        "testagene",
        ["Probagene"],
    )
    assert product.is_published is False
    assert product.is_atmp is True
    assert product.atmp_reason == "flagged as advanced therapy in the EMA export"
    assert product.category is None
    assert product.inn == "testagene autotemcel"
    assert product.holder.name == "Testa Biologics B.V."
    assert product.holder.slug == "testa-biologics-bv"
    assert product.status == Status.AUTHORISED
    assert product.authorisation_date == datetime.date(2025, 7, 17)
    assert (product.is_orphan, product.is_conditional, product.is_prime) == (True, True, False)
    assert product.atc_code == "B02BD16"
    assert product.ema_indication_text == "Treatment of adults <65 years with haemophilia B."
    assert product.ema_last_updated_date == datetime.date(2025, 8, 19)
    assert product.epar_url.endswith("/EPAR/testagene")
    assert [(e.kind, e.date) for e in product.timeline] == [
        (EventKind.INITIAL_AUTHORISATION, datetime.date(2025, 7, 17))
    ]
    [diff] = report.products
    assert "  slug: not known -> 'testagene'" in diff.lines()
    assert any("Hemophilia B; Hemophilia A" in note for note in diff.notes)


def test_a_new_product_gets_a_slug_of_its_own(catalogue, tmp_path):
    _import(tmp_path, medicine(name_of_medicine="Kymriah", ema_product_number="EMEA/H/C/009903"))
    assert Product.objects.get(ema_product_number="EMEA/H/C/009903").slug == "kymriah-2"
    assert Product.objects.get(slug="kymriah").ema_product_number == "EMEA/H/C/004090"


def test_rows_that_are_neither_atmps_nor_in_the_catalogue_are_left_out(catalogue, tmp_path):
    before = Product.objects.count()
    report = _import(tmp_path, medicine(advanced_therapy="No"),
                     medicine(ema_product_number="EMEA/V/C/009904"))  # fmt: skip
    assert report.products == []
    assert Product.objects.count() == before


def test_a_change_of_status_is_recorded_on_the_timeline(catalogue, tmp_path):
    row = kymriah_row(medicine_status="Withdrawn", **{END_DATE: "01/10/2025"})
    report = _import(tmp_path, row)
    assert report.summary == "created 0, updated 1, unchanged 0, flagged for review 0"
    kymriah = Product.objects.get(slug="kymriah")
    assert (kymriah.status, kymriah.status_date) == (Status.WITHDRAWN, datetime.date(2025, 10, 1))
    latest = kymriah.timeline[-1]
    assert (latest.kind, latest.date) == (EventKind.WITHDRAWAL, datetime.date(2025, 10, 1))
    assert "EMA medicines export generated on 27/10/2025" in latest.note
    kymriah.check_timeline()
    lines = report.diff_lines()
    assert "  status: Authorised -> Marketing authorisation withdrawn" in lines
    assert "  status_date: not known -> 2025-10-01" in lines
    assert "  event added: Withdrawal of the marketing authorisation (2025-10-01)" in lines


def test_the_import_never_touches_curated_fields(catalogue, tmp_path):
    kymriah = Product.objects.get(slug="kymriah")
    curated = (
        kymriah.name, kymriah.slug, kymriah.category_id, kymriah.description, kymriah.platform,
        kymriah.target, kymriah.inn, kymriah.is_published,
        sorted(kymriah.mechanisms.values_list("slug", flat=True)),
        list(kymriah.indications.values_list("condition", "population", "is_orphan")),
    )  # fmt: skip
    row = kymriah_row(name_of_medicine="Kymriah Novus",
                   international_non_proprietary_name_inn_common_name="tisagenlecleucel novus",
                   advanced_therapy="No", medicine_status="Suspended",
                   **{ema.SUSPENSION_DATE: "02/10/2025"})  # fmt: skip
    report = _import(tmp_path, row)
    kymriah.refresh_from_db()
    assert (
        kymriah.name, kymriah.slug, kymriah.category_id, kymriah.description, kymriah.platform,
        kymriah.target, kymriah.inn, kymriah.is_published,
        sorted(kymriah.mechanisms.values_list("slug", flat=True)),
        list(kymriah.indications.values_list("condition", "population", "is_orphan")),
    ) == curated  # fmt: skip
    assert kymriah.status == Status.SUSPENDED
    assert kymriah.is_atmp is True  # the catalogue's judgement wins over the flag
    [diff] = report.products
    assert "the export names it 'Kymriah Novus'" in diff.reviews
    assert any("advanced-therapy flag is no" in review for review in diff.reviews)


def test_a_deliberate_unknown_is_not_filled_but_flagged(catalogue, tmp_path):
    Product.objects.filter(slug="kymriah").update(
        is_conditional=None, unverified_fields=["current conditional status (conflict)"]
    )
    report = _import(tmp_path, kymriah_row())
    kymriah = Product.objects.get(slug="kymriah")
    assert kymriah.is_conditional is None
    [diff] = report.products
    assert diff.reviews == [
        "is_conditional: the export says no; the catalogue's not known is marked doubtful "
        "('current conditional status (conflict)') and is left for a curator"
    ]
    assert kymriah.ema_indication_text == "Kymriah is indicated for B-cell ALL & DLBCL."


def test_the_values_at_first_authorisation_are_never_written(catalogue, tmp_path):
    """Kymriah's accelerated assessment at authorisation is doubtful (sources conflict); the
    register's value now is the export's, and no doubt about the past holds it back."""
    report = _import(tmp_path, kymriah_row(accelerated_assessment="Da"))
    kymriah = Product.objects.get(slug="kymriah")
    assert kymriah.is_accelerated_assessment_at_authorisation is None
    assert kymriah.is_accelerated_assessment is True
    [diff] = report.products
    assert diff.reviews == []
    assert "  is_accelerated_assessment: no -> yes" in diff.lines()
    assert kymriah.ema_indication_text == "Kymriah is indicated for B-cell ALL & DLBCL."


def test_an_empty_cell_never_erases_a_known_value(catalogue, tmp_path):
    skysona = Product.objects.get(slug="skysona")
    row = medicine(name_of_medicine="Skysona", ema_product_number="EMEA/H/C/003690",
                   medicine_status="Withdrawn", atc_code_human=None, medicine_url=None,
                   marketing_authorisation_developer_applicant_holder=None,
                   marketing_authorisation_date=None, orphan_medicine=None,
                   **{END_DATE: None})  # fmt: skip
    report = _import(tmp_path, row)
    fresh = Product.objects.get(slug="skysona")
    assert (fresh.status_date, fresh.atc_code, fresh.holder, fresh.authorisation_date) == (
        skysona.status_date, skysona.atc_code, skysona.holder, skysona.authorisation_date,
    )  # fmt: skip
    assert fresh.status_date == datetime.date(2021, 11, 18)
    assert fresh.is_orphan is False  # the register's value now, kept
    assert [c.field for c in report.products[0].changes] == [
        "is_conditional",
        "is_prime",
        "ema_indication_text",
        "ema_last_updated_date",
    ]


def test_a_less_specific_atc_code_and_another_spelling_of_the_holder_are_no_news(
    catalogue, tmp_path
):
    row = medicine(name_of_medicine="Hemgenix", ema_product_number="EMEA/H/C/004827",
                   atc_code_human="B02BD", orphan_medicine="Yes", conditional_approval="Yes",
                   prime_priority_medicine="Yes", therapeutic_area_mesh="Hemophilia B",
                   marketing_authorisation_developer_applicant_holder="CSL BEHRING G.m.b.H.",
                   marketing_authorisation_date="20/02/2023", therapeutic_indication=None,
                   last_updated_date=None, medicine_url=None)  # fmt: skip
    report = _import(tmp_path, row)
    assert report.summary == "created 0, updated 0, unchanged 1, flagged for review 0"
    hemgenix = Product.objects.get(slug="hemgenix")
    assert (hemgenix.atc_code, hemgenix.holder.name) == ("B02BD16", "CSL Behring GmbH")


def test_a_new_holder_is_created_once(catalogue, tmp_path):
    rows = [
        kymriah_row(marketing_authorisation_developer_applicant_holder="Novartis Pharma AG"),
        medicine(marketing_authorisation_developer_applicant_holder="Novartis Pharma A.G."),
    ]
    report = _import(tmp_path, *rows)
    assert Product.objects.get(slug="kymriah").holder.name == "Novartis Pharma AG"
    assert Product.objects.get(slug="testagene").holder.name == "Novartis Pharma AG"
    assert Company.objects.filter(name__startswith="Novartis Pharma").count() == 1
    assert "  holder: Novartis Europharm Limited -> Novartis Pharma AG" in report.diff_lines()


def test_a_malformed_atc_code_is_kept_out_and_flagged(catalogue, tmp_path):
    report = _import(tmp_path, kymriah_row(atc_code_human="L01XE3"))
    assert Product.objects.get(slug="kymriah").atc_code == "L01XL04"
    assert any("'L01XE3' is not a valid ATC code" in r for r in report.products[0].reviews)


def test_a_new_withdrawal_without_its_date_is_not_created_but_flagged(db, tmp_path):
    report = _import(tmp_path, medicine(medicine_status="Withdrawn"))
    assert not Product.objects.filter(ema_product_number="EMEA/H/C/009901").exists()
    assert report.summary == "created 0, updated 0, unchanged 0, flagged for review 1"
    assert report.products[0].action == "not created"


def test_a_doubted_status_date_is_flagged_not_applied(catalogue, tmp_path):
    # Zynteglo's withdrawal date is doubted ("status_date (conflict)": 24 or 29 March 2022).
    row = medicine(name_of_medicine="Zynteglo", ema_product_number="EMEA/H/C/003691",
                   medicine_status="Withdrawn", **{END_DATE: "29/03/2022"})  # fmt: skip
    report = _import(tmp_path, row)
    assert Product.objects.get(slug="zynteglo").status_date == datetime.date(2022, 3, 24)
    [diff] = report.products
    assert any(r.startswith("status_date: the export says 2022-03-29") for r in diff.reviews)


def test_a_status_date_the_timeline_contradicts_is_flagged_not_applied(catalogue, tmp_path):
    # Alofisel's timeline ends with its withdrawal on 13/12/2024; an export dating it otherwise
    # cannot silently rewrite the curated event.
    row = medicine(name_of_medicine="Alofisel", ema_product_number="EMEA/H/C/004258",
                   medicine_status="Withdrawn", marketing_authorisation_date="23/03/2018",
                   **{END_DATE: "20/12/2024"})  # fmt: skip
    report = _import(tmp_path, row)
    alofisel = Product.objects.get(slug="alofisel")
    assert (alofisel.status, alofisel.status_date) == ("withdrawn", datetime.date(2024, 12, 13))
    [diff] = report.products
    assert "status_date" not in {change.field for change in diff.changes}
    [review] = [r for r in diff.reviews if "timeline" in r]
    assert "2024-12-20" in review and "differs from the date of the latest event" in review


def test_a_dry_run_changes_nothing(catalogue, tmp_path):
    before = snapshot()
    report = _import(tmp_path, kymriah_row(medicine_status="Revoked", **{END_DATE: "01/10/2025"}),
                     medicine(), dry_run=True)  # fmt: skip
    assert report.summary == "created 1, updated 1, unchanged 0, flagged for review 0"
    assert "  status: Authorised -> Revoked" in report.diff_lines()
    assert report.run is None
    assert snapshot() == before


def test_a_real_run_is_recorded(catalogue, tmp_path):
    report = _import(tmp_path, kymriah_row(), medicine(), name="medicines-output.xlsx")
    run = ImportRun.objects.get()
    assert run == report.run
    assert (run.file_name, run.run_by, run.dry_run) == ("medicines-output.xlsx", "tester", False)
    assert run.generated_at == datetime.datetime(2025, 10, 27, 6, 13, tzinfo=AMSTERDAM)
    assert (run.created, run.updated, run.unchanged, run.flagged) == (1, 1, 0, 0)
    assert run.diff == report.diff
    assert run.diff.startswith("Kymriah (EMEA/H/C/004090): updated\n")


def test_importing_the_same_file_twice_changes_nothing_the_second_time(catalogue, tmp_path):
    path = write_workbook(tmp_path / "export.xlsx", [kymriah_row(), medicine()])
    first = import_file(path)
    assert (first.created, first.updated) == (1, 1)
    before = snapshot(without=("products.ImportRun",))
    second = import_file(path)
    assert second.summary == "created 0, updated 0, unchanged 2, flagged for review 1"
    assert snapshot(without=("products.ImportRun",)) == before
    assert ImportRun.objects.count() == 2


def test_a_bad_row_leaves_the_database_as_it_was(catalogue, tmp_path):
    # The first rows are fine; the last contradicts itself (withdrawn before it was authorised),
    # which only the model's validation finds, after the earlier rows were applied.
    rows = [
        kymriah_row(medicine_status="Withdrawn", **{END_DATE: "01/10/2025"}),
        medicine(),
        medicine(name_of_medicine="Zzz", ema_product_number="EMEA/H/C/009909",
                 medicine_status="Withdrawn", **{END_DATE: "01/01/2020"}),
    ]  # fmt: skip
    before = snapshot()
    with pytest.raises(ExportFormatError, match=r"row 12 \(EMEA/H/C/009909\): .*status date"):
        _import(tmp_path, *rows)
    assert snapshot() == before


def test_an_interruption_leaves_the_database_as_it_was(catalogue, tmp_path, monkeypatch):
    calls = []
    original = ema.Importer.create

    def interrupted(self, row):
        if calls:
            raise KeyboardInterrupt
        calls.append(row)
        return original(self, row)

    monkeypatch.setattr(ema.Importer, "create", interrupted)
    rows = [kymriah_row(medicine_status="Lapsed", **{END_DATE: "01/10/2025"}), medicine(),
            medicine(name_of_medicine="Zzz", ema_product_number="EMEA/H/C/009909")]  # fmt: skip
    before = snapshot()
    with pytest.raises(KeyboardInterrupt):
        _import(tmp_path, *rows)
    assert calls  # one product was created before the interruption
    assert snapshot() == before


# The real export of 27/10/2025 ------------------------------------------------------------------


def test_the_real_export_is_read(real_export):
    assert len(real_export.rows) == 2623
    assert real_export.generated_at == datetime.datetime(2025, 10, 27, 6, 13, tzinfo=AMSTERDAM)
    flagged = [row for row in real_export.rows if row.is_advanced_therapy]
    assert len(flagged) == 32
    numbers = {row.product_number for row in real_export.rows}
    assert "EMEA/H/C/005201" in numbers  # written EMEA/H/C005201 in the file
    kymriah = next(row for row in real_export.rows if row.product_number == "EMEA/H/C/004090")
    assert kymriah.flags["is_prime"] is True  # "Da"
    assert kymriah.authorisation_date == datetime.date(2018, 8, 23)


#: Products the export flags "No" for advanced therapy although the catalogue holds them ATMPs
#: (the fact sheet's doubt 16: EMA's own pages or the CAT's assessment say they are).
NOT_FLAGGED_ATMPS = {
    "artobend", "aucatzyl", "cerepro", "contusugene-ladenovec-gendux", "heparesc",
    "hyalograft-c-autograft", "lumevoq", "oranera", "roctavian-first-application", "sitoiganap",
    "zemcelpro",
}  # fmt: skip


def test_the_real_export_on_a_fresh_catalogue_is_only_news(catalogue, real_export):
    """The catalogue already carries the export's facts: the dry run shows nothing but a
    proposal a curator has still to decide (Breyanzi's extra MeSH area)."""
    before = snapshot()
    report = import_export(real_export, dry_run=True)
    assert snapshot() == before
    numbered = catalogue.exclude(ema_product_number=None).count()
    assert (report.created, report.updated, report.unchanged) == (0, 0, numbered)
    assert report.diff.splitlines() == [
        "Breyanzi (EMEA/H/C/004731): unchanged",
        "  flagged for review: proposed therapeutic area(s) from the export's MeSH column, for a "
        "curator to place on an indication: Mediastinal Neoplasms",
    ]


def test_the_real_export_twice_is_a_no_op(catalogue, real_export):
    first = import_export(real_export)
    assert first.updated == 0
    second = import_export(real_export)
    numbered = catalogue.exclude(ema_product_number=None).count()
    assert (second.created, second.updated, second.unchanged) == (0, 0, numbered)
    assert second.flagged == 1


def test_the_real_export_on_an_empty_catalogue(db, real_export):
    Product.objects.all().delete()
    report = import_export(real_export)
    assert report.created == 30
    not_created = {diff.name for diff in report.products if diff.action == "not created"}
    assert not_created == {"Skysona", "Zalmoxis"}  # withdrawn, and the export has no date
    assert Product.objects.filter(is_published=False, is_atmp=True).count() == 30
    beqvez = Product.objects.get(ema_product_number="EMEA/H/C/004774")
    assert (beqvez.name, beqvez.aliases, beqvez.status) == ("Beqvez", ["Durveqtix"], "withdrawn")
    assert [event.kind for event in beqvez.timeline] == ["initial-authorisation", "withdrawal"]


# The catalogue agrees with the export ----------------------------------------------------------

#: Where the catalogue's data and the export differ on purpose, and why. (slug, field):
#: (catalogue, export, which is right and why). None remain: the flags that changed since
#: authorisation (Abecma, Carvykti and Holoclar converted; six orphan designations gone) hold both
#: values, each for its time, with the change on the timeline; Roctavian's PRIME flag and
#: Luxceptar's number were corrected (tests/test_catalogue_data.py).
KNOWN_DIFFERENCES: dict[tuple[str, str], tuple] = {}

#: Refusals and withdrawn applications never held an MA: they have no authorisation flags
#: (conditional, exceptional circumstances, accelerated assessment), whatever the export says.
UNRECORDED_FLAG_STATUSES = {"refused", "application-withdrawn", "under-re-examination"}
AUTHORISATION_FLAGS = {
    "is_conditional",
    "is_exceptional_circumstances",
    "is_accelerated_assessment",
}
FLAGS = ema.FLAG_FIELDS


def _catalogue_products():
    data = json.loads((Path(settings.BASE_DIR) / "fixtures" / "catalogue.json").read_text())
    return {product["slug"]: product for product in data["products"]}


CATALOGUE = _catalogue_products()


@pytest.mark.parametrize("slug", sorted(CATALOGUE))
def test_the_catalogue_agrees_with_the_export(slug, real_export):
    product = CATALOGUE[slug]
    rows = {row.product_number: row for row in real_export.rows}
    number = product["ema_product_number"]
    if number is None:
        same_name = [
            row for row in real_export.rows
            if ema.plain(ema.split_name(row.name)[0]) == ema.plain(product["name"])
        ]  # fmt: skip
        found = {("ema_product_number", None, row.product_number) for row in same_name}
        known = {
            (name, old, new)
            for (known_slug, name), (old, new, _why) in KNOWN_DIFFERENCES.items()
            if known_slug == slug
        }
        assert found == known
        return
    assert number in rows, f"{slug}: {number} is not in the export"
    row = rows[number]
    export_values = {
        "status": row.status.value,
        "authorisation_date": row.authorisation_date,
        "status_date": row.status_date(),
        **row.flags,
    }
    catalogue_values = {
        "status": product["status"],
        "authorisation_date": parse_date(product["authorisation_date"]),
        "status_date": parse_date(product["status_date"]),
        **{name: product[name] for name in FLAGS},
    }
    differences = {}
    for name, exported in export_values.items():
        if exported is None:
            continue  # the export carries nothing here (e.g. Skysona's withdrawal date)
        if name in AUTHORISATION_FLAGS and product["status"] in UNRECORDED_FLAG_STATUSES:
            assert product[name] is None, f"{slug}: {name} recorded for a non-authorisation"
            continue
        if catalogue_values[name] != exported:
            differences[name] = (catalogue_values[name], exported)
    if holder_key(product["holder"] or "") != holder_key(row.holder):
        differences["holder"] = (product["holder"], row.holder)
    known = {
        name: (old, new)
        for (known_slug, name), (old, new, _why) in KNOWN_DIFFERENCES.items()
        if known_slug == slug
    }
    assert differences == known


def test_every_product_of_the_export_was_compared():
    """The agreement test above compared every product with a number (none is skipped)."""
    numbered = [slug for slug, product in CATALOGUE.items() if product["ema_product_number"]]
    assert len(numbered) == 44 and not KNOWN_DIFFERENCES  # a data test: the real catalogue


# Leaving products out (only, skip) ---------------------------------------------------------------


def test_only_the_chosen_products_change_and_the_others_are_reported_left_out(catalogue, tmp_path):
    withdrawn = kymriah_row(medicine_status="Withdrawn", **{END_DATE: "01/10/2025"})
    path = write_workbook(tmp_path / "export.xlsx", [withdrawn, medicine()])
    kymriah_before = Product.objects.values().get(slug="kymriah")
    report = import_file(path, only={"EMEA/H/C/009901"}, run_by="tester")
    assert report.summary == "created 1, updated 0, unchanged 0, flagged for review 0, left out 1"
    [left_out] = report.left_out
    assert (left_out.name, left_out.action) == ("Kymriah", "left out")
    assert "  status: Authorised -> Marketing authorisation withdrawn" in report.diff_lines()
    assert Product.objects.values().get(slug="kymriah") == kymriah_before
    assert not Product.objects.get(slug="kymriah").events.filter(kind=EventKind.WITHDRAWAL).exists()
    assert Product.objects.filter(ema_product_number="EMEA/H/C/009901").exists()


def test_a_left_out_new_product_leaves_no_holder_behind_for_the_next(catalogue, tmp_path):
    """Two new products of one new holder: the first left out (its holder undone with it), the
    second imported with a holder of its own, saved once."""
    rows = [medicine(), medicine(name_of_medicine="Zzz", ema_product_number="EMEA/H/C/009909")]
    report = _import(tmp_path, *rows, skip={"EMEA/H/C/009901"})
    assert [(diff.name, diff.action) for diff in report.products] == [
        ("Testagene", "left out"), ("Zzz", "created"),
    ]  # fmt: skip
    [holder] = Company.objects.filter(name="Testa Biologics B.V.")
    assert Product.objects.get(ema_product_number="EMEA/H/C/009909").holder == holder
    assert not Product.objects.filter(ema_product_number="EMEA/H/C/009901").exists()


def test_an_unchanged_product_left_out_is_counted_unchanged(catalogue, tmp_path):
    _import(tmp_path, medicine(therapeutic_area_mesh=""))
    report = _import(tmp_path, medicine(therapeutic_area_mesh=""), skip={"EMEA/H/C/009901"})
    assert report.summary == "created 0, updated 0, unchanged 1, flagged for review 0"


def test_choosing_a_product_the_export_does_not_import_changes_nothing(catalogue, tmp_path):
    before = snapshot()
    with pytest.raises(ema.UnknownProducts, match=r"would import: EMEA/H/C/999999$"):
        _import(tmp_path, medicine(), only={"EMEA/H/C/999999"})
    assert snapshot() == before


def test_the_command_skips_and_imports_only_by_product_number(catalogue, tmp_path):
    from django.core.management import CommandError, call_command

    path = write_workbook(tmp_path / "export.xlsx", [kymriah_row(), medicine()])
    out = io.StringIO()
    call_command("import_ema", str(path), "--skip", "EMEA/H/C/004090", stdout=out)
    assert out.getvalue().splitlines()[-1].endswith("left out 1")
    assert "Kymriah (EMEA/H/C/004090): left out" in out.getvalue()
    before = snapshot()
    with pytest.raises(CommandError, match=r"export.xlsx: not among .*: EMEA/H/C/000001$"):
        call_command("import_ema", str(path), "--only", "EMEA/H/C/000001", stdout=io.StringIO())
    assert snapshot() == before
