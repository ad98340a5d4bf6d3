"""pytest plugin (loaded with ``-p`` before pytest-django reads the settings).

Without ``DATABASE_URL`` the suite gets its own embedded PostgreSQL in ``.data/test-postgres``,
never the server that ``make run`` uses; pytest-django then creates and drops a throwaway
``test_…`` database on it. With ``DATABASE_URL`` set, the tests use that server instead.
"""

import os

from atmp_catalogue.localdb import DATA_DIR, start_embedded_server

#: The embedded test server holds only throwaway databases: it need not survive a power cut,
#: so it does not wait for the disk (the suite runs about a tenth faster).
THROWAWAY_SERVER = ("fsync", "synchronous_commit", "full_page_writes")

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
if not os.environ.get("DATABASE_URL"):
    import psycopg

    url = start_embedded_server(DATA_DIR / "test-postgres")
    with psycopg.connect(url, autocommit=True) as server:
        for setting in THROWAWAY_SERVER:
            server.execute(f"ALTER SYSTEM SET {setting} = off")
        server.execute("SELECT pg_reload_conf()")
    os.environ["DATABASE_URL"] = url
