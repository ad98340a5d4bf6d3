"""Every read rule of the catalogue: what is public, what is listed, what is prefetched."""

from __future__ import annotations

from django.db import models
from django.db.models import Prefetch

from products.choices import HELD_AUTHORISATION


class ProductQuerySet(models.QuerySet):
    def published(self) -> ProductQuerySet:
        """Products the public may see."""
        return self.filter(is_published=True)

    def held_authorisation(self) -> ProductQuerySet:
        """Products that hold or have held an EU marketing authorisation (the default list)."""
        return self.filter(status__in=HELD_AUTHORISATION)

    def search(self, text: str) -> ProductQuerySet:
        """Typo- and accent-tolerant search (a first version: refined with full-text ranking)."""
        from django.db.models import Q

        if not (text := text.strip()):
            return self
        return self.filter(
            Q(name__unaccent__icontains=text)
            | Q(name__unaccent__trigram_word_similar=text)
            | Q(inn__unaccent__icontains=text)
            | Q(inn__unaccent__trigram_word_similar=text)
        ).distinct()

    def order_by_relevance(self) -> ProductQuerySet:
        return self.order_by("name", "slug")

    def with_related(self) -> ProductQuerySet:
        """Everything a list, a detail page, the CSV or the API shows, in a fixed number of queries."""
        from products.models import AuthorisationEvent, Indication

        return self.select_related("category", "holder").prefetch_related(
            "mechanisms",
            Prefetch(
                "indications",
                queryset=Indication.objects.prefetch_related("therapeutic_areas"),
            ),
            Prefetch("events", queryset=AuthorisationEvent.objects.all()),
        )
