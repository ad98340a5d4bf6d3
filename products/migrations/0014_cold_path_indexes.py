"""Indexes for the first request after a write (the cold path), measured in bench/README.md.

- ``products_product_published_facets``: the published products' facet and home-page columns,
  covered (``INCLUDE``), so that the counts of the list's filter panel, the status counts and the
  authorisations per year read a 12 MB index, not the 140 MB table (at 100,000 products).
- ``products_product_therapeutic_area_ids``: GIN on the areas' ids kept on each product
  (migration 0008), for ``ProductQuerySet.in_therapeutic_area_ids`` (an overlap of arrays).
- ``products_historicalproduct_changes``: the product history's records other than additions,
  newest first, for the home page's "Recently updated" (``products/history.py``).

Plain SQL (``RunSQL``): partial, covering and GIN indexes that no model field declares.
"""

from django.db import migrations

FACET_COLUMNS = (
    "id, holder_id, cell_source, is_orphan, is_orphan_at_authorisation, is_conditional, "
    "is_conditional_at_authorisation, is_exceptional_circumstances, "
    "is_exceptional_circumstances_at_authorisation, is_prime, is_prime_at_authorisation, "
    "is_accelerated_assessment, is_accelerated_assessment_at_authorisation, "
    "therapeutic_area_ids, authorisation_date, authorisation_date_partial, verification, "
    "unverified_fields"
)


class Migration(migrations.Migration):
    dependencies = [("products", "0013_partial_date_order")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX products_product_published_facets ON products_product "
            f"(category_id, status) INCLUDE ({FACET_COLUMNS}) WHERE is_published",
            "DROP INDEX products_product_published_facets",
        ),
        migrations.RunSQL(
            "CREATE INDEX products_product_therapeutic_area_ids ON products_product "
            "USING gin (therapeutic_area_ids)",
            "DROP INDEX products_product_therapeutic_area_ids",
        ),
        migrations.RunSQL(
            "CREATE INDEX products_historicalproduct_changes ON products_historicalproduct "
            "(history_date DESC) WHERE history_type <> '+'",
            "DROP INDEX products_historicalproduct_changes",
        ),
    ]
