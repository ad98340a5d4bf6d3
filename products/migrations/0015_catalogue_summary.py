"""The catalogue summary: the home page's whole-catalogue counts kept by statement triggers.

The home page counted every published product three times on each computation (by status, by
year and category, and the share of facts verified): index-only scans of 67,000-97,000 entries
each at 100,000 products, 150 ms of the page's first request after every write. The summary
holds the published products counted by (status, category, year of first authorisation,
number of unverified fields, marked unverified): a few hundred rows at most, from which the
three counts are sums (``CatalogueSummaryQuerySet``).

``AFTER … FOR EACH STATEMENT`` triggers with transition tables keep it in the writer's
transaction: an insert adds its published rows' counts, a delete takes its old rows' away, an
update does both in one statement (rows whose groups did not change cancel out); groups left
with no product are removed. A ``TRUNCATE`` of the products empties it. A writer that turns
triggers off (``session_replication_role = replica``: the test suite's restore, the benchmark's
generator for the related rows only) writes the summary's rows itself or leaves the products'
triggers on; see tests/test_models.py for the checks after every kind of write.
"""

import django.db.models.deletion
from django.db import migrations, models

#: The group of a product row ``p``: the summary's columns, in order.
GROUP = """
    p.status,
    p.category_id,
    COALESCE(EXTRACT(YEAR FROM p.authorisation_date)::integer,
             NULLIF(SUBSTRING(p.authorisation_date_partial, 1, 4), '')::integer),
    COALESCE(array_length(p.unverified_fields, 1), 0),
    COALESCE(LOWER(TRIM(p.verification)) = 'unverified', FALSE)"""

COLUMNS = "status, category_id, year, doubts, is_unverified"


def counted(rows: str, sign: int) -> str:
    """The published rows of the transition table ``rows``, counted by group, times ``sign``."""
    return f"SELECT {GROUP}, {sign} AS products FROM {rows} AS p WHERE p.is_published"


def apply(*parts: str) -> str:
    """Add the counts of ``parts`` (UNION ALL) to the summary, group by group."""
    return f"""
        INSERT INTO products_cataloguesummary AS summary ({COLUMNS}, products)
        SELECT {COLUMNS}, SUM(products)
          FROM ({" UNION ALL ".join(parts)}) AS changes ({COLUMNS}, products)
         GROUP BY {COLUMNS}
        HAVING SUM(products) <> 0
        ON CONFLICT ({COLUMNS})
        DO UPDATE SET products = summary.products + EXCLUDED.products;"""


FUNCTIONS = f"""
CREATE FUNCTION products_summary_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {apply(counted("new_products", 1))}
    ELSIF TG_OP = 'UPDATE' THEN
        {apply(counted("new_products", 1), counted("old_products", -1))}
    ELSE
        {apply(counted("old_products", -1))}
    END IF;
    DELETE FROM products_cataloguesummary WHERE products = 0;
    RETURN NULL;
END;
$$;

CREATE FUNCTION products_summary_emptied() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM products_cataloguesummary;
    RETURN NULL;
END;
$$;

CREATE TRIGGER products_product_summary_insert AFTER INSERT ON products_product
REFERENCING NEW TABLE AS new_products
FOR EACH STATEMENT EXECUTE FUNCTION products_summary_changed();
CREATE TRIGGER products_product_summary_update AFTER UPDATE ON products_product
REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products
FOR EACH STATEMENT EXECUTE FUNCTION products_summary_changed();
CREATE TRIGGER products_product_summary_delete AFTER DELETE ON products_product
REFERENCING OLD TABLE AS old_products
FOR EACH STATEMENT EXECUTE FUNCTION products_summary_changed();
CREATE TRIGGER products_product_summary_truncate AFTER TRUNCATE ON products_product
FOR EACH STATEMENT EXECUTE FUNCTION products_summary_emptied();

-- The products that exist.
INSERT INTO products_cataloguesummary ({COLUMNS}, products)
SELECT {COLUMNS}, SUM(products)
  FROM ({counted("products_product", 1)}) AS present ({COLUMNS}, products)
 GROUP BY {COLUMNS};
"""

DROP = """
DROP TRIGGER products_product_summary_insert ON products_product;
DROP TRIGGER products_product_summary_update ON products_product;
DROP TRIGGER products_product_summary_delete ON products_product;
DROP TRIGGER products_product_summary_truncate ON products_product;
DROP FUNCTION products_summary_changed();
DROP FUNCTION products_summary_emptied();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0014_cold_path_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueSummary",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("status", models.CharField(max_length=40)),
                ("year", models.IntegerField(null=True)),
                ("doubts", models.PositiveIntegerField()),
                ("is_unverified", models.BooleanField()),
                ("products", models.IntegerField()),
                (
                    "category",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="products.category",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("status", "category", "year", "doubts", "is_unverified"),
                        name="products_cataloguesummary_one_row_per_group",
                        nulls_distinct=False,
                        violation_error_message="One row per group of products.",
                    )
                ],
            },
        ),
        migrations.RunSQL(FUNCTIONS, reverse_sql=DROP),
    ]
