"""What search reads besides the products' own vectors: the lexicon and the synonyms."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from products.search import search_terms


class SearchWord(models.Model):
    """A word of the products' search vectors, for finding misspelt words (pg_trgm's lexicon).

    A search expands a misspelt word into the lexicon's words like it and finds those in the
    vectors' full-text index (``ProductQuerySet.search``): the trigram index of a few hundred
    thousand short words answers in a millisecond, where one over whole documents rechecked
    thousands. Kept by a trigger of migration 0006: the words of a product's vector are added
    whenever it changes and never removed (a stale word only adds a word no document has to a
    search). Words with a digit are left out: codes and numbers are never matched fuzzily.
    """

    word = models.TextField(
        primary_key=True, help_text=_("Unaccented lowercase lexeme of a search vector.")
    )

    class Meta:
        ordering = ("word",)
        indexes = [
            # New words are few and go straight into the index: no pending list for searches
            # to read through until the next vacuum.
            GinIndex(
                fields=["word"],
                opclasses=["gin_trgm_ops"],
                fastupdate=False,
                name="products_searchword_trgm",
            ),
            # The nearest words of a misspelt one, in order of trigram distance (``<->``).
            GistIndex(
                fields=["word"], opclasses=["gist_trgm_ops"], name="products_searchword_gist"
            ),
        ]

    def __str__(self) -> str:
        return self.word


class SearchSynonym(models.Model):
    """A word or phrase people search with, and what it stands for in the catalogue's words.

    Lay terms, other spellings and abbreviations (``sma``, ``butterfly skin``, ``axi-cel``,
    ``hemophilia``) are data, edited in the admin: a search that contains ``term`` (as whole
    words, hyphens and spaces alike: ``car t`` is also ``CAR-T``) looks for any of the
    ``expansion``'s alternatives instead. An empty expansion marks a word that carries nothing
    (``children``, ``treatment``): it is left out of a search that has other words.
    """

    term = models.CharField(
        max_length=100,
        unique=True,
        help_text=_(
            "Lowercase words as people type them, separated by spaces (hyphens count as spaces): "
            "“sma”, “car t”, “butterfly skin”."
        ),
    )
    expansion = models.TextField(
        blank=True,
        help_text=_(
            "What to look for instead: alternatives separated by commas, each found when all its "
            "words are (“spinal muscular atrophy, sma”). Empty: a word that carries nothing, "
            "left out of a search that has other words."
        ),
    )

    class Meta:
        ordering = ("term",)
        verbose_name = _("search synonym")
        constraints = [
            models.CheckConstraint(
                condition=Q(term__regex=r"^[a-z0-9]+( [a-z0-9]+)*$"),
                name="%(app_label)s_%(class)s_term_format",
                violation_error_message=_(
                    "Use lowercase letters and digits, words separated by single spaces."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion or _('(ignored)')}"

    @property
    def alternatives(self) -> list[list[str]]:
        """The expansion's alternatives, each as its search terms."""
        found = [search_terms(part, keep_stop_words=True) for part in self.expansion.split(",")]
        return [terms for terms in found if terms]
