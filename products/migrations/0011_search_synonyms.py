"""Search: synonyms and lay terms as data, and typo tolerance by edit distance.

``products_searchsynonym`` holds the words people search with and what they stand for in the
catalogue's words (``sma`` → spinal muscular atrophy, ``butterfly skin`` → epidermolysis
bullosa, ``axi-cel`` → axicabtagene), and the words that carry nothing (``children``,
``treatment``), edited in the admin; this migration seeds them. A write to it moves the
catalogue's version (migration 0007), so cached pages follow an edit at once.

A misspelt word is now corrected by edit distance (``fuzzystrmatch``): the lexicon's nearest
words by trigram distance come from a GiST trigram index (``ORDER BY word <-> term``), then
those within one edit (two from 8 letters; a transposition is one) are kept
(``products.search.CORRECTIONS_SQL``).
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models

#: term → expansion (alternatives separated by commas); an empty expansion carries nothing.
SYNONYMS = {
    # CAR-T written every way, and the shorthand of the CAR-T products' INNs.
    "car t": "car-t",
    "car t cell": "car-t",
    "car t cells": "car-t",
    "cart": "car-t",
    "chimeric antigen receptor": "car-t, chimeric antigen receptor",
    "axi cel": "axicabtagene",
    "tisa cel": "tisagenlecleucel",
    "cilta cel": "ciltacabtagene",
    "ide cel": "idecabtagene",
    "liso cel": "lisocabtagene",
    "brexu cel": "brexucabtagene",
    "obe cel": "obecabtagene",
    "exa cel": "exagamglogene",
    "beti cel": "betibeglogene",
    "eli cel": "elivaldogene",
    "arsa cel": "atidarsagene",
    "tab cel": "tabelecleucel",
    # British and American spellings.
    "haemophilia": "haemophilia, hemophilia",
    "hemophilia": "haemophilia, hemophilia",
    "thalassaemia": "thalassaemia, thalassemia",
    "thalassemia": "thalassaemia, thalassemia",
    "anaemia": "anaemia, anemia",
    "anemia": "anaemia, anemia",
    "leukaemia": "leukaemia, leukemia",
    "leukemia": "leukaemia, leukemia",
    "haematopoietic": "haematopoietic, hematopoietic",
    "hematopoietic": "haematopoietic, hematopoietic",
    "haematological": "haematological, hematologic",
    "tumour": "tumour, tumor, neoplasms",
    "tumor": "tumour, tumor, neoplasms",
    # Abbreviations of conditions.
    "sma": "spinal muscular atrophy",
    "mld": "metachromatic leukodystrophy",
    "ald": "adrenoleukodystrophy",
    "cald": "cerebral adrenoleukodystrophy",
    "dmd": "duchenne",
    "lca": "leber congenital amaurosis",
    "rp": "retinitis pigmentosa",
    "scid": "severe combined immunodeficiency, scid",
    "dlbcl": "dlbcl, diffuse large b-cell",
    "ptld": "post-transplant lymphoproliferative",
    "ebv": "epstein-barr, ebv",
    "gvhd": "graft vs host",
    "graft versus host": "graft vs host",
    "aadc": "aadc, aromatic l-amino acid decarboxylase",
    # Lay terms.
    "butterfly skin": "epidermolysis bullosa",
    "bubble boy": "severe combined immunodeficiency, scid",
    "bubble boy disease": "severe combined immunodeficiency, scid",
    "eye": "eye, retinal, retina, retinitis, amaurosis, cornea, limbal, optic, ocular, vision",
    "eyes": "eye, retinal, retina, retinitis, amaurosis, cornea, limbal, optic, ocular, vision",
    "sight": "retinal, retina, retinitis, amaurosis, cornea, limbal, optic, vision",
    "blindness": "blindness, retinal, retinitis, amaurosis, vision loss, optic neuropathy, cornea",
    "blind": "blindness, retinal, retinitis, amaurosis, vision loss, optic neuropathy, cornea",
    "cancer": "cancer, carcinoma, neoplasms, tumour, tumor, malignan",
    "blood cancer": "lymphoma, leukaemia, myeloma, haematological malignancies",
    "skin": "skin, epidermolysis, melanoma",
    "knee": "knee, femoral condyle",
    "cord blood": "cord blood, cord-blood",
    # Words that carry nothing in a search of this catalogue.
    **dict.fromkeys(
        [
            "children", "child", "kids", "baby", "babies", "toddler", "adults",
            "treatment", "treatments", "treat", "treating", "cure", "cures", "cured",
            "drug", "drugs", "medicine", "medicines", "medication", "patients", "patient",
            "new", "latest", "approved", "available", "option", "options", "after",
        ],
        "",
    ),
}


def seed(apps, schema_editor):
    SearchSynonym = apps.get_model("products", "SearchSynonym")
    SearchSynonym.objects.bulk_create(
        SearchSynonym(term=term, expansion=expansion) for term, expansion in SYNONYMS.items()
    )


def unseed(apps, schema_editor):
    apps.get_model("products", "SearchSynonym").objects.filter(term__in=SYNONYMS).delete()


VERSION_TRIGGER = """
CREATE TRIGGER products_searchsynonym_catalogue_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON products_searchsynonym
FOR EACH STATEMENT EXECUTE FUNCTION products_catalogue_changed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0010_pendingimport"),
    ]

    operations = [
        CreateExtension("fuzzystrmatch"),
        migrations.AddIndex(
            model_name="searchword",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["word"], name="products_searchword_gist", opclasses=["gist_trgm_ops"]
            ),
        ),
        migrations.CreateModel(
            name="SearchSynonym",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "term",
                    models.CharField(
                        help_text=(
                            "Lowercase words as people type them, separated by spaces (hyphens "
                            "count as spaces): “sma”, “car t”, “butterfly skin”."
                        ),
                        max_length=100,
                        unique=True,
                    ),
                ),
                (
                    "expansion",
                    models.TextField(
                        blank=True,
                        help_text=(
                            "What to look for instead: alternatives separated by commas, each "
                            "found when all its words are (“spinal muscular atrophy, sma”). "
                            "Empty: a word that carries nothing, left out of a search that has "
                            "other words."
                        ),
                    ),
                ),
            ],
            options={
                "verbose_name": "search synonym",
                "ordering": ("term",),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("term__regex", "^[a-z0-9]+( [a-z0-9]+)*$")),
                        name="products_searchsynonym_term_format",
                        violation_error_message=(
                            "Use lowercase letters and digits, words separated by single spaces."
                        ),
                    )
                ],
            },
        ),
        migrations.RunSQL(
            VERSION_TRIGGER,
            reverse_sql=(
                "DROP TRIGGER IF EXISTS products_searchsynonym_catalogue_changed"
                " ON products_searchsynonym;"
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
