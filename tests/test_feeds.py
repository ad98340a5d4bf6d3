"""Atom feeds of regulatory events (issue 16): parsed as Atom, filtered as the list, cacheable."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from products.choices import EventKind
from products.models import AuthorisationEvent, Product
from tests.factories import MechanismOfActionFactory, ProductFactory
from tests.test_bad_input import SLOW_EXAMPLES
from tests.test_filters import INVALID_QUERIES

ATOM = "{http://www.w3.org/2005/Atom}"
LIST_FEED = "/products/feed/"

pytestmark = pytest.mark.django_db


def parse_atom(response) -> ET.Element:
    """The feed, after checking what RFC 4287 requires of a feed and of each entry."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
        assert feed.find(f"{ATOM}{name}").text.strip(), name
    datetime.datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    # An author for the feed, or one in every entry.
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "ATMP Catalogue"
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
            assert entry.find(f"{ATOM}{name}").text.strip(), name
        updated = datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)
        assert updated.tzinfo is not None
        # An entry without content has an alternate link.
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link is not None and link.get("href").startswith("http")
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    return feed


def entries(feed: ET.Element) -> list[dict]:
    return [
        {
            "id": entry.find(f"{ATOM}id").text,
            "title": entry.find(f"{ATOM}title").text,
            "updated": entry.find(f"{ATOM}updated").text,
            "link": entry.find(f"{ATOM}link").get("href"),
            "summary": entry.find(f"{ATOM}summary").text,
            "kind": entry.find(f"{ATOM}category").get("term"),
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_the_cd19_car_t_feed_holds_exactly_the_events_of_those_products(client, catalogue):
    """The consultant's feed: every dated event of the CD19 CAR-T products, newest first."""
    feed = parse_atom(client.get(LIST_FEED + "?mechanism=cd19-car-t"))
    products = Product.objects.published().held_authorisation().with_mechanisms(["cd19-car-t"])
    assert sorted(products.values_list("slug", flat=True)) == [
        "aucatzyl",
        "breyanzi",
        "kymriah",
        "tecartus",
        "yescarta",
    ]
    expected = AuthorisationEvent.objects.filter(product__in=products)
    got = entries(feed)
    assert len(got) == expected.count() > len(products)
    assert {entry["link"].removeprefix("http://testserver") for entry in got} == {
        f"/products/{slug}/" for slug in products.values_list("slug", flat=True)
    }
    updated = [entry["updated"] for entry in got]
    assert updated == sorted(updated, reverse=True)
    kymriah = [entry for entry in got if "/products/kymriah/" in entry["link"]]
    assert {entry["kind"] for entry in kymriah} == set(
        AuthorisationEvent.objects.filter(product__slug="kymriah").values_list("kind", flat=True)
    )
    assert "Kymriah: Initial marketing authorisation (23 August 2018)" in {
        entry["title"] for entry in kymriah
    }
    assert "Mechanism of action: CD19" in feed.find(f"{ATOM}title").text


def test_the_list_feed_links_back_to_the_same_list(client, catalogue):
    feed = parse_atom(client.get(LIST_FEED + "?mechanism=cd19-car-t&page=2"))
    alternate = feed.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert alternate == "http://testserver/products/?mechanism=cd19-car-t"
    # Its id is its address less the parameters that do not change it.
    assert feed.find(f"{ATOM}id").text == "http://testserver/products/feed/?mechanism=cd19-car-t"


def test_partial_and_known_by_dates_are_the_last_day_they_can_be_never_shown_as_a_day(client):
    mechanism = MechanismOfActionFactory(slug="feed-test-mechanism")
    product = ProductFactory(name="Feedex", slug="feedex", mechanisms=[mechanism], events=[])
    AuthorisationEvent.objects.bulk_create(
        [
            AuthorisationEvent(
                product=product,
                kind=EventKind.INITIAL_AUTHORISATION,
                date=datetime.date(2018, 2, 10),
            ),
            AuthorisationEvent(
                product=product, kind=EventKind.EXTENSION_OF_INDICATION, date_partial="2018-06"
            ),
            AuthorisationEvent(product=product, kind=EventKind.RENEWAL, date_partial="2019"),
            AuthorisationEvent(
                product=product, kind=EventKind.CONVERSION, known_by=datetime.date(2025, 10, 27)
            ),
            AuthorisationEvent(product=product, kind=EventKind.OTHER),  # no date at all
        ]
    )
    got = entries(parse_atom(client.get(LIST_FEED + "?mechanism=feed-test-mechanism")))
    assert [(entry["kind"], entry["updated"]) for entry in got] == [
        ("conversion", "2025-10-27T00:00:00+00:00"),
        ("renewal", "2019-12-31T00:00:00+00:00"),
        ("extension-of-indication", "2018-06-30T00:00:00+00:00"),
        ("initial-authorisation", "2018-02-10T00:00:00+00:00"),
    ]
    titles = [entry["title"] for entry in got]
    assert titles == [
        "Feedex: Conversion from conditional to standard authorisation (by 27 October 2025)",
        "Feedex: Renewal (2019)",
        "Feedex: Extension of indication (June 2018)",
        "Feedex: Initial marketing authorisation (10 February 2018)",
    ]
    assert "30 June" not in " ".join(entry["summary"] for entry in got)
    assert "31 December" not in " ".join(entry["summary"] for entry in got)
    assert [entry["id"] for entry in got] == [
        "http://testserver/products/feedex/#event-conversion-by-2025-10-27",
        "http://testserver/products/feedex/#event-renewal-2019",
        "http://testserver/products/feedex/#event-extension-of-indication-2018-06",
        "http://testserver/products/feedex/#event-initial-authorisation-2018-02-10",
    ]


def test_two_events_of_one_kind_and_date_have_different_stable_ids(client):
    product = ProductFactory(slug="twinex", events=[])
    for _ in range(2):
        AuthorisationEvent.objects.create(
            product=product, kind=EventKind.ORPHAN_DESIGNATION_REMOVED, date_partial="2022-02"
        )
    ids = [entry["id"] for entry in entries(parse_atom(client.get("/products/twinex/feed/")))]
    assert sorted(ids) == [
        "http://testserver/products/twinex/#event-orphan-designation-removed-2022-02",
        "http://testserver/products/twinex/#event-orphan-designation-removed-2022-02-2",
    ]


def test_a_product_feed_lists_its_own_events(client, catalogue):
    feed = parse_atom(client.get(reverse("products:product_feed", args=["kymriah"])))
    got = entries(feed)
    assert len(got) == AuthorisationEvent.objects.filter(product__slug="kymriah").count() > 1
    assert {entry["link"] for entry in got} == {"http://testserver/products/kymriah/"}
    assert feed.find(f"{ATOM}title").text.startswith("Kymriah: regulatory events")


def test_drafts_never_appear_in_feeds(client):
    mechanism = MechanismOfActionFactory(slug="draft-feed-mechanism")
    ProductFactory(slug="draftex", mechanisms=[mechanism], is_published=False)
    assert client.get("/products/draftex/feed/").status_code == 404
    response = client.get(LIST_FEED)
    assert "draftex" not in response.content.decode()
    # The mechanism only a draft uses is unknown to the public, as on the list.
    assert client.get(LIST_FEED + "?mechanism=draft-feed-mechanism").status_code == 400


@pytest.mark.parametrize("query", INVALID_QUERIES)
def test_an_invalid_parameter_is_a_400_naming_it(client, catalogue, query):
    parameter = query.split("=")[0]
    response = client.get(f"{LIST_FEED}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [parameter]
    assert body[parameter][0]


@pytest.mark.parametrize("slug", ["no-such-product", "Kymriah", "%00", "a" * 300])
def test_an_unknown_product_feed_is_a_404(client, catalogue, slug):
    assert client.get(f"/products/{slug}/feed/").status_code == 404


def test_a_feed_is_a_304_until_the_catalogue_changes(client, catalogue):
    url = LIST_FEED + "?mechanism=cd19-car-t"
    first = client.get(url)
    etag = first["ETag"]
    assert etag and first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url).content == first.content
    product = Product.objects.get(slug="kymriah")
    AuthorisationEvent.objects.create(
        product=product, kind=EventKind.RENEWAL, date=datetime.date(2026, 11, 30)
    )
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    newest = entries(parse_atom(changed))[0]
    assert newest["title"] == "Kymriah: Renewal (30 November 2026)"


def test_an_empty_feed_is_still_atom_and_dated_by_the_catalogue(client, catalogue):
    response = client.get(LIST_FEED + "?q=zzzzqqqq")
    feed = parse_atom(response)
    assert entries(feed) == []
    first = feed.find(f"{ATOM}updated").text
    assert parse_atom(client.get(LIST_FEED + "?q=zzzzqqqq")).find(f"{ATOM}updated").text == first


def test_the_list_feed_makes_a_bounded_number_of_queries(
    client, catalogue, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = client.get(LIST_FEED + "?mechanism=cd19-car-t&category=gene-therapy")
    products = Product.objects.published().held_authorisation().with_mechanisms(["cd19-car-t"])
    events = AuthorisationEvent.objects.filter(
        product__in=products, product__category__slug="gene-therapy"
    )
    assert len(entries(parse_atom(response))) == events.count() > 0
    with django_assert_max_num_queries(6):
        response = client.get(LIST_FEED)
    assert len(entries(parse_atom(response))) == 100


def test_list_and_product_pages_announce_their_feeds(client, catalogue):
    page = client.get("/products/?mechanism=cd19-car-t&page_size=50").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Regulatory events of this list"'
        ' href="/products/feed/?mechanism=cd19-car-t">' in page
    )
    assert 'href="/products/feed/?mechanism=cd19-car-t"' in page.split("</head>")[1]
    detail = client.get("/products/kymriah/").content.decode()
    assert 'type="application/atom+xml"' in detail.split("</head>")[0]
    assert 'href="/products/kymriah/feed/"' in detail.split("</head>")[1]


def test_a_feed_served_from_the_page_cache_keeps_its_validators(client, catalogue, settings):
    from django.core.cache import caches

    from products.caching import CACHE_ALIAS

    settings.CATALOGUE_CACHE_PAGES = True
    caches[CACHE_ALIAS].clear()
    url = LIST_FEED + "?mechanism=cd19-car-t"
    first, second = client.get(url), client.get(url)
    assert second.content == first.content
    assert len(entries(parse_atom(second))) == len(entries(parse_atom(first))) > 0
    for header in ("ETag", "Last-Modified", "Content-Type"):
        assert second[header] == first[header]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/products/feed/"),
        ("/categories/gene-therapy/", "/products/feed/?category=gene-therapy"),
        (
            "/therapeutic-areas/lymphoma-large-b-cell-diffuse/",
            "/products/feed/?therapeutic_area=lymphoma-large-b-cell-diffuse",
        ),
    ],
)
def test_home_category_and_area_pages_announce_the_feed_of_what_they_list(
    client, catalogue, page, feed
):
    html = client.get(page).content.decode()
    head, body = html.split("</head>")
    assert 'type="application/atom+xml" title="Regulatory events of' in head
    assert f'href="{feed}"' in head
    assert f'<a class="follow-link" href="{feed}"' in body
    assert client.get(feed).status_code == 200


@SLOW_EXAMPLES
@given(
    slug=st.one_of(
        st.text(min_size=1, max_size=60),
        st.sampled_from(["kymriah", "KYMRIAH", "kymriah'--", "..", "%00", "a" * 5000]),
    )
)
def test_hostile_slugs_in_product_feeds_give_200_or_404(client, catalogue, slug):
    path = quote(slug.encode("utf-8", "surrogatepass"), safe="")
    response = client.get(f"/products/{path}/feed/")
    assert response.status_code in {200, 404}, (slug[:100], response.status_code)
