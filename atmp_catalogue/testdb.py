"""pytest plugin (loaded with ``-p`` before pytest-django reads the settings).

Without ``DATABASE_URL`` the suite gets its own embedded PostgreSQL in ``.data/test-postgres``,
never the server that ``make run`` uses; pytest-django then creates and drops a throwaway
``test_…`` database on it. With ``DATABASE_URL`` set, the tests use that server instead.
"""

import os

from atmp_catalogue.localdb import DATA_DIR, start_embedded_server

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = start_embedded_server(DATA_DIR / "test-postgres")
