"""The kinds of field the catalogue's models repeat, each declared once."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


def nullable_boolean(verbose_name: str, help_text: str = "") -> models.BooleanField:
    """A yes or no that may be unknown (null, shown as "not known"), such as the five
    authorisation flags (products/flags.py), now or at authorisation."""
    return models.BooleanField(verbose_name, null=True, blank=True, help_text=help_text)


def nullable_choice(choices: type[models.TextChoices], help_text: str) -> models.CharField:
    """One of ``choices``, or null where not known, which differs from a value such as "none"
    (no cells): hence null on a CharField."""
    return models.CharField(  # noqa: DJ001
        max_length=20, choices=choices.choices, null=True, blank=True, help_text=help_text
    )


def source_list(help_text: str) -> ArrayField:
    """Where facts were found: URLs or named documents, EMA first."""
    return ArrayField(models.TextField(), blank=True, default=list, help_text=help_text)


def vocabulary_term(vocabulary: type[models.Model], help_text: str) -> models.ForeignKey:
    """A product's term of ``vocabulary`` (category, holder): empty where not known; a term
    in use cannot be deleted."""
    return models.ForeignKey(
        vocabulary,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        help_text=help_text,
    )


def vocabulary_terms(
    vocabulary: type[models.Model], help_text: str, *, related_name: str = "products"
) -> models.ManyToManyField:
    """Any number of terms of ``vocabulary`` (a product's mechanisms, an indication's
    therapeutic areas): none where not known."""
    return models.ManyToManyField(
        vocabulary, blank=True, related_name=related_name, help_text=help_text
    )
