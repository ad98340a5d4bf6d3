"""Search: a stored, weighted search document per product, kept by the database, with GIN indexes.

``products_product.search_vector`` (full-text, ``simple`` configuration, unaccented) and
``search_document`` (the same text, unaccented and lowercase, for trigram matching) are filled by a
``BEFORE INSERT OR UPDATE`` trigger on the product from the row itself and from its holder,
category, mechanisms, indications and therapeutic areas. Triggers on those tables touch the
products concerned, so the document never lags behind an edit, whoever makes it (admin, importer,
SQL). Weights: A brand name and former names; B INN, product number, ATC code; C platform, target,
category, mechanisms; D status (its slug: withdrawn, expired…), holder, indications' conditions,
therapeutic areas.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

FILL_FUNCTION = """
CREATE OR REPLACE FUNCTION products_product_search_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    names text;
    identity text;
    kind text;
    context text;
BEGIN
    names := concat_ws(' ', NEW.name, array_to_string(NEW.aliases, ' '));
    identity := concat_ws(' ', NEW.inn, NEW.ema_product_number, NEW.atc_code);
    kind := concat_ws(' ', NEW.platform, NEW.target,
        (SELECT concat_ws(' ', c.name, c.abbreviation)
           FROM products_category c WHERE c.id = NEW.category_id),
        (SELECT string_agg(m.name, ' ' ORDER BY m.name)
           FROM products_mechanismofaction m
           JOIN products_product_mechanisms pm ON pm.mechanismofaction_id = m.id
          WHERE pm.product_id = NEW.id));
    context := concat_ws(' ', NEW.status,
        (SELECT co.name FROM products_company co WHERE co.id = NEW.holder_id),
        (SELECT string_agg(i.condition, ' ' ORDER BY i.position, i.id)
           FROM products_indication i WHERE i.product_id = NEW.id),
        (SELECT string_agg(DISTINCT t.name, ' ')
           FROM products_therapeuticarea t
           JOIN products_indication_therapeutic_areas it ON it.therapeuticarea_id = t.id
           JOIN products_indication i ON i.id = it.indication_id
          WHERE i.product_id = NEW.id));
    NEW.search_vector :=
        setweight(to_tsvector('simple', unaccent(names)), 'A')
        || setweight(to_tsvector('simple', unaccent(identity)), 'B')
        || setweight(to_tsvector('simple', unaccent(kind)), 'C')
        || setweight(to_tsvector('simple', unaccent(context)), 'D');
    NEW.search_document := lower(unaccent(concat_ws(' ', names, identity, kind, context)));
    RETURN NEW;
END;
$$;

CREATE TRIGGER products_product_search_fill
BEFORE INSERT OR UPDATE ON products_product
FOR EACH ROW EXECUTE FUNCTION products_product_search_fill();
"""

# Each related table touches the products it concerns; the trigger above then rebuilds them.
TOUCH_FUNCTIONS = """
CREATE OR REPLACE FUNCTION products_product_search_touch(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE products_product SET search_vector = NULL WHERE id = ANY(product_ids);
$$;

CREATE OR REPLACE FUNCTION products_search_touch_by_product() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_product_search_touch(ARRAY[OLD.product_id, NEW.product_id]);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION products_search_touch_by_indication() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM products_product_search_touch(ARRAY(
        SELECT product_id FROM products_indication
         WHERE id IN (OLD.indication_id, NEW.indication_id)));
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION products_search_touch_by_vocabulary() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'products_company' THEN
        PERFORM products_product_search_touch(ARRAY(
            SELECT id FROM products_product WHERE holder_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'products_category' THEN
        PERFORM products_product_search_touch(ARRAY(
            SELECT id FROM products_product WHERE category_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'products_mechanismofaction' THEN
        PERFORM products_product_search_touch(ARRAY(
            SELECT product_id FROM products_product_mechanisms
             WHERE mechanismofaction_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'products_therapeuticarea' THEN
        PERFORM products_product_search_touch(ARRAY(
            SELECT i.product_id FROM products_indication i
              JOIN products_indication_therapeutic_areas it ON it.indication_id = i.id
             WHERE it.therapeuticarea_id = NEW.id));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER products_indication_search_touch
AFTER INSERT OR UPDATE OR DELETE ON products_indication
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_product();

CREATE TRIGGER products_product_mechanisms_search_touch
AFTER INSERT OR UPDATE OR DELETE ON products_product_mechanisms
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_product();

CREATE TRIGGER products_indication_therapeutic_areas_search_touch
AFTER INSERT OR UPDATE OR DELETE ON products_indication_therapeutic_areas
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_indication();

CREATE TRIGGER products_company_search_touch
AFTER UPDATE OF name ON products_company
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_vocabulary();

CREATE TRIGGER products_category_search_touch
AFTER UPDATE OF name, abbreviation ON products_category
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_vocabulary();

CREATE TRIGGER products_mechanismofaction_search_touch
AFTER UPDATE OF name ON products_mechanismofaction
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_vocabulary();

CREATE TRIGGER products_therapeuticarea_search_touch
AFTER UPDATE OF name ON products_therapeuticarea
FOR EACH ROW EXECUTE FUNCTION products_search_touch_by_vocabulary();

-- Fill the documents of the products that already exist.
UPDATE products_product SET search_vector = NULL;
"""

DROP_ALL = """
DROP TRIGGER IF EXISTS products_therapeuticarea_search_touch ON products_therapeuticarea;
DROP TRIGGER IF EXISTS products_mechanismofaction_search_touch ON products_mechanismofaction;
DROP TRIGGER IF EXISTS products_category_search_touch ON products_category;
DROP TRIGGER IF EXISTS products_company_search_touch ON products_company;
DROP TRIGGER IF EXISTS products_indication_therapeutic_areas_search_touch
    ON products_indication_therapeutic_areas;
DROP TRIGGER IF EXISTS products_product_mechanisms_search_touch ON products_product_mechanisms;
DROP TRIGGER IF EXISTS products_indication_search_touch ON products_indication;
DROP TRIGGER IF EXISTS products_product_search_fill ON products_product;
DROP FUNCTION IF EXISTS products_search_touch_by_vocabulary();
DROP FUNCTION IF EXISTS products_search_touch_by_indication();
DROP FUNCTION IF EXISTS products_search_touch_by_product();
DROP FUNCTION IF EXISTS products_product_search_touch(bigint[]);
DROP FUNCTION IF EXISTS products_product_search_fill();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0003_import_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="product",
            name="search_document",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="Unaccented lowercase text of every searched fact, for trigram matching.",
            ),
        ),
        migrations.AddField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                blank=True,
                editable=False,
                help_text="Weighted full-text vector of the same facts (name first).",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="products_product_search_vector"
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_document"],
                name="products_product_search_trgm",
                opclasses=["gin_trgm_ops"],
            ),
        ),
        migrations.RunSQL(FILL_FUNCTION + TOUCH_FUNCTIONS, reverse_sql=DROP_ALL),
    ]
