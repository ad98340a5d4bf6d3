"""Project-level views that belong to no app: the health checks."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
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

    The database's own message (which names hosts, sockets or users) goes to the log only.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        logger.error("health check: database unavailable: %s", reason)
        response = JsonResponse(
            {"status": "error", "database": "unavailable", "reason": "database unavailable"},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})


@csrf_exempt
@never_cache
@require_safe
def ping(request):
    """Liveness: a constant answer that touches no database (the benchmark's baseline, too)."""
    return JsonResponse({"status": "ok"})
