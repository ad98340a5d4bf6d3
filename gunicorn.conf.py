"""gunicorn's settings wherever the catalogue is served: `make run` (the serve command), the
Docker image, the benchmark and the tests' servers all start gunicorn with this file.

Command-line options (bind address, workers) add to these. Without ``--workers``, gunicorn
starts ``WEB_CONCURRENCY`` workers (its own variable; docker-compose.yml sets it).
"""

import os
import shutil
import tempfile

# Request lines of up to 8190 bytes (gunicorn's maximum; its default, 4094, answered a query
# string of about 4 kB with its own HTML 414 page, even under /api/). Django then answers an
# over-long query string itself, as JSON under /api/ (atmp_catalogue/middleware.py).
limit_request_line = 8190

# Prometheus metrics (/metrics) of all the workers of this server, not only the one that
# answers: prometheus_client's multiprocess mode, with a folder of this server's own (set before
# the workers start, removed when the server stops; a dead worker's gauges are dropped).
_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = tempfile.mkdtemp(prefix="atmp-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
