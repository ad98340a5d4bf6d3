"""Therapeutic areas: a plain name beside the EMA's MeSH heading, both found by search.

``plain_name`` ("Spinal muscular atrophy (SMA)", "Haemophilia B") is shown first and the MeSH
heading ("Muscular Atrophy, Spinal") as such; the names come from ``fixtures/curation.json``
through ``load_catalogue`` and are edited in the admin. The search vector's fill function (of
migration 0008) now adds the plain name to the area's heading, and a change to either touches the
products of the area.
"""

import importlib

from django.db import migrations, models

FILL_FUNCTION_0008 = importlib.import_module(
    "products.migrations.0008_therapeutic_area_ids"
).FILL_FUNCTION

FILL_FUNCTION = FILL_FUNCTION_0008.replace(
    "string_agg(DISTINCT t.name, ' ')", "string_agg(DISTINCT concat_ws(' ', t.name, t.plain_name), ' ')"
)
assert FILL_FUNCTION != FILL_FUNCTION_0008

TOUCH = """
DROP TRIGGER products_therapeuticarea_search_touch ON products_therapeuticarea;
CREATE TRIGGER products_therapeuticarea_search_touch
AFTER UPDATE OF name, plain_name ON products_therapeuticarea
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_vocabulary();
"""
TOUCH_0004 = TOUCH.replace("OF name, plain_name ON", "OF name ON")


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0011_search_synonyms"),
    ]

    operations = [
        migrations.AddField(
            model_name="therapeuticarea",
            name="plain_name",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The name patients and doctors use (“Spinal muscular atrophy (SMA)”, "
                    "“Haemophilia B”), British spelling. Empty: the MeSH heading is shown."
                ),
                max_length=200,
            ),
        ),
        migrations.RunSQL(
            FILL_FUNCTION + TOUCH + "UPDATE products_product SET search_vector = NULL;",
            reverse_sql=FILL_FUNCTION_0008 + TOUCH_0004,
        ),
    ]
