"""Public pages: every page, every filter, bad parameters (never a 500), 404s, query counts."""

import datetime
import json
import re
from collections import Counter
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from products.choices import EventKind
from products.models import AuthorisationEvent, Category, Product, TherapeuticArea
from tests.factories import ProductFactory

LIST = reverse("products:product_list")


def listed(response) -> list[str]:
    return [product.slug for product in response.context["page_obj"]]


def facet(response, param: str):
    return next(f for f in response.context["facets"] if f.param == param)


def options(response, param: str) -> dict[str, int]:
    return {option.value: option.count for option in facet(response, param).options}


def default_list():
    """What a list shows with no ``status`` (SPEC): the published products that hold or held an
    authorisation. Expected totals are counted here, never written down: the data tests
    (test_catalogue_data.py) check the real catalogue's numbers."""
    return Product.objects.published().held_authorisation()


def per_category(products) -> dict[str, int]:
    return dict(Counter(products.exclude(category=None).values_list("category__slug", flat=True)))


# Pages


def test_home_shows_counts_chart_latest_changes_and_search(client, catalogue):
    response = client.get(reverse("products:home"))
    assert response.status_code == 200
    html = response.content.decode()
    shown = default_list()
    assert response.context["total"] == shown.count()
    counts = {row["category"].slug: row["count"] for row in response.context["category_counts"]}
    assert counts == per_category(shown) and len(counts) == 4
    assert response.context["category_not_known"] == shown.filter(category=None).count()
    statuses = {row["value"]: row["count"] for row in response.context["status_counts"]}
    assert statuses == dict(Counter(shown.values_list("status", flat=True)))
    assert '<svg viewBox="0 0 720 280" role="img"' in html
    assert '<title id="per-year-title">First EU authorisations per year, 2009–2026' in html
    assert '<table class="data-table">' in html and '<th scope="row">2018</th>' in html
    assert 'action="/products/"' in html and 'name="q"' in html
    assert response.context["latest_events"] and "Recently updated entries" in html


def test_list_shows_products_count_facets_and_links(client, catalogue):
    response = client.get(LIST)
    assert response.status_code == 200
    shown = default_list()
    assert response.context["paginator"].count == shown.count() > 20
    assert listed(response)[:3] == ["abecma", "adstiladrin", "alofisel"]
    assert len(listed(response)) == 20
    html = response.content.decode()
    assert f"{shown.count()} products" in html
    assert 'href="/products/export.csv"' in html
    not_known = shown.filter(category=None).count()
    assert options(response, "category") == {**per_category(shown), "not-known": not_known}
    refused = Product.objects.published().filter(status="refused").count()
    assert options(response, "status")["refused"] == refused > 0  # offered, not listed


def test_facet_counts_of_a_group_ignore_its_own_selection(client, catalogue):
    response = client.get(LIST + "?category=gene-therapy&status=withdrawn")
    assert set(listed(response)) == {"beqvez", "skysona", "zynteglo"}
    published = Product.objects.published()
    withdrawn_sctmps = published.filter(status="withdrawn", category__slug="somatic-cell-therapy")
    assert options(response, "category")["somatic-cell-therapy"] == withdrawn_sctmps.count()
    authorised_gtmps = published.filter(status="authorised", category__slug="gene-therapy")
    assert options(response, "status")["authorised"] == authorised_gtmps.count()
    # Skysona and Zynteglo were orphan medicines when authorised; none of the three is now.
    assert options(response, "orphan_at_authorisation") == {"true": 2, "false": 1}
    assert options(response, "orphan") == {"true": 0, "false": 3}
    category = facet(response, "category")
    assert [o.value for o in category.options if o.selected] == ["gene-therapy"]


def test_each_area_count_is_the_length_of_the_list_with_that_area_ticked(client, catalogue):
    for filters in ("", "category=gene-therapy&", "q=lymphoma&", "status=withdrawn&"):
        counts = options(client.get(f"{LIST}?{filters}"), "therapeutic_area")
        assert counts
        for slug, count in counts.items():
            response = client.get(f"{LIST}?{filters}therapeutic_area={slug}")
            assert response.context["paginator"].count == count, (filters, slug)


def test_every_state_is_a_url_with_chips_that_remove_one_value(client, catalogue):
    response = client.get(LIST + "?category=combined&category=tissue-engineered&q=cartilage")
    chips = {(chip.label, chip.value): chip.remove_url for chip in response.context["chips"]}
    assert chips[("Category", "Combined advanced therapy medicinal product")] == (
        "/products/?category=tissue-engineered&q=cartilage"
    )
    assert chips[("Search", "“cartilage”")] == (
        "/products/?category=combined&category=tissue-engineered"
    )
    assert set(listed(response)) == {"maci", "spherox", "chondrocelect"}


def test_the_filter_form_submission_is_redirected_to_a_short_url(client, catalogue):
    response = client.get(LIST + "?q=&category=gene-therapy&orphan=&authorised_from=")
    assert response.status_code == 302
    assert response["Location"] == "/products/?category=gene-therapy"
    assert client.get(LIST + "?q=&orphan=")["Location"] == "/products/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=kymria", {"kymriah"}),
        ("category=not-known", {"zemcelpro"}),
        ("status=refused", {"elevidys", "heparesc"}),
        ("therapeutic_area=lymphoma-mantle-cell", {"tecartus"}),
        ("mechanism=bcma-car-t", {"abecma", "carvykti"}),
        ("holder=kite-pharma-eu-bv", {"tecartus", "yescarta"}),
        ("cell_source=allogeneic", {"alofisel", "ebvallo", "zalmoxis", "zemcelpro"}),
        ("orphan=false&category=tissue-engineered", {"spherox", "chondrocelect", "holoclar"}),
        ("orphan_at_authorisation=false&category=tissue-engineered", {"spherox", "chondrocelect"}),
        ("conditional_at_authorisation=true&conditional=false", {"abecma", "carvykti", "holoclar"}),
        ("accelerated_assessment=true", {"zynteglo"}),
        ("conditional=true&category=somatic-cell-therapy", {"zalmoxis"}),
        ("exceptional_circumstances=true", {"glybera", "upstaza", "ebvallo"}),
        ("prime=true&category=gene-therapy&status=withdrawn", {"beqvez", "skysona", "zynteglo"}),
        ("authorised_from=2025-01-01", {"aucatzyl", "vyjuvek", "zemcelpro", "itvisma"}),
        ("authorised_to=2013-01-01", {"chondrocelect", "glybera"}),
    ],
)
def test_every_filter_parameter_on_the_page(client, catalogue, query, expected):
    response = client.get(LIST + "?" + query + "&page_size=100")
    assert response.status_code == 200
    assert set(listed(response)) == expected


def test_ordering_and_relevance_on_the_page(client, catalogue):
    assert listed(client.get(LIST + "?ordering=-authorisation_date"))[0] == "itvisma"
    assert listed(client.get(LIST + "?ordering=-name"))[0] == "zynteglo"
    assert listed(client.get(LIST + "?q=onasemnogene")) == ["zolgensma", "itvisma"]


def test_pagination_and_page_size(client, catalogue):
    second = client.get(LIST + "?page=2")
    assert second.status_code == 200 and len(listed(second)) == default_list().count() - 20
    assert listed(second)[0] not in listed(client.get(LIST))
    html = second.content.decode()
    assert 'href="?" rel="prev"' in html and '<a aria-current="page" href="?page=2">2</a>' in html
    assert client.get(LIST + "?page=1&page_size=20")["Location"] == "/products/"
    assert len(listed(client.get(LIST + "?page_size=50"))) == min(50, default_list().count())


@pytest.mark.parametrize(
    ("query", "param", "page"),
    [
        ("page=99", "page", 2),
        ("page=abc", "page", 1),
        ("page=0", "page", 1),
        ("page=-3", "page", 1),
        ("page_size=500", "page_size", 1),
        ("page_size=abc", "page_size", 1),
    ],
)
def test_a_bad_page_shows_a_message_and_a_real_page(client, catalogue, query, param, page):
    response = client.get(LIST + "?" + query)
    assert response.status_code == 400
    assert param in response.context["option_errors"]
    assert response.context["page_obj"].number == page
    assert listed(response)
    assert response.context["option_errors"][param] in response.content.decode()


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("category=cell-therapy", "category"),
        ("status=approved", "status"),
        ("therapeutic_area=nowhere", "therapeutic_area"),
        ("mechanism=magic", "mechanism"),
        ("holder=nobody", "holder"),
        ("cell_source=xenogeneic", "cell_source"),
        ("orphan=maybe", "orphan"),
        ("conditional=yes", "conditional"),
        ("exceptional_circumstances=1", "exceptional_circumstances"),
        ("prime=no", "prime"),
        ("authorised_from=2020-99-01", "authorised_from"),
        ("authorised_to=yesterday", "authorised_to"),
        ("ordering=price", "ordering"),
        ("q=" + "x" * 300, "q"),
        ("q=a%00b", "q"),
    ],
)
def test_an_invalid_filter_shows_its_error_and_the_rest_of_the_list(
    client, catalogue, query, param
):
    response = client.get(LIST + "?" + query)
    assert response.status_code == 400
    assert list(response.context["errors"]) == [param]
    html = response.content.decode()
    assert "Part of this address could not be used" in html
    assert f"<code>{param}</code>" in html
    assert response.context["paginator"].count == default_list().count()  # parameter left out
    assert 'class="field-error"' in html


def test_an_invalid_filter_beside_valid_ones(client, catalogue):
    response = client.get(LIST + "?category=combined&orphan=maybe&category=nope")
    assert response.status_code == 400
    assert set(response.context["errors"]) == {"category", "orphan"}
    chips = response.context["chips"]
    assert any(chip.invalid and chip.value == "maybe" for chip in chips)


def test_no_result_shows_a_way_out(client, catalogue):
    response = client.get(LIST + "?q=zzzzqqqq")
    assert response.status_code == 200
    assert response.context["paginator"].count == 0
    html = response.content.decode()
    assert "No product matches your search for “zzzzqqqq”." in html  # no filter: none named
    assert "Try another spelling or fewer words" in html
    filtered = client.get(LIST + "?q=zzzzqqqq&category=gene-therapy").content.decode()
    assert "No product matches your search for “zzzzqqqq” with these filters." in filtered
    assert "Remove a filter above" in filtered and "Remove a filter above" not in html


def test_a_misspelt_search_offers_did_you_mean(client, catalogue):
    response = client.get(LIST + "?q=kimriah")
    assert response.context["suggestion"] == "kymriah"
    assert 'Did you mean <a href="?q=kymriah">kymriah</a>?' in response.content.decode()
    assert [p.slug for p in response.context["page_obj"]] == ["kymriah"]
    assert client.get(LIST + "?q=kymriah").context["suggestion"] == ""


def test_a_search_no_product_fully_matches_says_so_and_lists_the_closest(client, catalogue):
    response = client.get(LIST + "?q=inherited+retinal+disease")
    assert response.context["some_words_only"] is True
    assert [p.slug for p in response.context["page_obj"]][0] == "luxturna"
    assert "No product has every word of “inherited retinal disease”" in response.content.decode()
    assert client.get(LIST + "?q=luxturna").context["some_words_only"] is False


def test_done_when_car_t_for_lymphoma_withdrawn_gene_therapies_and_csv(client, catalogue):
    areas = [
        "lymphoma-large-b-cell-diffuse",
        "lymphoma-follicular",
        "lymphoma-mantle-cell",
    ]
    query = "mechanism=cd19-car-t&status=authorised&" + "&".join(
        f"therapeutic_area={area}" for area in areas
    )
    response = client.get(LIST + "?" + query)
    assert set(listed(response)) == {"kymriah", "yescarta", "breyanzi", "tecartus"}
    searched = client.get(LIST + "?q=car-t+lymphoma&status=authorised")
    assert {"kymriah", "yescarta", "breyanzi", "tecartus"} <= set(listed(searched))

    withdrawn = client.get(LIST + "?category=gene-therapy&status=withdrawn")
    html = withdrawn.content.decode()
    assert set(listed(withdrawn)) == {"beqvez", "skysona", "zynteglo"}
    assert '<time datetime="2025-05-15">15 May 2025</time>' in html  # Beqvez withdrawn
    assert 'href="/products/export.csv?category=gene-therapy&amp;status=withdrawn"' in html


# Product detail


def test_detail_shows_identity_indications_flags_timeline_and_sources(client, catalogue):
    response = client.get(reverse("products:product_detail", args=["beqvez"]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        '<h1 id="product-title">Beqvez</h1>',
        "formerly known as Durveqtix",
        "fidanacogene elaparvovec",
        "EMEA/H/C/004774",
        "Gene therapy medicinal product",
        "Severe and moderately severe haemophilia B",
        'href="/therapeutic-areas/hemophilia-b/"',
        "AAV gene replacement in vivo",
        "Conditional marketing authorisation",
        "Granted on less complete data than usual",
        "Withdrawal of the marketing authorisation",
        'href="https://www.ema.europa.eu/en/medicines/human/EPAR/beqvez"',
        "Pfizer Europe MA EEIG",
        "Entry last updated",
    ]:
        assert text in html, text
    timeline = [event.kind for event in response.context["timeline"]]
    # Renamed by the export of 27 October 2025 at the latest: after the withdrawal it sorts.
    assert timeline[-3:] == ["initial-authorisation", "withdrawal", "change-of-name"]
    assert "Not an orphan medicine, at authorisation or now." in html


def test_unknown_facts_read_not_known(client, catalogue):
    html = client.get(reverse("products:product_detail", args=["zemcelpro"])).content.decode()
    assert "Category not known" in html
    kymriah = client.get(reverse("products:product_detail", args=["kymriah"])).content.decode()
    assert re.search(
        r"Accelerated assessment</dt>\s*<dd><strong[^>]*>At first authorisation: not known; "
        r"in the EMA&#x27;s register now: no.</strong>",
        kymriah,
    )


def key_facts(client, slug: str) -> dict[str, str]:
    """The Key facts of a product's page: each term with its text, tags and spaces collapsed."""
    html = client.get(reverse("products:product_detail", args=[slug])).content.decode()
    panel = html.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]

    def text(fragment: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", "", fragment).split())

    return {
        text(term): text(value)
        for term, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", panel, flags=re.S)
    }


def test_an_application_names_its_company_the_applicant(client, catalogue):
    elevidys = key_facts(client, "elevidys")  # refused
    assert elevidys["Applicant"] == "Roche Registration GmbH"
    assert "Marketing authorisation holder" not in elevidys
    assert key_facts(client, "amtagvi")["Applicant"] == "Iovance Biotherapeutics B.V."  # withdrawn
    kymriah = key_facts(client, "kymriah")  # authorised
    assert kymriah["Marketing authorisation holder"] == "Novartis Europharm Limited"
    assert "Applicant" not in kymriah
    beqvez = key_facts(client, "beqvez")  # authorised once, withdrawn since: held it
    assert beqvez["Marketing authorisation holder"] == "Pfizer Europe MA EEIG"


@pytest.mark.parametrize("slug", ["waskyra", "elevidys", "jelrix", "amtagvi"])
def test_first_authorised_says_as_of_when_never_authorised(client, catalogue, slug):
    # Waskyra (an opinion), Elevidys (refused), Jelrix (re-examined), Amtagvi (withdrawn): the
    # date is that of the newest dated fact, tested with factories below.
    facts = key_facts(client, slug)
    assert re.fullmatch(
        r"not authorised \(as of (\d{1,2} )?[A-Z][a-z]+ 20\d\d\)", facts["First authorised"]
    )
    assert "never" not in " ".join(facts.values())
    assert key_facts(client, "kymriah")["First authorised"] == "23 August 2018"


#: A product never authorised: no authorisation date, and no flag of an authorisation.
NEVER_AUTHORISED = {
    "authorisation_date": None,
    "is_orphan": None,
    "is_conditional": None,
    "is_exceptional_circumstances": None,
    "is_prime": None,
}


def test_a_refused_application_names_its_applicant(client, catalogue):
    product = ProductFactory(status="refused", **NEVER_AUTHORISED)
    facts = key_facts(client, product.slug)
    assert facts["Applicant"] == product.holder.name
    assert "Marketing authorisation holder" not in facts


def test_the_as_of_date_is_the_newest_dated_fact(client, catalogue):
    product = ProductFactory(
        status="opinion", ema_last_updated_date=datetime.date(2026, 1, 9), **NEVER_AUTHORISED
    )
    AuthorisationEvent.objects.create(
        product=product, kind=EventKind.POSITIVE_OPINION, date=datetime.date(2025, 12, 11)
    )
    assert key_facts(client, product.slug)["First authorised"] == (
        "not authorised (as of 9 January 2026)"  # the EMA's page, updated after the opinion
    )
    Product.objects.filter(pk=product.pk).update(ema_last_updated_date=None)
    assert key_facts(client, product.slug)["First authorised"] == (
        "not authorised (as of 11 December 2025)"
    )
    product.events.all().delete()
    assert key_facts(client, product.slug)["First authorised"] == "not authorised"


def test_partial_dates_are_shown_as_given(client, catalogue):
    html = client.get(reverse("products:product_detail", args=["itvisma"])).content.decode()
    assert '<time datetime="2026">2026</time>' in html
    assert '<time datetime="2026-04">April 2026</time>' in html


def test_detail_has_schema_org_drug_json_ld(client, catalogue):
    html = client.get(reverse("products:product_detail", args=["kymriah"])).content.decode()
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(match.group(1))
    assert data["@type"] == "Drug" and data["@context"] == "https://schema.org"
    assert data["name"] == "Kymriah" and data["nonProprietaryName"] == "tisagenlecleucel"
    assert data["code"] == {"@type": "MedicalCode", "codeValue": "L01XL04", "codingSystem": "ATC"}
    assert data["url"] == "http://testserver/products/kymriah/"


def test_json_ld_cannot_close_its_script_element(client, catalogue):
    ProductFactory(name="Evil", slug="evil", inn="</script><script>alert(1)</script>")
    html = client.get(reverse("products:product_detail", args=["evil"])).content.decode()
    assert "<script>alert(1)" not in html
    assert "\\u003C/script\\u003E" in html


def test_unpublished_and_unknown_products_are_404(client, catalogue):
    Product.objects.filter(slug="kymriah").update(is_published=False)
    for slug in ["kymriah", "no-such-product"]:
        response = client.get(reverse("products:product_detail", args=[slug]))
        assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "kymriah" not in listed(client.get(LIST + "?q=kymriah"))


# Browse pages


def test_category_list_has_the_four_definitions_and_counts(client, catalogue):
    response = client.get(reverse("products:category_list"))
    assert response.status_code == 200
    categories = {c.slug: c for c in response.context["categories"]}
    gene_therapies = Product.objects.published().filter(category__slug="gene-therapy")
    listed_count = gene_therapies.held_authorisation().count()
    assert categories["gene-therapy"].listed_count == listed_count
    assert categories["gene-therapy"].record_count == gene_therapies.count() - listed_count > 0
    html = response.content.decode()
    for category in Category.objects.all():
        assert category.definition in html
    assert response.context["not_known_count"] == default_list().filter(category=None).count()
    assert 'href="/products/?category=not-known"' in html


def test_category_detail_lists_its_products(client, catalogue):
    response = client.get(reverse("products:category_detail", args=["tissue-engineered"]))
    assert response.status_code == 200
    assert [p.slug for p in response.context["products"]] == [
        "chondrocelect",
        "holoclar",
        "spherox",
    ]
    assert [p.slug for p in response.context["record"]] == []
    combined = client.get(reverse("products:category_detail", args=["combined"]))
    assert [p.slug for p in combined.context["record"]] == ["hyalograft-c-autograft"]
    assert client.get(reverse("products:category_detail", args=["nope"])).status_code == 404


def test_therapeutic_area_pages(client, catalogue):
    response = client.get(reverse("products:therapeutic_area_list"))
    assert response.status_code == 200
    areas = {area.slug: area for area in response.context["areas"]}
    for slug in ("hemophilia-b", "lymphoma-large-b-cell-diffuse"):
        with_area = default_list().filter(indications__therapeutic_areas__slug=slug).distinct()
        assert areas[slug].listed_count == with_area.count() > 1
    detail = client.get(reverse("products:therapeutic_area_detail", args=["hemophilia-b"]))
    assert [p.slug for p in detail.context["products"]] == ["beqvez", "hemgenix"]
    assert "Severe and moderately severe haemophilia B" in detail.content.decode()
    missing = reverse("products:therapeutic_area_detail", args=["nope"])
    assert client.get(missing).status_code == 404


def test_therapeutic_area_counts_are_the_lengths_of_their_pages_lists(client, catalogue):
    areas = client.get(reverse("products:therapeutic_area_list")).context["areas"]
    assert len(areas) > 20
    for area in areas:
        detail = client.get(reverse("products:therapeutic_area_detail", args=[area.slug]))
        assert len(detail.context["products"]) == area.listed_count, area.slug
        assert len(detail.context["record"]) == area.record_count, area.slug


# Every page: markup rules and queries


PAGES = [
    reverse("products:home"),
    LIST,
    LIST + "?q=car-t&category=gene-therapy&orphan=true",
    reverse("products:product_detail", args=["kymriah"]),
    reverse("products:category_list"),
    reverse("products:category_detail", args=["gene-therapy"]),
    reverse("products:therapeutic_area_list"),
    reverse("products:therapeutic_area_detail", args=["melanoma"]),
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_keep_to_the_content_security_policy_and_landmarks(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert " style=" not in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('type="application/ld+json"' in tag for tag in scripts)
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<footer" in html and 'aria-label="Main"' in html
    assert 'media="print"' in html
    # Every form control has a label.
    for control_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id


def count_queries(client, url: str) -> int:
    """The queries of rendering ``url`` afresh (no cached page or counts)."""
    caches["catalogue"].clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_and_detail_queries_do_not_grow_with_products(
    client, catalogue, django_assert_max_num_queries
):
    url = LIST + "?page_size=100"
    filtered = LIST + "?category=gene-therapy&therapeutic_area=hemophilia-b&q=factor&page_size=100"
    detail = reverse("products:product_detail", args=["kymriah"])
    with django_assert_max_num_queries(20):
        client.get(url)
    with django_assert_max_num_queries(9):  # 5 for the product, 3 for its public change log
        client.get(detail)
    before = [count_queries(client, page) for page in (url, filtered, detail)]
    listed_before = client.get(url).context["paginator"].count
    ProductFactory.create_batch(12)
    assert client.get(url).context["paginator"].count == listed_before + 12
    after = [count_queries(client, page) for page in (url, filtered, detail)]
    assert after == before


def test_other_pages_query_counts_are_bounded(client, catalogue, django_assert_max_num_queries):
    ProductFactory.create_batch(5)
    for url, limit in [
        (reverse("products:home"), 11),  # 4 of them for the recently changed facts
        (reverse("products:category_list"), 4),
        (reverse("products:category_detail", args=["gene-therapy"]), 8),
        (reverse("products:therapeutic_area_list"), 4),
        (reverse("products:therapeutic_area_detail", args=["hemophilia-b"]), 7),
        (reverse("products:product_export"), 6),
    ]:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200


# Error pages


def test_404_page_has_the_site_look(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "ATMP Catalogue" in html and 'name="q"' in html


def test_500_page_renders_without_the_database():
    html = render_to_string("500.html")  # no request, no context, no database access
    assert "Something went wrong" in html and "/static/css/site.css" in html


def test_a_server_error_shows_the_500_page(catalogue):
    client = Client(raise_request_exception=False)
    with mock.patch("products.views.HomeView.get_context_data", side_effect=RuntimeError("boom")):
        response = client.get(reverse("products:home"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_therapeutic_areas_show_the_plain_name_and_the_mesh_heading_as_such(client, catalogue):
    area = TherapeuticArea.objects.get(name="Muscular Atrophy, Spinal")
    assert area.plain_name == "Spinal muscular atrophy (SMA)"
    assert area.slug == "muscular-atrophy-spinal"  # slugs stay as they were
    html = client.get(area.get_absolute_url()).content.decode()
    assert "<h1>Spinal muscular atrophy (SMA)</h1>" in html
    assert "MeSH heading (as the EMA files it): Muscular Atrophy, Spinal" in html
    listing = client.get(reverse("products:therapeutic_area_list")).content.decode()
    assert '>Haemophilia B</a> <span class="muted mesh">MeSH: Hemophilia B</span>' in listing
    detail = client.get(reverse("products:product_detail", args=["zolgensma"])).content.decode()
    assert ">Spinal muscular atrophy (SMA)</a>" in detail


def test_the_area_facet_names_areas_plainly(client, catalogue):
    response = client.get(LIST + "?q=zolgensma")
    assert "Spinal muscular atrophy (SMA)" in response.content.decode()


def test_a_plain_area_name_is_searched(client, catalogue):
    area = TherapeuticArea.objects.get(name="Rectal Fistula")
    assert area.plain_name == "Anal fistula"
    found = client.get(LIST + "?q=anal+fistula").context["page_obj"]
    assert [p.slug for p in found] == ["alofisel"]


def test_a_list_of_withdrawn_expired_and_refused_products_gives_the_reason(client, catalogue):
    response = client.get(LIST + "?status=withdrawn&status=expired&status=refused")
    html = response.content.decode()
    assert response.context["show_reason"] is True
    assert '<th scope="col">Reason</th>' in html
    assert "permanently discontinued marketing for commercial reasons" in html  # Provenge
    assert "did not seek renewal" in html  # MACI, expired
    default = client.get(LIST)
    assert default.context["show_reason"] is False
    assert '<th scope="col">Reason</th>' not in default.content.decode()


def test_a_former_name_moves_permanently_to_the_product(client, catalogue):
    response = client.get("/products/durveqtix/")
    assert response.status_code == 301
    assert response["Location"] == "/products/beqvez/"
    assert client.get("/products/caomecs/")["Location"] == "/products/oranera/"
    assert client.get("/products/nosuchname/").status_code == 404


def test_a_former_name_of_a_draft_is_not_revealed(client, catalogue):
    Product.objects.filter(slug="beqvez").update(is_published=False)
    assert client.get("/products/durveqtix/").status_code == 404


def test_recently_updated_means_a_change_to_the_facts_with_what_changed(client, catalogue):
    home = client.get("/")
    assert home.context["recently_updated"] == []  # the load added every entry, changed none
    assert "No fact has changed since the entries were added on" in home.content.decode()
    kymriah = Product.objects.get(slug="kymriah")
    ten_days = datetime.timedelta(days=10)  # the load, as if it were ten days ago
    for history in (
        Product.history.filter(id=kymriah.pk),
        kymriah.indications.model.history.filter(product_id=kymriah.pk),
        AuthorisationEvent.history.filter(product_id=kymriah.pk),
    ):
        history.update(history_date=F("history_date") - ten_days)
    kymriah.atc_code = "L01XX"
    kymriah.save()
    Product.objects.get(slug="luxturna").save()  # a save that changes nothing is no update
    changes = client.get("/").context["recently_updated"]
    assert [(c["product"].slug, c["fields"]) for c in changes] == [("kymriah", ["ATC code"])]
    html = client.get("/").content.decode()
    assert '<th scope="row"><a href="/products/kymriah/">Kymriah</a></th>' in html
    assert "<td>ATC code</td>" in html


def test_latest_events_put_dates_products_and_events_in_their_own_columns(client, catalogue):
    html = client.get("/").content.decode()
    assert '<table class="event-table latest-events">' in html
    assert '<th scope="col">Date</th><th scope="col">Product</th><th scope="col">Event</th>' in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "category=gene-therapy&therapeutic_area=multiple-myeloma",
        "status=refused&status=withdrawn&ordering=-authorisation_date",
        "status=nope",
        "q=car-t&category=gene-therapy",
        "q=lymphoma+zzzzqq",  # some words only
        "q=zzzzqqqq",
        "orphan=true&page=2&page_size=5",
    ],
)
def test_the_list_s_total_is_the_number_of_products_it_selects(client, catalogue, query):
    """The total comes from the panel's status group (no COUNT query of its own)."""
    from products.filters import ProductFilterSet

    response = client.get(f"{LIST}?{query}")
    request = response.wsgi_request
    selected = ProductFilterSet(request.GET, queryset=Product.objects.published(), request=request)
    assert response.context["paginator"].count == selected.qs.count()


def test_a_search_s_total_counts_the_list_even_where_its_words_meet_outside_it(client, db):
    """Both words in one refused product only: among every status the search wants both words,
    among the listed statuses it finds either; the total is the list's."""
    from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION
    from tests.factories import CompanyFactory

    holder = CompanyFactory(name="Quuxcorp Therapeutics", slug="quuxcorp-therapeutics")
    ProductFactory(
        name="Zorblatix",
        slug="zorblatix",
        holder=holder,
        status="refused",
        authorisation_date=None,
        **dict.fromkeys(NOT_APPLICABLE_WITHOUT_AUTHORISATION),
    )
    held = ProductFactory(holder=holder)
    response = client.get(LIST + "?q=zorblatix+quuxcorp")
    assert listed(response) == [held.slug]
    assert response.context["paginator"].count == 1
