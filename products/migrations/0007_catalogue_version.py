"""The catalogue version: one row bumped before every write to the catalogue's tables.

A ``BEFORE … FOR EACH STATEMENT`` trigger on each table whose rows the public pages and the API
show upserts the row of ``products_catalogueversion`` (creating it after a ``TRUNCATE``): the
version goes up by one and ``changed_at`` takes the clock's time. The bump is part of the writer's
transaction, so it becomes visible with the data; a rolled-back write leaves both as they were.
Caches key on (version, changed_at): see ``products/caching.py``. Also two indexes for the newest
events (``latest_events()``).
"""

import django.db.models.functions.text
from django.db import migrations, models

#: The tables of everything public: a write to any of them may change a page or a response.
TABLES = (
    "products_product",
    "products_product_mechanisms",
    "products_indication",
    "products_indication_therapeutic_areas",
    "products_authorisationevent",
    "products_category",
    "products_mechanismofaction",
    "products_therapeuticarea",
    "products_company",
)

BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION products_catalogue_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO products_catalogueversion (id, version, changed_at)
    VALUES (1, 1, clock_timestamp())
    ON CONFLICT (id) DO UPDATE
        SET version = products_catalogueversion.version + 1, changed_at = clock_timestamp();
    RETURN NULL;
END;
$$;
INSERT INTO products_catalogueversion (id, version, changed_at) VALUES (1, 1, clock_timestamp());
"""

TRIGGERS = "".join(
    f"""
CREATE TRIGGER {table}_catalogue_changed
BEFORE INSERT OR UPDATE OR DELETE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION products_catalogue_changed();
"""
    for table in TABLES
)

DROP_ALL = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_catalogue_changed ON {table};\n" for table in TABLES)
    + "DROP FUNCTION IF EXISTS products_catalogue_changed();\n"
)


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0006_search_lexicon"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField(default=1)),
                ("changed_at", models.DateTimeField()),
            ],
        ),
        migrations.AddIndex(
            model_name="authorisationevent",
            index=models.Index(
                models.OrderBy(models.F("date"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("date__isnull", False)),
                name="products_event_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="authorisationevent",
            index=models.Index(
                models.OrderBy(
                    django.db.models.functions.text.Substr("date_partial", 1, 4), descending=True
                ),
                models.OrderBy(django.db.models.functions.text.Length("date_partial")),
                models.OrderBy(models.F("date_partial"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(
                    ("date__isnull", True), models.Q(("date_partial", ""), _negated=True)
                ),
                name="products_event_newest_partial",
            ),
        ),
        migrations.AddConstraint(
            model_name="catalogueversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("id", 1)), name="products_catalogueversion_one_row"
            ),
        ),
        migrations.RunSQL(BUMP_FUNCTION + TRIGGERS, reverse_sql=DROP_ALL),
    ]
