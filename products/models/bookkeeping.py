"""The catalogue's own bookkeeping: its version (the key of every cache) and its imports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils.translation import gettext_lazy as _

from products.querysets import PendingImportQuerySet


class CatalogueVersion(models.Model):
    """One row that changes whenever anything public may have changed: the key of every cache.

    Statement triggers on the catalogue's tables (migration 0007) bump ``version`` and set
    ``changed_at`` *before* each write, in the writer's transaction: readers see the new version
    exactly when they see the new data, so a cached page or API response keyed by it is never
    stale and nothing needs invalidating. Taking this row's lock first also orders concurrent
    writers, so they cannot deadlock on the rows they then touch. See ``products/caching.py``.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=1)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="%(app_label)s_%(class)s_one_row")
        ]

    def __str__(self) -> str:
        return f"version {self.version} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class CatalogueSummaryQuerySet(models.QuerySet):
    """The home page's whole-catalogue counts, read from the summary's few rows."""

    def count_by_status(self) -> dict[str, int]:
        """Published products per status."""
        rows = self.values_list("status").annotate(count=Sum("products")).order_by()
        return {status: count for status, count in rows if count}

    def authorisations_per_year(self) -> list[dict]:
        """``ProductQuerySet.authorisations_per_year()`` of the published products that held an
        authorisation: rows of ``year``, ``category_slug`` and ``count``, in that order."""
        from products.choices import HELD_AUTHORISATION

        return list(
            self.filter(status__in=HELD_AUTHORISATION)
            .values("year", category_slug=F("category__slug"))
            .annotate(count=Sum("products"))
            .filter(count__gt=0)
            .order_by("year", "category_slug")
        )

    def verified_facts(self, facts_per_product: int) -> tuple[int, int]:
        """(facts verified, products) as ``products.quality.verified_share`` counts them."""
        facts = Value(facts_per_product)
        verified = Case(
            When(is_unverified=True, then=Value(0)),
            default=F("products") * (facts - Least(F("doubts"), facts)),
            output_field=models.BigIntegerField(),
        )
        totals = self.aggregate(
            verified=Coalesce(Sum(verified), 0), products=Coalesce(Sum("products"), 0)
        )
        return totals["verified"], totals["products"]


class CatalogueSummary(models.Model):
    """The published products counted by status, category, year of first authorisation and
    verification: the home page's three whole-catalogue counts (products per status,
    authorisations per year and category, the share of facts verified) from a few hundred rows
    at most, however many products there are.

    Kept by statement triggers on ``products_product`` (migration 0015) in the writer's
    transaction: each insert, update or delete adds the new rows' counts and takes away the old
    ones' (transition tables, one statement each); a ``TRUNCATE`` empties it. Never written by
    Django. ``year`` is ``ProductQuerySet.authorisations_per_year``'s (``authorisation_year()``),
    ``doubts`` the number of ``unverified_fields``, ``is_unverified`` a verification of
    "unverified".
    """

    status = models.CharField(max_length=40)
    category = models.ForeignKey(
        "products.Category",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # products hold the category; this only counts them
        related_name="+",
    )
    year = models.IntegerField(null=True)
    doubts = models.PositiveIntegerField()
    is_unverified = models.BooleanField()
    products = models.IntegerField()

    objects = CatalogueSummaryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status", "category", "year", "doubts", "is_unverified"],
                nulls_distinct=False,
                name="%(app_label)s_%(class)s_one_row_per_group",
                violation_error_message=_("One row per group of products."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.products} × {self.status}, {self.year}"


class ImportRun(models.Model):
    """One run of ``import_ema``: which file, what it changed, who ran it."""

    file_name = models.CharField(max_length=300)
    generated_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the EMA generated the export.")
    )
    started_at = models.DateTimeField(auto_now_add=True)
    run_by = models.CharField(max_length=150, blank=True, help_text=_("User or system account."))
    dry_run = models.BooleanField(default=False)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField("flagged for review", default=0)
    diff = models.TextField(blank=True, help_text=_("What the run changed, field by field."))

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class PendingImport(models.Model):
    """An export uploaded in the admin, kept between its preview and its confirmation.

    In the database, so that whichever web instance answers the confirmation can read it. Only
    the uploader may confirm or cancel it; it is removed then, on a failed import, and a day
    after upload at the latest (``PendingImport.objects.expired()``, removed on each use of the
    import form and by ``manage.py clear_pending_imports``).
    """

    token = models.CharField(
        max_length=64, unique=True, help_text=_("Random; the preview's form carries it.")
    )
    file_name = models.CharField(max_length=300, help_text=_("The uploaded file's name."))
    data = models.BinaryField(help_text=_("The uploaded file, as it came."))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The only user who may confirm or cancel it."),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, help_text=_("Removed a day later if not confirmed.")
    )

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"
