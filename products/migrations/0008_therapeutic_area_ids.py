"""The product's therapeutic areas as an array kept by the search trigger, for the area facet.

The list page counts its products per therapeutic area under the other filters. Through the
relations (product → indications → their areas) that meant joining every selected product to its
indications and their areas and counting distinct products per area: at 100,000 products with
one category ticked, 143,000 rows sorted for ``COUNT(DISTINCT …)``, 220–300 ms, most of the list
page's time when it is not cached (bench/README.md). ``therapeutic_area_ids`` holds each product's
area ids once, so the count is one pass over the selected product rows (``unnest`` and a hash
aggregate); see ``ProductQuerySet.count_by_vocabulary``.

The fill trigger of migrations 0004 and 0006 already runs for every product written and for every
product whose indications or their areas change (the touch triggers of 0004); it now also sets
the array, so the array never lags behind an edit, whoever makes it.
"""

import importlib

import django.contrib.postgres.fields
from django.db import migrations, models

FILL_FUNCTION_0006 = importlib.import_module("products.migrations.0006_search_lexicon").FILL_FUNCTION

AREA_IDS = """
    NEW.therapeutic_area_ids := ARRAY(
        SELECT DISTINCT it.therapeuticarea_id
          FROM products_indication_therapeutic_areas it
          JOIN products_indication i ON i.id = it.indication_id
         WHERE i.product_id = NEW.id
         ORDER BY 1);
    RETURN NEW;"""

FILL_FUNCTION = FILL_FUNCTION_0006.replace("\n    RETURN NEW;", AREA_IDS)
assert FILL_FUNCTION != FILL_FUNCTION_0006

# The products that exist: every row through the fill trigger once.
FILL_EXISTING = "UPDATE products_product SET search_vector = NULL;"


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0007_catalogue_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="therapeutic_area_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                editable=False,
                help_text="Ids of the therapeutic areas of the product's indications, each once.",
                size=None,
            ),
        ),
        migrations.RunSQL(FILL_FUNCTION + FILL_EXISTING, reverse_sql=FILL_FUNCTION_0006),
    ]
