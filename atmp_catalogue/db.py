"""Which database a query goes to, and who the client is: the pieces of a deployment of several
machines behind a proxy, with a PostgreSQL primary and a streaming replica.

- ``ReplicaMiddleware`` marks a visitor's request (anonymous, GET or HEAD, outside the admin) for
  the replica; ``ReplicaRouter`` sends that request's reads of the public catalogue there. The
  admin, logins, sessions, axes' records, imports and every write go to the primary, and so does
  everything when ``DATABASE_REPLICA_URL`` is unset (``make run``, the tests).
- The catalogue version that names a cache entry is read on the same database as the data the
  entry holds (``products/caching.py`` asks ``read_database()``). A replica replays the primary's
  transactions in order, and the version moves in the transaction of the change, so data read
  after the version on one server is never older than that version: a lagging replica can delay
  an edit for visitors, never cache old data under a new version.
- ``client_address`` is the client's address for axes, by the rule of the API's throttle
  (``TRUSTED_PROXY_COUNT``, passed to DRF as ``NUM_PROXIES``).
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.db import router

#: The alias of the replica in ``settings.DATABASES`` (present with ``DATABASE_REPLICA_URL``).
REPLICA = "replica"
#: Apps whose reads always go to the primary: a replica's lag must never lose a login, a
#: session, a lockout or a permission.
PRIMARY_APPS = frozenset({"admin", "auth", "axes", "contenttypes", "sessions"})
#: Models of the catalogue app that belong to editors' work, read on the primary.
PRIMARY_MODELS = frozenset({"pendingimport", "importrun"})

_visitor: ContextVar[bool] = ContextVar("atmp_visitor", default=False)


class ReplicaRouter:
    """Visitors' reads of the public catalogue to the replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if (
            _visitor.get()
            and REPLICA in settings.DATABASES
            and model._meta.app_label not in PRIMARY_APPS
            and model._meta.model_name not in PRIMARY_MODELS
        ):
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two servers

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def read_database() -> str:
    """The alias this request reads the catalogue from (the version, pages, counts)."""
    from products.models import CatalogueVersion

    return router.db_for_read(CatalogueVersion)


def is_visitor_request(request) -> bool:
    """An anonymous GET or HEAD outside the admin: what the public sees, cached per version."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith("/admin/")
        and not request.user.is_authenticated
    )


class ReplicaMiddleware:
    """Marks a visitor's request for the replica for as long as it is handled."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if REPLICA not in settings.DATABASES or not is_visitor_request(request):
            return self.get_response(request)
        token = _visitor.set(True)
        try:
            response = self.get_response(request)
            # A streamed response (the CSV export) reads while it is sent: close its reads
            # on the replica too.
            if response.streaming:
                response.streaming_content = _on_replica(response.streaming_content)
            return response
        finally:
            _visitor.reset(token)


def _on_replica(chunks):
    token = _visitor.set(True)
    try:
        yield from chunks
    finally:
        _visitor.reset(token)


def client_address(request) -> str | None:
    """The client's address behind ``TRUSTED_PROXY_COUNT`` proxies (axes' lockouts).

    The very rule of the API's throttle (DRF's ``NUM_PROXIES``): with 0 the connection's address;
    otherwise the entry of ``X-Forwarded-For`` that many places from its end, the one the
    nearest trusted proxy wrote, so anything a client puts in the header itself is ignored.
    """
    from rest_framework.throttling import BaseThrottle

    return BaseThrottle().get_ident(request) or None
