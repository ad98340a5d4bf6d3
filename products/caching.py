"""Caching on the catalogue version: never stale, nothing to invalidate.

Everything public is computed from the catalogue's tables, and every write to them bumps the one
row of ``CatalogueVersion`` in the same transaction (statement triggers, migration 0007). A cache
key or an ETag that includes that version therefore names one state of the catalogue: a curator's
edit or an import changes the key of every page, response and count on the next request, and old
entries simply age out of the cache. Reading the version is one primary-key lookup, done once per
request (and shared by a worker's visitors for at most ``CATALOGUE_VERSION_MAX_AGE`` seconds), on
the database the request reads its data from (the replica for visitors, see
``atmp_catalogue/db.py``).

Django's own tools do the HTTP part:

- ``versioned(view, max_age=...)``: ``django.views.decorators.http.condition`` with the version's
  ETag and ``Last-Modified`` (a matching ``If-None-Match`` or ``If-Modified-Since`` is a 304 before
  the view runs; the ETag is computed once per response), then ``cached_page``. For every public
  GET computed from the catalogue: feeds, sitemaps, the API's products, vocabularies, comparison.
- ``cached_page(view)``: an anonymous visitor's complete 200, kept in Django's cache framework
  (the ``catalogue`` alias) under a key of the version and the absolute URL.
- ``cached(stamp, parts, compute)``: any value computed from the catalogue (facet counts,
  vocabularies), in the same cache under the same version.

With ``REDIS_URL`` the cache is shared by every instance: an entry is computed once per catalogue
version, whichever instance is asked first. A short lock (``LOCK_SECONDS``, taken with the
cache's atomic ``add``) keeps the others from computing it too while it is being computed: they
wait for it instead, and compute it themselves only if it has not come by then. Each lookup
counts a hit or a miss by kind (page, api, facets): the Prometheus counter
``atmp_catalogue_cache_requests_total`` at ``/metrics``.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections
from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import condition
from prometheus_client import Counter

from atmp_catalogue.db import read_database

#: The alias of ``settings.CACHES`` that holds pages, responses and counts.
CACHE_ALIAS = "catalogue"
#: Seconds an entry may live: versions make entries exact, this only bounds the memory of old ones.
TIMEOUT = 24 * 60 * 60
#: Seconds one instance may hold the right to compute an entry before others compute it too.
LOCK_SECONDS = 10
#: Seconds between two looks at the cache while another instance computes an entry.
LOCK_POLL_SECONDS = 0.02
#: Bumped when a response changes shape for the same data, so that old ETags stop matching.
REPRESENTATION_VERSION = "2"

CACHE_REQUESTS = Counter(
    "atmp_catalogue_cache_requests",
    "Lookups in the catalogue cache, by kind of entry and result (hit, or miss: computed here).",
    ["kind", "result"],
)

#: This worker's readings of the version, per database: a worker's own memory, never shared
#: (each instance reads the version where it reads its data).
READINGS = LocMemCache("catalogue-version-readings", {"TIMEOUT": None})


@dataclass(frozen=True)
class Stamp:
    """One state of the catalogue: ``key`` for cache keys and ETags, ``changed_at`` for dates."""

    key: str
    changed_at: datetime.datetime | None


def read_stamp(using: str = "default") -> Stamp:
    """The stamp in the database ``using`` now (one primary-key lookup)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT version, changed_at FROM products_catalogueversion WHERE id = 1")
        row = cursor.fetchone()
    if row is None:  # tables truncated and not yet written to: nothing public to cache
        return Stamp("empty", None)
    version, changed_at = row
    # The time as well as the number: a restored dump or a rolled-back test brings a number back,
    # never the microsecond at which it was reached.
    return Stamp(f"{version}@{changed_at.isoformat()}", changed_at)


def catalogue_stamp(request=None) -> Stamp:
    """The catalogue's stamp for this request: read once per request, shared for a moment.

    A visitor's request reuses this worker's reading if it is younger than
    ``settings.CATALOGUE_VERSION_MAX_AGE`` seconds, so a change reaches visitors that much later
    at most (the API already lets clients reuse a response for five minutes); a signed-in
    user's request (a curator checking an edit) or a call without a request reads it afresh.
    """
    if request is not None and (stamp := getattr(request, "_catalogue_stamp", None)):
        return stamp
    max_age = settings.CATALOGUE_VERSION_MAX_AGE
    user = getattr(request, "user", None)
    shared = request is not None and max_age > 0 and not (user and user.is_authenticated)
    using = read_database()
    stamp = READINGS.get(using) if shared else None
    if stamp is None:
        stamp = read_stamp(using)
        if max_age > 0:
            READINGS.set(using, stamp, max_age)
    if request is not None:
        request._catalogue_stamp = stamp
    return stamp


def digest(*parts: Any) -> str:
    """A short hexadecimal hash of any parts (paths, query strings, versions): keys and ETags."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:40]


def cache_key(*parts: Any) -> str:
    """A short, safe cache key for any parts."""
    return f"atmp:{digest(*parts)}"


def lookup(key: str, kind: str) -> Any:
    """The cached value of ``key``; or None, and then the caller holds the key's lock and must
    ``store`` a value or ``release`` the lock.

    On a miss the caller takes the key's lock (an atomic ``add``); if another instance holds it,
    this one waits for that instance's value for up to ``LOCK_SECONDS``, then computes it anyway.
    A lock just taken may follow another's that was let go with the value stored, between this
    caller's first look and its ``add``: it looks again before computing.
    """
    cache = caches[CACHE_ALIAS]
    lock = f"{key}:lock"
    value = cache.get(key)
    if value is None:
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            if cache.add(lock, 1, LOCK_SECONDS):
                if (value := cache.get(key)) is not None:
                    cache.delete(lock)
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(LOCK_POLL_SECONDS)
            if (value := cache.get(key)) is not None:
                break
    CACHE_REQUESTS.labels(kind, "miss" if value is None else "hit").inc()
    return value


def store(key: str, value: Any) -> None:
    """Keep ``value`` under ``key`` for this catalogue version, and let others read it."""
    cache = caches[CACHE_ALIAS]
    cache.set(key, value, TIMEOUT)
    cache.delete(f"{key}:lock")


def release(key: str) -> None:
    """Give up the lock of ``key`` without a value (the answer was not one to keep)."""
    caches[CACHE_ALIAS].delete(f"{key}:lock")


def cached(
    stamp: Stamp,
    parts: tuple,
    compute: Callable[[], Any],
    kind: str = "facets",
    *,
    keep: Callable[[Any], Any] = lambda value: value,
) -> Any:
    """``compute()`` for this state of the catalogue, from the cache when it was done already.

    ``keep(value)`` is what is stored (None: not stored, e.g. an error page); a hit returns
    the stored form.
    """
    key = cache_key(stamp.key, *parts)
    value = lookup(key, kind)
    if value is not None:
        return value
    try:
        value = compute()
        kept = keep(value)
    except BaseException:
        release(key)
        raise
    if kept is None:
        release(key)
    else:
        store(key, kept)
    return value


def rendered(response, request) -> tuple[bytes, str] | None:
    """What a cache keeps of a complete 200 without cookies: its body and type; else None."""
    if response.status_code != 200 or response.streaming:
        return None
    if hasattr(request, "accepted_renderer") and not hasattr(response, "accepted_renderer"):
        # A DRF response inside its view (after negotiation): rendered as DRF will render it.
        response.accepted_renderer = request.accepted_renderer
        response.accepted_media_type = request.accepted_media_type
        response.renderer_context = {"request": request, "response": response}
    if hasattr(response, "render"):
        response.render()
    return None if response.cookies else (response.content, response["Content-Type"])


def cached_page(view: Callable, *, kind: str = "page") -> Callable:
    """Serve an anonymous visitor's GET from the rendered response of this catalogue version.

    Only complete 200s are kept, keyed by the absolute URL (scheme, host, path and query: pages
    hold absolute URLs) and the catalogue stamp. Signed-in users (curators previewing drafts)
    always get a fresh response. Headers added by middleware (security, CSP) are added to a
    cached response as to any other. ``CATALOGUE_CACHE_PAGES`` off (the tests that read a page's
    context) leaves pages, not API responses, uncached.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            (kind == "page" and not settings.CATALOGUE_CACHE_PAGES)
            or request.method not in ("GET", "HEAD")
            or request.user.is_authenticated
        ):
            return view(request, *args, **kwargs)
        parts = ("page", request.build_absolute_uri())
        value = cached(
            catalogue_stamp(request),
            parts,
            lambda: view(request, *args, **kwargs),
            kind,
            keep=lambda response: rendered(response, request),
        )
        if isinstance(value, tuple):
            content, content_type = value
            return HttpResponse(content, content_type=content_type)
        return value

    return wrapper


def version_etag(request, *args, **kwargs) -> str:
    """The validator of a public response: the catalogue version and the absolute URL.

    Absolute (scheme, host, path and query), as the links in the responses are: one allowed
    host's response is never served, nor validated, for another.
    """
    return digest(
        REPRESENTATION_VERSION, catalogue_stamp(request).key, request.build_absolute_uri()
    )


def version_changed_at(request, *args, **kwargs) -> datetime.datetime | None:
    """``Last-Modified``: the catalogue's last change (never older than any selection's own)."""
    return catalogue_stamp(request).changed_at


def conditional(view: Callable, *, max_age: int | None = None) -> Callable:
    """A public GET revalidated by the catalogue version (Django's ``condition``).

    ``ETag`` and ``Last-Modified`` come from the version (computed once per response), and a
    revalidation that still holds is a 304 before the view runs. Only 200s and 304s carry the
    validators, and ``Cache-Control: public, max-age`` when ``max_age`` is given: an error is
    never marked cacheable.
    """
    revalidated = condition(etag_func=version_etag, last_modified_func=version_changed_at)(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = revalidated(request, *args, **kwargs)
        if response.status_code not in (200, 304):
            del response["ETag"]
            del response["Last-Modified"]
            return response
        if request.method not in ("GET", "HEAD"):
            return response
        if response.status_code == 200 and (changed_at := version_changed_at(request)):
            response["Last-Modified"] = http_date(changed_at.timestamp())  # whatever the view set
        if max_age is not None:
            patch_cache_control(response, public=True, max_age=max_age)
        return response

    return wrapper


def versioned(view: Callable) -> Callable:
    """``conditional`` and ``cached_page``: for feeds and sitemaps, functions of the catalogue."""
    return conditional(cached_page(view))
