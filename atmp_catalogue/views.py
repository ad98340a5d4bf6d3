"""Project-level views that belong to no app: the health checks."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """200 when the database answers a query; 503 with the reason when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JsonResponse(
            {"status": "error", "database": "unavailable", "reason": reason}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_safe
def ping(request):
    """Liveness: a constant answer that touches no database (the benchmark's baseline, too)."""
    return JsonResponse({"status": "ok"})
