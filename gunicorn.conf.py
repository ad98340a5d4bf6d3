"""gunicorn's settings wherever the catalogue is served: `make run` (the serve command), the
Docker image, the benchmark and the tests' servers all start gunicorn with this file.

Command-line options (bind address, workers) add to these.
"""

# Request lines of up to 8190 bytes (gunicorn's maximum; its default, 4094, answered a query
# string of about 4 kB with its own HTML 414 page, even under /api/). Django then answers an
# over-long query string itself, as JSON under /api/ (atmp_catalogue/middleware.py).
limit_request_line = 8190
