"""Sources and doubts in words a visitor can read: ``products/sources.py``, the product page's
"Sources" section and the API's ``source_links`` and ``unverified``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.core.cache import cache
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from products.sources import (
    COMMISSION,
    EMA,
    Source,
    describe_source,
    ordered_sources,
    plain_unverified,
    plain_verification,
)
from tests.factories import ProductFactory

EXPORT_NOTE = (
    "EMA medicines data export generated from ema.europa.eu on 27/10/2025 "
    "(file ema_medicines_output_2025-10-27.xlsx in this folder)"
)


def is_notation_free(text: str) -> bool:
    return not re.search(r"_|\[|\]|\w\.\w", text)


# --- describe_source ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "publisher"),
    [
        (
            "https://www.ema.europa.eu/en/medicines/human/EPAR/holoclar",
            "EMA: European public assessment report (EPAR) for Holoclar",
            EMA,
        ),
        (
            "http://ema.europa.eu/en/medicines/human/EPAR/hemgenix",
            "EMA: European public assessment report (EPAR) for Hemgenix",
            EMA,
        ),
        (
            "https://www.ema.europa.eu/de/medicines/human/EPAR/adstiladrin",
            "EMA: European public assessment report (EPAR) for Adstiladrin (German page)",
            EMA,
        ),
        (
            "https://ema.europa.eu/en/medicines/human/orphan-designations/eu-3-16-1627",
            "EMA: orphan designation EU/3/16/1627",
            EMA,
        ),
        (
            "https://www.ema.europa.eu/en/medicines/human/orphan-designations/eu3141266",
            "EMA: orphan designation EU/3/14/1266",
            EMA,
        ),
        (
            "https://www.ema.europa.eu/en/medicines/human/withdrawn-applications/cerepro-0",
            "EMA: withdrawn application for Cerepro",
            EMA,
        ),
        (
            "http://www.ema.europa.eu/ema/index.jsp?curl=pages/medicines/human/medicines/000694/"
            "wapp/Initial_authorisation/human_wapp_000067.jsp&mid=WC0b01ac058001d128",
            "EMA: withdrawn application (EMEA/H/C/000694, former EMA site)",
            EMA,
        ),
        (
            "http://www.ema.europa.eu/ema/index.jsp?curl=pages/medicines/human/orphans/2012/02/"
            "human_orphan_001015.jsp&mid=WC0b01ac058001d12b&murl=menus/medicines/medicines.jsp",
            "EMA: orphan designation of February 2012 (former EMA site)",
            EMA,
        ),
        (
            "http://ec.europa.eu/health/documents/community-register/html/h987.htm",
            "European Commission: Union Register of medicinal products (h987)",
            COMMISSION,
        ),
        (
            "http://gmoinfo.jrc.ec.europa.eu/gmo_report.aspx?CurNot=B/ES/15/04",
            "European Commission: register of GMO notifications (B/ES/15/04)",
            COMMISSION,
        ),
        (
            "https://www.chiesi.com/en/chiesi-group-and-holostem-terapie-avanzate-announce-"
            "transfer-of-holoclar-from-the-chiesi-group-to-holostem/",
            "Company announcement: chiesi.com",
            "Chiesi",
        ),
        (
            "https://www.holostem.com/2024/04/05/european-medicines-agency-ratified-holoclar-full"
            "-marketing-authorisation/?lang=en",
            "Company announcement: holostem.com (5 April 2024)",
            "Holostem Terapie Avanzate",
        ),
        (
            "https://www.businesswire.com/news/home/20210819005501/en/",
            "Press release: businesswire.com",
            "Business Wire",
        ),
        (
            "https://thepharmaletter.com/article/holoclar-the-first-stem-cell-based-medicinal-"
            "product-approved-in-europe",
            "News report: thepharmaletter.com",
            "The Pharma Letter",
        ),
        (
            "https://it.marketscreener.com/quotazioni/azione/ATARA-BIOTHERAPEUTICS-INC-16917577/",
            "News report: it.marketscreener.com",
            "MarketScreener",
        ),
        (
            "https://clinicaltrials.gov/study/NCT02445248",
            "Clinical trial register: clinicaltrials.gov",
            "ClinicalTrials.gov",
        ),
        (
            "https://ravimiregister.ee/en/default.aspx?pv=HumRavimid.Ravim&vid=2f70b658",
            "National medicines register: ravimiregister.ee",
            "Estonian State Agency of Medicines",
        ),
        ("https://www.eurogct.org/case-study-holoclar", "Web page: eurogct.org", "eurogct.org"),
        (EXPORT_NOTE, "EMA: medicines data export of 27 October 2025", EMA),
        (
            # The note the EMA import (products/importers/ema.py) writes.
            "From the EMA medicines export generated on 03/11/2026 (medicines-output.xlsx)",
            "EMA: medicines data export of 3 November 2026",
            EMA,
        ),
    ],
)
def test_a_source_gets_a_title_and_its_publisher(text, title, publisher):
    source = describe_source(text)
    assert (source.title, source.publisher) == (title, publisher)
    assert source.url == (text if text.startswith("http") else "")
    assert source.is_ema == (publisher == EMA)


def test_the_publisher_is_noted_where_the_title_does_not_name_it():
    chiesi = describe_source("https://www.chiesi.com/en/news/")
    assert (chiesi.publisher, chiesi.publisher_note) == ("Chiesi", "")
    letter = describe_source("https://thepharmaletter.com/article/x")
    assert letter.publisher_note == "The Pharma Letter"
    epar = describe_source("https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah")
    assert epar.publisher_note == EMA


def test_a_note_loses_the_curators_file_names_and_gets_no_link():
    source = describe_source(
        "Assessment report shared by the CAT (file cat_report.pdf in this folder)"
    )
    assert source == Source("Assessment report shared by the CAT", "", "")
    assert describe_source("Company letter (letter-2021.pdf)").title == "Company letter"


def test_words_with_an_address_title_the_link():
    source = describe_source(
        "Minutes of the CAT, May 2016: https://www.ema.europa.eu/en/documents/x"
    )
    assert source.title == "Minutes of the CAT, May 2016"
    assert (source.url, source.publisher) == ("https://www.ema.europa.eu/en/documents/x", EMA)


@pytest.mark.parametrize("text", ["https://", "http://[broken", "https:///path-only"])
def test_a_malformed_address_is_not_a_link_and_does_not_fail(text):
    source = describe_source(text)
    assert source == Source("Web page (the address recorded is not valid)", "", "")


def test_a_text_that_is_not_a_web_address_is_never_a_link():
    source = describe_source("javascript:alert(1)")
    assert source.url == ""
    assert source.title == "javascript:alert(1)"  # shown as text, escaped by the template


@given(st.text() | st.builds("https://{}".format, st.text()))
def test_any_text_gets_a_title_and_a_link_only_to_a_web_address(text):
    source = describe_source(text)
    assert isinstance(source.title, str)
    assert source.url == "" or source.url.lower().startswith(("http://", "https://"))
    if source.url:
        assert "://" not in source.title


@given(st.text())
def test_any_unverified_entry_reads_without_underscores(entry):
    assert "_" not in plain_unverified(entry)


# --- ordered_sources ----------------------------------------------------------------------------


def test_ordered_sources_puts_the_ema_first_then_the_commission_and_drops_repeats():
    texts = [
        "https://www.reuters.com/article/ema-brief-idUSFWN0U302820141219",
        "http://ec.europa.eu/health/documents/community-register/html/h987.htm",
        "https://www.ema.europa.eu/en/medicines/human/EPAR/holoclar",
        "https://www.chiesi.com/en/some-news/",
        "http://ema.europa.eu/en/medicines/human/EPAR/holoclar/",  # the same page again
        EXPORT_NOTE,
        EXPORT_NOTE,
        "",
    ]
    titles = [source.title for source in ordered_sources(texts)]
    assert titles == [
        "EMA: European public assessment report (EPAR) for Holoclar",
        "EMA: medicines data export of 27 October 2025",
        "European Commission: Union Register of medicinal products (h987)",
        "News report: reuters.com",
        "Company announcement: chiesi.com",
    ]


def test_ordered_sources_numbers_pages_that_would_share_a_title():
    texts = [
        "https://esmo.org/oncology-news/ema-recommends-extension-for-tisagenlecleucel",
        "https://esmo.org/oncology-news/archive/first-two-car-t-cell-therapies",
    ]
    sources = ordered_sources(texts)
    assert [source.title for source in sources] == [
        "News report: esmo.org (1 of 2)",
        "News report: esmo.org (2 of 2)",
    ]
    assert [source.url for source in sources] == texts


# --- plain_unverified and plain_verification ----------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (
            "authorisation_type.accelerated_assessment (conflict)",
            "Whether it had an accelerated assessment (sources conflict)",
        ),
        (
            "authorisation_type.accelerated_assessment (ESMO vs export conflict)",
            "Whether it had an accelerated assessment (sources conflict)",
        ),
        (
            "indications[0].orphan_designation",
            "Whether the first indication had an orphan designation",
        ),
        (
            "indications[1].orphan_designation (designation confirmed; maintenance at MA not "
            "checked)",
            "Whether the second indication had an orphan designation (the designation is "
            "confirmed; whether it was kept at authorisation was not checked)",
        ),
        ("marketing_authorisation_holder.original", "The first marketing authorisation holder"),
        ("authorisation_date", "The exact date of the first authorisation"),
        ("status_date (conflict)", "The date of its current status (sources conflict)"),
        ("atc_code (not assigned)", "The ATC code (none assigned yet)"),
        ("post-Oct-2025 status", "Its status since October 2025"),
        # Not known here: the notation made readable, the reason kept.
        ("manufacturing_site.country[2]", "Manufacturing site, country 3"),
        ("dosing_regimen (per_protocol v2.1)", "Dosing regimen (per protocol v2.1)"),
    ],
)
def test_an_unverified_entry_reads_as_plain_words(entry, words):
    assert plain_unverified(entry) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("verified", "All core facts checked against sources"),
        (
            "partially verified",
            "Some core facts checked against sources, not all",
        ),
        ("unverified", "Not yet checked against sources"),
        ("checked_by_two", "Checked by two"),
    ],
)
def test_verification_reads_as_plain_words(value, words):
    assert plain_verification(value) == words


def test_verified_with_doubts_says_the_doubts_are_the_exceptions():
    words = plain_verification("verified", ["authorisation_date"])
    assert words == "Core facts checked against sources, except those below"
    assert plain_verification("unverified", ["authorisation_date"]) == (
        "Not yet checked against sources"
    )


# --- Every source and doubt of the real catalogue -----------------------------------------------


def test_every_source_of_the_catalogue_has_a_readable_title(catalogue_data):
    texts = {text for product in catalogue_data["products"] for text in product["sources"]}
    assert len(texts) > 200
    publishers = set()
    for text in texts:
        source = describe_source(text)
        assert source.title and source.publisher, text
        assert "in this folder" not in source.title and ".xlsx" not in source.title, text
        assert "http" not in source.title.lower() and "://" not in source.title, text
        assert "_" not in source.title and "[" not in source.title, text
        if text.startswith("http"):
            assert source.url == text
        publishers.add(source.publisher)
    assert {EMA, COMMISSION, "Chiesi", "Reuters"} <= publishers


def test_every_unverified_entry_of_the_catalogue_reads_as_plain_words(catalogue_data):
    entries = {e for product in catalogue_data["products"] for e in product["unverified_fields"]}
    assert len(entries) > 20
    for entry in entries:
        words = plain_unverified(entry)
        assert words and words[0].isupper(), entry
        assert is_notation_free(words), (entry, words)
        assert words != entry


def test_every_verification_value_of_the_catalogue_reads_as_plain_words(catalogue_data):
    values = {product["verification"] for product in catalogue_data["products"]}
    assert values == {"verified", "partially verified", "unverified"}
    assert all(plain_verification(value) != value for value in values)


# --- The product page ---------------------------------------------------------------------------


class SourcesParser(HTMLParser):
    """The sources listed on a page, in order: (title, href or "", publisher or "")."""

    def __init__(self):
        super().__init__()
        self.items: list[list[str]] = []
        self.field = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "li" and "source" in classes:
            self.items.append(["", "", ""])
        elif self.items and "source__title" in classes:
            self.field = "title"
            self.items[-1][1] = attrs.get("href", "") if tag == "a" else ""
            if tag == "a":
                assert attrs.get("rel") == "external nofollow"
        elif self.items and "source__publisher" in classes:
            self.field = "publisher"

    def handle_endtag(self, tag):
        self.field = ""

    def handle_data(self, data):
        if self.field == "title":
            self.items[-1][0] += data
        elif self.field == "publisher":
            self.items[-1][2] += data


def sources_on(html: str) -> list[tuple[str, str, str]]:
    section = html.split('id="sources-heading"', 1)[1].split("</section>", 1)[0]
    parser = SourcesParser()
    parser.feed(section)
    return [tuple(item) for item in parser.items]


def test_holoclar_page_lists_titled_sources_the_emas_first(client, catalogue):
    html = client.get(reverse("products:product_detail", args=["holoclar"])).content.decode()
    assert sources_on(html) == [
        (
            "EMA: European public assessment report (EPAR) for Holoclar",
            "https://www.ema.europa.eu/en/medicines/human/EPAR/holoclar",
            EMA,
        ),
        ("EMA: medicines data export of 27 October 2025", "", EMA),
        (
            "European Commission: Union Register of medicinal products (h987)",
            "http://ec.europa.eu/health/documents/community-register/html/h987.htm",
            "",  # the title names the Commission already
        ),
        (
            "Company announcement: chiesi.com",
            "https://www.chiesi.com/en/chiesi-group-and-holostem-terapie-avanzate-announce-"
            "transfer-of-holoclar-from-the-chiesi-group-to-holostem/",
            "",  # "Chiesi" is in the title
        ),
        (
            "Company announcement: holostem.com (5 April 2024)",
            "https://www.holostem.com/2024/04/05/european-medicines-agency-ratified-holoclar-full"
            "-marketing-authorisation/?lang=en",
            "Holostem Terapie Avanzate",
        ),
        ("Web page: eurogct.org", "https://www.eurogct.org/case-study-holoclar", ""),
        (
            "News report: thepharmaletter.com",
            "https://thepharmaletter.com/article/holoclar-the-first-stem-cell-based-medicinal-"
            "product-approved-in-europe",
            "The Pharma Letter",
        ),
        (
            "News report: reuters.com",
            "http://www.reuters.com/article/ema-brief-idUSFWN0U302820141219",
            "",
        ),
    ]
    assert "in this folder" not in html
    assert "All core facts checked against sources" in html


def test_kymriah_page_says_what_is_not_yet_verified_in_plain_words(client, catalogue):
    html = client.get(reverse("products:product_detail", args=["kymriah"])).content.decode()
    section = html.split('id="sources-heading"', 1)[1].split("</section>", 1)[0]
    assert "Core facts checked against sources, except those below" in section
    assert "<li>Whether it had an accelerated assessment (sources conflict)</li>" in section
    assert "<li>Whether the second indication had an orphan designation (" in section
    assert "authorisation_type" not in html and "indications[1]" not in html
    titles = [title for title, _url, _publisher in sources_on(html)]
    assert titles[:4] == [
        "EMA: European public assessment report (EPAR) for Kymriah",
        "EMA: medicines data export of 27 October 2025",
        "EMA: orphan designation EU/3/14/1266",
        "EMA: orphan designation EU/3/21/2464",
    ]
    assert "News report: esmo.org (2 of 2)" in titles


def test_every_published_page_shows_no_raw_source_or_field_path(client, catalogue):
    for product in catalogue.filter(is_published=True):
        html = client.get(product.get_absolute_url()).content.decode()
        section = html.split('id="sources-heading"', 1)[1].split("</section>", 1)[0]
        text = re.sub(r"<[^>]+>", " ", section)  # the visible text, without hrefs
        assert "http" not in text and "in this folder" not in text, product.slug
        for entry in product.unverified_fields:
            assert entry not in text or is_notation_free(entry), (product.slug, entry)
        if product.sources:
            assert sources_on(html), product.slug


def test_a_page_without_sources_says_so(client, db):
    product = ProductFactory(sources=[], epar_url="", verification="")
    html = client.get(product.get_absolute_url()).content.decode()
    assert sources_on(html) == []
    assert "No sources are recorded yet." in html


def test_a_note_without_a_link_is_listed_as_text(client, db):
    product = ProductFactory(
        sources=["Letter from the holder (file letter.pdf in this folder)"],
        epar_url="https://www.ema.europa.eu/en/medicines/human/EPAR/factorex",
        unverified_fields=["route_of_administration"],
    )
    html = client.get(product.get_absolute_url()).content.decode()
    assert sources_on(html) == [
        (
            "EMA: European public assessment report (EPAR) for Factorex",
            "https://www.ema.europa.eu/en/medicines/human/EPAR/factorex",
            EMA,
        ),
        ("Letter from the holder", "", ""),
    ]
    assert "<li>Route of administration</li>" in html


# --- The API ------------------------------------------------------------------------------------


def test_api_gives_source_links_in_the_pages_order_and_doubts_in_words(client, catalogue):
    cache.clear()
    holoclar = client.get(reverse("api:product-detail", kwargs={"slug": "holoclar"})).json()
    html = client.get(reverse("products:product_detail", args=["holoclar"])).content.decode()
    links = holoclar["source_links"]
    assert [link["title"] for link in links] == [title for title, _u, _p in sources_on(html)]
    assert links[0] == {
        "title": "EMA: European public assessment report (EPAR) for Holoclar",
        "url": "https://www.ema.europa.eu/en/medicines/human/EPAR/holoclar",
        "publisher": EMA,
    }
    assert links[1] == {
        "title": "EMA: medicines data export of 27 October 2025",
        "url": None,
        "publisher": EMA,
    }
    assert links[3]["publisher"] == "Chiesi"
    assert holoclar["sources"][0] == EXPORT_NOTE  # kept as the curators wrote it
    assert holoclar["unverified"] == []
    kymriah = client.get(reverse("api:product-detail", kwargs={"slug": "kymriah"})).json()
    assert kymriah["unverified"][0] == "Whether it had an accelerated assessment (sources conflict)"


def test_schema_documents_source_links_and_unverified(client, catalogue):
    cache.clear()
    openapi = yaml.safe_load(client.get(reverse("api:schema")).content)
    product = openapi["components"]["schemas"]["Product"]["properties"]
    assert product["source_links"]["type"] == "array"
    assert product["source_links"]["items"]["$ref"] == "#/components/schemas/SourceLink"
    link = openapi["components"]["schemas"]["SourceLink"]["properties"]
    assert set(link) == {"title", "url", "publisher"}
    assert link["url"]["nullable"] is True
    assert product["unverified"]["items"]["type"] == "string"
