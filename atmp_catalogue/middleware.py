"""Answers the site gives before or instead of a view, in the site's own formats.

``QueryStringLimitMiddleware``: an over-long query string is a 414, JSON under ``/api/``.

``DatabaseUnavailableMiddleware``: a database that cannot be reached makes a clear 503, never a
500 with a traceback.

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
from django.shortcuts import render

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


#: The longest query string answered, in bytes as sent (percent-encoded). gunicorn lets request
#: lines of up to 8190 bytes through (``gunicorn.conf.py``), so this limit, not gunicorn's own HTML
#: page, answers any query string a client may send; the longest the catalogue's own forms make
#: (every filter ticked) is far shorter.
MAX_QUERY_STRING = 4096


class QueryStringLimitMiddleware:
    """A query string over ``MAX_QUERY_STRING`` bytes: a 414, JSON under ``/api/``, else a page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = len(request.META.get("QUERY_STRING", ""))
        if length <= MAX_QUERY_STRING:
            return self.get_response(request)
        message = (
            f"The query string is too long: {length} bytes, and at most {MAX_QUERY_STRING} are "
            "accepted. Ask for fewer values at once."
        )
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=414)
        else:
            response = render(request, "414.html", {"message": message}, status=414)
        response["Cache-Control"] = "no-store"
        return response


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
