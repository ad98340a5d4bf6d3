"""A database that cannot be reached makes a clear 503, never a 500 with a traceback.

When PostgreSQL is down or restarting, a view (or the template it renders) raises
``OperationalError`` or ``InterfaceError``. This middleware answers such a request with
``503 Service Unavailable`` and ``Retry-After``: a short HTML page, or JSON under ``/api/``.
Nothing else changes: once the database is back, Django's connection health checks
(``CONN_HEALTH_CHECKS``) replace the broken connection on the next request, without a restart.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
MESSAGE = "The catalogue's database is unavailable at the moment. Please try again shortly."
PAGE = f"""<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Temporarily unavailable · ATMP Catalogue</title></head>
<body>
<main>
<h1>Temporarily unavailable</h1>
<p>{MESSAGE}</p>
<p>Nothing is lost: the page will work again as soon as the database is back.</p>
</main>
</body>
</html>
"""


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a 503 page (or JSON) with ``Retry-After``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        reason = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
        logger.error("database unavailable for %s %s: %s", request.method, request.path, reason)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": MESSAGE}, status=503)
        else:
            response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
