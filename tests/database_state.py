"""What a database holds, as one digest per table: equal digests, equal rows.

The tests that check that a refused input "changed nothing" compare two of these, taken before
and after. One aggregate query per table (``md5`` of its rows as text, in order), whatever the
number of rows or of many-to-many links.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import connection


def fingerprint(tables: Iterable[str] | None = None) -> dict[str, str]:
    """``table -> "rows:digest"`` for ``tables`` (default: every table of the database)."""
    digests = {}
    with connection.cursor() as cursor:
        for table in sorted(
            tables if tables is not None else connection.introspection.table_names(cursor)
        ):
            name = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {name} t"
            )
            count, digest = cursor.fetchone()
            digests[table] = f"{count}:{digest}"
    return digests


def app_tables(app_label: str, *, without: Iterable[str] = ()) -> list[str]:
    """The tables of an app's models (``without``: model labels left out), with the tables of
    their many-to-many links."""
    tables = []
    for model in apps.get_app_config(app_label).get_models():
        if model._meta.label in without:
            continue
        tables.append(model._meta.db_table)
        tables += [
            field.remote_field.through._meta.db_table
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
    return tables
