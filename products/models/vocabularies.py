"""The vocabularies a product is described with: categories, mechanisms, areas and companies.

Each term, like each product, is named in URLs by a slug whose form the database keeps
(``Slugged``).
"""

from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from products.models.checks import ChecksInOneQuery

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MESSAGE = _("Use lowercase letters, digits and hyphens.")
slug_validator = RegexValidator(SLUG_PATTERN, SLUG_MESSAGE)


def slugify_name(name: str) -> str:
    """The catalogue's slug for a name: lowercase ASCII words joined by hyphens."""
    return re.sub(r"-+", "-", slugify(name)).strip("-")


class Slugged(ChecksInOneQuery, models.Model):
    """A row named in URLs by its ``slug`` (each model declares the field, with
    ``slug_validator``): the database refuses any other form. A subclass's ``Meta`` extends
    ``Slugged.Meta`` and adds its own constraints to ``Slugged.Meta.constraints``."""

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="%(app_label)s_%(class)s_slug_format",
                violation_error_message=SLUG_MESSAGE,
            ),
        ]


class NamedVocabulary(Slugged):
    """A term with a stable slug, listed by name."""

    slug = models.SlugField(
        max_length=120, unique=True, validators=[slug_validator], help_text=_("Stable URL name.")
    )
    name = models.CharField(max_length=200, unique=True, help_text=_("Name as displayed."))

    class Meta(Slugged.Meta):
        abstract = True
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Category(NamedVocabulary):
    """One of the four legal classes of ATMP (Regulation (EC) No 1394/2007)."""

    abbreviation = models.CharField(max_length=10, unique=True, help_text=_("GTMP, sCTMP, …"))
    definition = models.TextField(help_text=_("What the law means by this class, in plain words."))
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Order in listings."))

    class Meta(NamedVocabulary.Meta):
        ordering = ("position", "name")
        verbose_name_plural = _("categories")

    def get_absolute_url(self) -> str:
        return reverse("products:category_detail", kwargs={"slug": self.slug})


class MechanismOfAction(NamedVocabulary):
    """A reusable description of how a product works (e.g. CD19-directed CAR-T cells)."""

    description = models.TextField(help_text=_("How products of this kind work, in plain words."))

    class Meta(NamedVocabulary.Meta):
        verbose_name = _("mechanism of action")
        verbose_name_plural = _("mechanisms of action")


class TherapeuticArea(NamedVocabulary):
    """A therapeutic area: the EMA's MeSH heading ("Muscular Atrophy, Spinal") as ``name``, and
    the name people use ("Spinal muscular atrophy (SMA)") as ``plain_name``, shown first."""

    plain_name = models.CharField(
        max_length=200,
        blank=True,
        help_text=_(
            "The name patients and doctors use (“Spinal muscular atrophy (SMA)”, “Haemophilia "
            "B”), British spelling. Empty: the MeSH heading is shown."
        ),
    )

    def get_absolute_url(self) -> str:
        return reverse("products:therapeutic_area_detail", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        """The plain name, or the MeSH heading when there is none."""
        return self.plain_name or self.name


class Company(NamedVocabulary):
    """A marketing authorisation holder or applicant."""

    class Meta(NamedVocabulary.Meta):
        verbose_name_plural = _("companies")
