"""gunicorn's settings wherever the catalogue is served: `make run` (the serve command), the
Docker image, the benchmark and the tests' servers all start gunicorn with this file.

Command-line options (bind address, workers) add to these. Without ``--workers``, gunicorn
starts ``WEB_CONCURRENCY`` workers (its own variable; docker-compose.yml sets it).
"""

import os
import shutil
import sys
import tempfile

# What every worker needs, checked once, before any starts: one line and exit 1, not a
# traceback per worker (`make run` and manage.py fill these in for the local path; the Docker
# image has no embedded PostgreSQL).
for _name in ("DATABASE_URL", "SECRET_KEY"):
    if not (os.environ.get(_name) or os.environ.get(f"{_name}_FILE")):
        sys.exit(f"Error: {_name} is not set (or {_name}_FILE, the file that holds it)")

# Request lines of up to 8190 bytes (gunicorn's maximum; its default, 4094, answered a query
# string of about 4 kB with its own HTML 414 page, even under /api/). Django then answers an
# over-long query string itself, as JSON under /api/ (atmp_catalogue/middleware.py).
limit_request_line = 8190

# Django is set up once, in the master, before the workers fork: each starts at once and they
# share its memory. Loading the application opens no database connection (Django connects on a
# request's first query), so no connection is shared across the fork.
preload_app = True

# Prometheus metrics (/metrics) of all the workers of this server, not only the one that
# answers: prometheus_client's multiprocess mode, with a folder of this server's own (set before
# the workers start, removed when the server stops; a dead worker's gauges are dropped).
_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = tempfile.mkdtemp(prefix="atmp-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def when_ready(server):
    """In the master, before the workers fork: import the FHIR resources' models, which the
    application imports only when first used (products/fhir.py), so that no worker's first FHIR
    request pays a quarter of a second for them."""
    if server.cfg.preload_app:  # Django is set up in the master
        from products import fhir

        fhir.import_resource_models()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
