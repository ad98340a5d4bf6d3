"""Project-level views that belong to no app: the health checks and the metrics."""

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from atmp_catalogue.middleware import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)


@csrf_exempt  # read-only: anything but GET or HEAD is a 405, not the CSRF failure page
@never_cache
@require_safe
def healthz(request):
    """200 when the database answers a query; else 503 "database unavailable" and ``Retry-After``.

    With a replica (``DATABASE_REPLICA_URL``) it must answer too (``"replica": "ok"``): visitors
    read from it. The database's own message (which names hosts, sockets or users) goes to the
    log only.
    """
    body = {"status": "ok"}
    for alias, name in (("default", "database"), ("replica", "replica")):
        if alias not in settings.DATABASES:
            continue
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            logger.error("health check: %s unavailable: %s", name, reason)
            response = JsonResponse(
                {"status": "error", name: "unavailable", "reason": f"{name} unavailable"},
                status=503,
            )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        body[name] = "ok"
    return JsonResponse(body)


@csrf_exempt
@never_cache
@require_safe
def ping(request):
    """Liveness: a constant answer that touches no database (the benchmark's baseline, too)."""
    return JsonResponse({"status": "ok"})


@csrf_exempt
@never_cache
@require_safe
def metrics(request):
    """Prometheus metrics of this instance, for a request with ``Bearer <METRICS_TOKEN>``.

    Private: without ``METRICS_TOKEN`` set, or without the token, it is a 404 as for any unknown
    path (nothing tells a visitor it exists). Each instance answers for all its workers.
    """
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Http404
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)
