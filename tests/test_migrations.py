from io import StringIO

from django.core.management import call_command


def test_migrations_match_the_models(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_search_extensions_are_installed(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        names = {row[0] for row in cursor.fetchall()}
    assert {"pg_trgm", "unaccent"} <= names


def index_names(table: str) -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def test_partial_date_order_migration_keeps_every_event_both_ways(catalogue):
    """Back to the migration before it and forward again: the same rows, the one index."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from products.models import AuthorisationEvent

    table = AuthorisationEvent._meta.db_table
    rows = list(AuthorisationEvent.objects.order_by("pk").values())
    assert len(rows) > 100
    executor = MigrationExecutor(connection)
    [target] = [
        key
        for key in executor.loader.graph.nodes
        if key[0] == "products" and key[1].endswith("_partial_date_order")
    ]
    [before] = executor.loader.graph.node_map[target].parents
    executor.migrate([before.key])
    assert {"products_event_newest", "products_event_newest_partial"} <= index_names(table)
    assert "products_event_order" not in index_names(table)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("products"))
    assert "products_event_order" in index_names(table)
    assert "products_event_newest" not in index_names(table)
    assert list(AuthorisationEvent.objects.order_by("pk").values()) == rows
