"""Search: a lexicon of the search vectors' words for misspellings; no more trigram document.

Until now a misspelt word was matched by trigram against ``search_document``, the whole text of
each product (~335 characters): common trigrams made a large share of the catalogue candidates,
each rechecked, so one misspelt word cost 170 ms at 10,000 products and 2 s at 100,000. As
pg_trgm's documentation recommends for spelling, ``products_searchword`` now holds the distinct
words of the products' ``search_vector`` with a trigram index; a search expands a misspelt word
into the lexicon's words like it and matches those with the vector's full-text index
(``ProductQuerySet.search``). ``search_document`` and its trigram index are dropped, and the fill
trigger of migration 0004 no longer writes it.

The lexicon is kept by statement triggers on ``products_product`` that read the new rows
(transition tables): one set-based insert per statement, so a ``COPY`` of 100,000 products
(``generate_catalogue``) adds its words at once, not row by row. Words are never removed: a stale
word only adds to a search a word that no document has. Words with a digit are left out (codes
and numbers are never matched fuzzily, see ``is_fuzzy``).
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

# The fill function of migration 0004 without search_document.
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
    RETURN NEW;
END;
$$;
"""

# Migration 0004's fill function, with search_document; the reverse also fills that column again.
FILL_FUNCTION_0004 = (
    FILL_FUNCTION.replace(
        "    RETURN NEW;",
        "    NEW.search_document := lower(unaccent(concat_ws(' ', names, identity, kind, context)));"
        "\n    RETURN NEW;",
    )
    + "UPDATE products_product SET search_vector = NULL;"
)

LEXICON = """
-- The words of a vector that the lexicon keeps: those without a digit.
CREATE FUNCTION products_searchword_of(vector tsvector) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT word FROM unnest(tsvector_to_array(vector)) AS word WHERE word !~ '[[:digit:]]'
$$;

-- Adds the words of the statement's new or changed vectors. In order, so that two transactions
-- adding the same new words wait for each other instead of deadlocking.
CREATE FUNCTION products_searchword_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO products_searchword (word)
        SELECT DISTINCT w.word
          FROM new_products n, products_searchword_of(n.search_vector) AS w(word)
         ORDER BY w.word
            ON CONFLICT (word) DO NOTHING;
    ELSE
        INSERT INTO products_searchword (word)
        SELECT DISTINCT w.word
          FROM new_products n
          JOIN old_products o ON o.id = n.id AND o.search_vector IS DISTINCT FROM n.search_vector,
               products_searchword_of(n.search_vector) AS w(word)
         ORDER BY w.word
            ON CONFLICT (word) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER products_product_searchword_insert
AFTER INSERT ON products_product
REFERENCING NEW TABLE AS new_products
FOR EACH STATEMENT EXECUTE FUNCTION products_searchword_add();

CREATE TRIGGER products_product_searchword_update
AFTER UPDATE ON products_product
REFERENCING OLD TABLE AS old_products NEW TABLE AS new_products
FOR EACH STATEMENT EXECUTE FUNCTION products_searchword_add();

-- The words of the products that already exist (before the trigram index: faster).
INSERT INTO products_searchword (word)
SELECT DISTINCT w.word FROM products_product p, products_searchword_of(p.search_vector) AS w(word);
"""

DROP_LEXICON = """
DROP TRIGGER IF EXISTS products_product_searchword_update ON products_product;
DROP TRIGGER IF EXISTS products_product_searchword_insert ON products_product;
DROP FUNCTION IF EXISTS products_searchword_add();
DROP FUNCTION IF EXISTS products_searchword_of(tsvector);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0005_updated_at_index"),
    ]

    operations = [
        migrations.RunSQL(FILL_FUNCTION, reverse_sql=FILL_FUNCTION_0004),
        migrations.RemoveIndex(model_name="product", name="products_product_search_trgm"),
        migrations.RemoveField(model_name="product", name="search_document"),
        migrations.AlterField(
            model_name="product",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(
                blank=True,
                editable=False,
                help_text=(
                    "Weighted full-text vector of every searched fact (name first), unaccented."
                ),
                null=True,
            ),
        ),
        # The table as Django would create it, without its text_pattern_ops twin of the primary
        # key (for LIKE): the lexicon is only ever searched by trigram.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE TABLE products_searchword (word text NOT NULL PRIMARY KEY);",
                    reverse_sql="DROP TABLE products_searchword;",
                ),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="SearchWord",
                    fields=[
                        (
                            "word",
                            models.TextField(
                                help_text="Unaccented lowercase lexeme of a search vector.",
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ("word",),
                    },
                ),
            ],
        ),
        migrations.RunSQL(LEXICON, reverse_sql=DROP_LEXICON),
        migrations.AddIndex(
            model_name="searchword",
            index=django.contrib.postgres.indexes.GinIndex(
                fastupdate=False,
                fields=["word"],
                name="products_searchword_trgm",
                opclasses=["gin_trgm_ops"],
            ),
        ),
    ]
