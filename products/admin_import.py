"""The EMA import in the admin: the record of runs, and the import as a form.

``products/admin.py`` registers :class:`ImportRunAdmin` for ``ImportRun``. The runs are a
read-only record. "Import an EMA export" uploads a workbook (or its JSON form), shows the diff of
a dry run, and on confirmation runs the real import, recorded as an ``ImportRun`` with the user's
name.

Between preview and confirmation the upload waits in the database (:class:`PendingImport`), so
that any web instance can answer the confirmation, under a random token that only its uploader
may use. Confirming, cancelling or a failed import removes it; so does the first use of the form
a day later (and ``manage.py clear_pending_imports``). The upload is bounded by the
``IMPORT_MAX_*`` settings (``products/importers/limits.py``) before it is stored.
"""

from __future__ import annotations

import io
import secrets

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from products.importers import limits
from products.importers.ema import ExportFormatError, ImportReport, import_file
from products.locks import CatalogueBusy
from products.models import ImportRun, PendingImport

#: What importing changes: the user needs all of these to run the import from the admin.
IMPORT_PERMISSIONS = ("products.add_importrun", "products.add_product", "products.change_product")


class ExportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("EMA medicines export"),
        help_text=_(
            "The workbook from “Download medicine data” on ema.europa.eu "
            "(medicines-output-medicines-report_en.xlsx), or its JSON form."
        ),
    )

    def clean_file(self):
        """Over ``IMPORT_MAX_UPLOAD_BYTES``: the importer's own one line, before it is read."""
        upload = self.cleaned_data["file"]
        try:
            limits.check_upload_size(upload.size, limits.ImportLimits.from_settings())
        except ExportFormatError as exc:
            raise ValidationError(str(exc)) from None
        return upload


class ImportRunAdmin(admin.ModelAdmin):
    """Every run of the import, newest first; nothing here can be edited or deleted."""

    list_display = (
        "started_at",
        "file_name",
        "generated_at",
        "run_by",
        "created",
        "updated",
        "unchanged",
        "flagged",
    )
    search_fields = ("file_name", "run_by", "diff")
    date_hierarchy = "started_at"
    fields = (
        "file_name",
        "generated_at",
        "started_at",
        "run_by",
        "dry_run",
        "created",
        "updated",
        "unchanged",
        "flagged",
        "diff_display",
    )
    readonly_fields = fields
    change_list_template = "products/admin/importrun_change_list.html"

    class Media:
        css = {"all": ("products/admin/ema_import.css",)}

    @admin.display(description=_("diff"))
    def diff_display(self, obj: ImportRun) -> str:
        return format_html('<pre class="ema-import-diff">{}</pre>', obj.diff or _("no changes"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are written by the import itself

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @staticmethod
    def may_import(request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perms(IMPORT_PERMISSIONS)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import": self.may_import(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        upload = path(
            "import/",
            self.admin_site.admin_view(self.import_view),
            name="products_importrun_import",
        )
        return [upload, *super().get_urls()]

    # The import as a form ---------------------------------------------------------------------
    def import_view(self, request: HttpRequest) -> HttpResponse:
        """GET: the upload form. POST: preview (dry run), confirm (real run) or cancel."""
        if not self.may_import(request):
            raise PermissionDenied
        PendingImport.objects.expired().delete()
        action = request.POST.get("action", "")
        if request.method == "POST" and action in ("confirm", "cancel"):
            return self.confirm(request, action)
        form = ExportUploadForm(request.POST or None, request.FILES or None)
        context = {"form": form}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            report, error = self.run(request, data, upload.name, dry_run=True)
            if error:
                form.add_error("file", error)  # nothing is kept
            else:
                pending = PendingImport.objects.create(
                    token=secrets.token_urlsafe(32),
                    file_name=upload.name,
                    data=data,
                    uploaded_by=request.user,
                )
                context.update(report=report, token=pending.token)
        return self.render_import(request, context)

    def confirm(self, request: HttpRequest, action: str) -> HttpResponse:
        """Take the upload (one request only, on any instance), then import it or drop it."""
        with transaction.atomic():  # two clicks, two instances: the second finds nothing
            pending = (
                PendingImport.objects.select_for_update()
                .filter(token=request.POST.get("token", ""), uploaded_by=request.user)
                .first()
            )
            if pending is not None:
                pending.delete()
        if pending is None:
            messages.error(request, _("That upload has expired; please upload the file again."))
            return HttpResponseRedirect(reverse("admin:products_importrun_import"))
        name = pending.file_name
        if action == "cancel":
            messages.info(request, _("Import cancelled; nothing was changed."))
            return HttpResponseRedirect(reverse("admin:products_importrun_changelist"))
        report, error = self.run(request, bytes(pending.data), name, dry_run=False)
        if error:
            messages.error(request, f"{name}: {error}")
            return HttpResponseRedirect(reverse("admin:products_importrun_import"))
        messages.success(request, f"Imported {name}: {report.summary}")
        return HttpResponseRedirect(
            reverse("admin:products_importrun_change", args=[report.run.pk])
        )

    @staticmethod
    def run(
        request: HttpRequest, data: bytes, name: str, *, dry_run: bool
    ) -> tuple[ImportReport | None, str | None]:
        """Run the import on the upload's bytes: (report, None), or (None, the one-line error)."""
        try:
            report = import_file(
                io.BytesIO(data),
                file_name=name,
                dry_run=dry_run,
                run_by=request.user.get_username(),
            )
        except (ExportFormatError, CatalogueBusy) as exc:
            return None, str(exc)
        except ValidationError as exc:
            return None, "; ".join(exc.messages)
        except OSError as exc:
            return None, exc.strerror or str(exc)
        return report, None

    def render_import(self, request: HttpRequest, context: dict) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import an EMA medicines export"),
            "media": self.media,
            **context,
        }
        return TemplateResponse(request, "products/admin/import_ema.html", context)
