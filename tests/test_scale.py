"""The pieces of a deployment of several instances, in one process: API cache keys by host, the
lock against stampedes, the client's address behind proxies, and the router (the instances
themselves, sharing real engines, are in test_deployment.py)."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import reverse

from atmp_catalogue import db as routing
from atmp_catalogue.db import ReplicaRouter, client_address
from products import caching
from products.models import PendingImport, Product


@pytest.fixture
def fresh_cache():
    caches["catalogue"].clear()
    yield caches["catalogue"]
    caches["catalogue"].clear()


def test_api_responses_are_kept_per_host(client, catalogue, settings, fresh_cache):
    settings.ALLOWED_HOSTS = ["a.example.org", "b.example.org"]
    url = reverse("api:product-detail", args=["kymriah"])
    first = client.get(url, HTTP_HOST="a.example.org")
    second = client.get(url, HTTP_HOST="b.example.org")
    assert first.json()["url"] == "http://a.example.org/api/v1/products/kymriah/"
    assert second.json()["url"] == "http://b.example.org/api/v1/products/kymriah/"
    assert first["ETag"] != second["ETag"]
    # A revalidation with one host's ETag does not validate the other's response.
    again = client.get(url, HTTP_HOST="b.example.org", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_a_lookup_waits_for_the_instance_that_computes(fresh_cache, monkeypatch):
    key = caching.cache_key("test", "waits")
    assert fresh_cache.add(f"{key}:lock", 1, 60)  # another instance is computing it
    timer = threading.Timer(0.2, caching.store, args=(key, "computed elsewhere"))
    timer.start()
    try:
        assert caching.lookup(key, "page") == "computed elsewhere"
    finally:
        timer.cancel()
    assert fresh_cache.get(f"{key}:lock") is None  # store let it go


def test_a_lookup_computes_itself_when_the_lock_is_never_released(fresh_cache, monkeypatch):
    monkeypatch.setattr(caching, "LOCK_SECONDS", 0.1)
    key = caching.cache_key("test", "abandoned")
    assert fresh_cache.add(f"{key}:lock", 1, 60)  # an instance that died while computing
    assert caching.lookup(key, "page") is None  # so this one computes it


def test_a_miss_takes_the_lock_and_a_failed_computation_releases_it(fresh_cache, catalogue):
    stamp = caching.read_stamp()
    key = caching.cache_key(stamp.key, "boom")

    def fail():
        assert fresh_cache.get(f"{key}:lock") == 1  # held while computing
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        caching.cached(stamp, ("boom",), fail)
    assert fresh_cache.get(f"{key}:lock") is None
    assert caching.cached(stamp, ("boom",), lambda: 42) == 42
    assert caching.cached(stamp, ("boom",), lambda: 43) == 42


def test_the_cache_counts_hits_and_misses_by_kind(fresh_cache, catalogue):
    def count(result):
        return caching.CACHE_REQUESTS.labels("facets", result)._value.get()

    hits, misses = count("hit"), count("miss")
    stamp = caching.read_stamp()
    caching.cached(stamp, ("counted",), lambda: 1)
    caching.cached(stamp, ("counted",), lambda: 1)
    assert (count("hit") - hits, count("miss") - misses) == (1, 1)


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, None, "10.0.0.2"),
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's own
        (1, "198.51.100.7", "198.51.100.7"),
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),  # a forged entry before the proxy's
        (2, "203.0.113.9, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
    ],
)
def test_the_client_address_is_the_one_the_trusted_proxy_saw(
    settings, proxies, forwarded, expected
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **headers)
    assert client_address(request) == expected


def test_the_router_sends_only_visitors_catalogue_reads_to_the_replica(settings, monkeypatch):
    router = ReplicaRouter()
    monkeypatch.setitem(settings.DATABASES, "replica", settings.DATABASES["default"])
    assert router.db_for_read(Product) == "default"  # not a visitor's request
    token = routing._visitor.set(True)
    try:
        assert router.db_for_read(Product) == "replica"
        assert router.db_for_read(PendingImport) == "default"
        from django.contrib.auth.models import User
        from django.contrib.sessions.models import Session

        assert router.db_for_read(User) == "default"
        assert router.db_for_read(Session) == "default"
        assert router.db_for_write(Product) == "default"
    finally:
        routing._visitor.reset(token)
    assert router.allow_migrate("replica", "products") is False
    assert router.allow_migrate("default", "products") is True
