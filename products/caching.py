"""Caching on the catalogue version: never stale, nothing to invalidate.

Everything public is computed from the catalogue's tables, and every write to them bumps the one
row of ``CatalogueVersion`` in the same transaction (migration 0007). A cache key that includes
that version therefore names one state of the catalogue: a curator's edit or an import changes the
key of every page, response and count on the next request, and old entries simply age out of the
cache. Reading the version is one primary-key lookup, done once per request (and shared by a
process's requests for at most ``CATALOGUE_VERSION_MAX_AGE`` seconds), on the database the
request reads its data from (the replica for visitors, see ``atmp_catalogue/db.py``).

With ``REDIS_URL`` the cache is shared by every instance: an entry is computed once per
catalogue version, whichever instance is asked first. A short lock (``LOCK_SECONDS``, taken with
the cache's atomic ``add``) keeps the others from computing it too while it is being computed:
they wait for it instead, and compute it themselves only if it has not come by then.

- ``catalogue_stamp(request)``: the version (as a key) and the time of the last change.
- ``cached_page``: a view decorator that keeps the rendered page of anonymous visitors.
- ``cached(key_parts, compute)``: any value computed from the catalogue (the facet counts).
- ``lookup(key, kind)`` and ``store``/``release``: the same, for values computed by a view.

Each lookup counts a hit or a miss by kind (page, api, facets): the Prometheus counter
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
from django.db import connections
from django.http import HttpResponse
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

CACHE_REQUESTS = Counter(
    "atmp_catalogue_cache_requests",
    "Lookups in the catalogue cache, by kind of entry and result (hit, or miss: computed here).",
    ["kind", "result"],
)


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


#: This process's last reading of each database: (when it was read, by time.monotonic(); stamp).
_last_read: dict[str, tuple[float, Stamp]] = {}


def catalogue_stamp(request=None) -> Stamp:
    """The catalogue's stamp for this request: read once per request, shared for a moment.

    A visitor's request reuses this process's reading if it is younger than
    ``settings.CATALOGUE_VERSION_MAX_AGE`` seconds, so a change reaches visitors that much later
    at most (the API already lets clients reuse a response for five minutes); a signed-in
    user's request (a curator checking an edit) or a call without a request reads it afresh.
    The version is read where this request reads its data (the replica for a visitor), and a
    reading is reused only for the same database.
    """
    if request is not None and (stamp := getattr(request, "_catalogue_stamp", None)):
        return stamp
    max_age = settings.CATALOGUE_VERSION_MAX_AGE
    now = time.monotonic()
    user = getattr(request, "user", None)
    shared = request is not None and max_age > 0 and not (user and user.is_authenticated)
    using = read_database()
    last = _last_read.get(using)
    if shared and last is not None and now - last[0] < max_age:
        stamp = last[1]
    else:
        stamp = read_stamp(using)
        _last_read[using] = (now, stamp)
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
    """The cached value of ``key``; or None, and then the caller computes it and must ``store``
    or ``release`` it.

    On a miss the caller takes the key's lock (an atomic ``add``); if another instance holds it,
    this one waits for that instance's value for up to ``LOCK_SECONDS``, then computes it anyway.
    """
    cache = caches[CACHE_ALIAS]
    value = cache.get(key)
    if value is None:
        deadline = time.monotonic() + LOCK_SECONDS
        while not cache.add(f"{key}:lock", 1, LOCK_SECONDS) and time.monotonic() < deadline:
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


def cached(stamp: Stamp, parts: tuple, compute: Callable[[], Any], kind: str = "facets") -> Any:
    """``compute()`` for this state of the catalogue, from the cache when it was done already."""
    key = cache_key(stamp.key, *parts)
    value = lookup(key, kind)
    if value is None:
        try:
            value = compute()
        except BaseException:
            release(key)
            raise
        store(key, value)
    return value


def cached_page(view: Callable) -> Callable:
    """Serve an anonymous visitor's GET from the rendered page of this catalogue version.

    Only complete 200 pages are kept, keyed by the absolute URL (scheme, host, path and query:
    pages hold absolute URLs) and the catalogue stamp. Signed-in users (curators previewing
    drafts) always get a fresh page. Headers added by middleware (security, CSP) are added to a
    cached page as to any other.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            not settings.CATALOGUE_CACHE_PAGES
            or request.method not in ("GET", "HEAD")
            or request.user.is_authenticated
        ):
            return view(request, *args, **kwargs)
        key = cache_key("page", catalogue_stamp(request).key, request.build_absolute_uri())
        hit = lookup(key, "page")
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
        try:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                if hasattr(response, "render"):
                    response.render()
                if not response.cookies:
                    store(key, (response.content, response["Content-Type"]))
        finally:
            release(key)
        return response

    return wrapper


def versioned(view: Callable) -> Callable:
    """A public GET view revalidated by the catalogue version and kept rendered per version.

    ``ETag`` names the catalogue version and the full path, ``Last-Modified`` is the catalogue's
    last change (whatever the view set), and ``If-None-Match`` or ``If-Modified-Since`` that
    still hold are a 304 before the view runs; anonymous visitors' 200s are served from
    ``cached_page``. For feeds and the sitemap, whose content is a function of the catalogue.
    """
    from django.utils.http import http_date
    from django.views.decorators.http import condition

    def etag(request, *args, **kwargs) -> str:
        return digest("versioned", catalogue_stamp(request).key, request.get_full_path())

    def last_modified(request, *args, **kwargs) -> datetime.datetime | None:
        return catalogue_stamp(request).changed_at

    cached = cached_page(view)

    @condition(etag_func=etag, last_modified_func=last_modified)
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = cached(request, *args, **kwargs)
        if response.status_code == 200 and (changed_at := catalogue_stamp(request).changed_at):
            response["Last-Modified"] = http_date(changed_at.timestamp())
        return response

    return wrapper
