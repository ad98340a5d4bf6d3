"""The catalogue's own bookkeeping: its version (the key of every cache) and its imports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
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
