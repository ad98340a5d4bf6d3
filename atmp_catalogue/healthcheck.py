"""The container's health check: ``python -m atmp_catalogue.healthcheck`` (docker-compose.yml).

It asks this container's gunicorn for ``/healthz`` as the proxy would: with the first of
``ALLOWED_HOSTS`` as the host and, when ``HTTPS`` is on, ``X-Forwarded-Proto: https``, so that
production settings answer 200 (not 400 for an unknown host, nor 301 to https). Exit 0 when the
catalogue and its databases answer; else one line and exit 1. It reads the environment only:
no Django, no database of its own.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to report, not one to follow


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    headers = {"Host": host}
    if os.environ.get("HTTPS", "").strip().lower() in ("1", "true", "yes", "on"):
        headers["X-Forwarded-Proto"] = "https"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers=headers)
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=4) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"healthcheck: no answer on port {port}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"healthcheck: /healthz answered {status} for host {host}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
