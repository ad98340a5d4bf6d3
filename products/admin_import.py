"""The EMA import in the admin: the record of runs, and the import as a form.

``products/admin.py`` registers :class:`ImportRunAdmin` for ``ImportRun``. The runs are a
read-only record. "Import an EMA export" uploads a workbook (or its JSON form), shows the diff of
a dry run, and on confirmation runs the real import, recorded as an ``ImportRun`` with the user's
name.

The preview is a table per product (field, old value, new value), each with a checkbox; the
confirmation imports only the products still ticked (:class:`ProductChoiceForm`), the others are
left exactly as they are and the message names them. A confirmation that carries no choice (no
``offered`` field: a script) imports every product, as before.

Between preview and confirmation the upload waits in the database (:class:`PendingImport`), so
that any web instance can answer the confirmation, under a random token that only its uploader
may use. Confirming, cancelling or a failed import removes it; so does the first use of the form
a day later (and ``manage.py clear_pending_imports``). The upload is bounded by the
``IMPORT_MAX_*`` settings (``products/importers/limits.py``) before it is stored.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

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
from products.importers.ema import (
    ExportFormatError,
    ImportReport,
    ProductDiff,
    considered_numbers,
    import_export,
    import_file,
    read_export,
)
from products.importers.ema.report import CREATED
from products.locks import CatalogueBusy
from products.models import ImportRun, PendingImport, Product

T = TypeVar("T")

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


class ProductChoiceForm(forms.Form):
    """The products a curator imports: ``offered`` (hidden) are those the preview showed with a
    checkbox, ``products`` those still ticked. Both name products by EMA product number and must
    be among those the export would import now."""

    offered = forms.MultipleChoiceField(widget=forms.MultipleHiddenInput)
    products = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label=_("Import these products")
    )

    def __init__(self, *args, numbers: Collection[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(number, number) for number in sorted(numbers)]
        self.fields["offered"].choices = self.fields["products"].choices = choices

    def clean(self):
        cleaned = super().clean()
        offered, chosen = cleaned.get("offered"), cleaned.get("products")
        if offered is None or chosen is None:
            return cleaned  # a field's own error says why
        if extra := sorted(set(chosen) - set(offered)):
            self.add_error(
                "products",
                _("Not offered by this preview: %(numbers)s.") % {"numbers": ", ".join(extra)},
            )
        elif not chosen:
            self.add_error(
                "products", _("Tick at least one product to import, or cancel the import.")
            )
        return cleaned


@dataclass(frozen=True)
class ChangeRow:
    """One row of a product's table in the preview."""

    field: str
    old: str  # "" where there was nothing: a new product, an added event
    new: str
    is_long: bool


@dataclass(frozen=True)
class PreviewItem:
    """One product of the preview: its diff, its table, its admin page and its checkbox."""

    diff: ProductDiff
    rows: list[ChangeRow]
    admin_url: str
    checked: bool

    @property
    def is_new(self) -> bool:
        return self.diff.action == CREATED


#: How the preview names a field the diff holds by its model name.
FIELD_LABELS = {"event": _("timeline event")}
LONG_VALUE = 200  # characters: a cell that long scrolls within a bounded height


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        return str(Product._meta.get_field(name).verbose_name)
    except LookupError:
        return name.replace("_", " ")


def preview_item(diff: ProductDiff, chosen: set[str] | None) -> PreviewItem:
    """``chosen``: the numbers the curator ticked (None: a first preview, every box ticked)."""
    rows = []
    for change in diff.changes:
        old = "" if diff.action == CREATED else change.old_text
        new = change.new_text
        long = max(len(old), len(new)) > LONG_VALUE
        rows.append(ChangeRow(field_label(change.field), old, new, long))
    admin_url = ""
    if diff.product_id:
        admin_url = reverse("admin:products_product_change", args=[diff.product_id])
    checked = chosen is None or diff.product_number in chosen
    return PreviewItem(diff, rows, admin_url, checked)


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
        import_view = self.admin_site.admin_view(self.import_view)
        return [path("import/", import_view, name="products_importrun_import"), *super().get_urls()]

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
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            report, error = attempt(
                import_file, io.BytesIO(data), file_name=upload.name, dry_run=True
            )
            if error:
                form.add_error("file", error)  # nothing is kept
            else:
                pending = PendingImport.objects.create(
                    token=secrets.token_urlsafe(32),
                    file_name=upload.name,
                    data=data,
                    uploaded_by=request.user,
                )
                return self.render_preview(request, report, pending.token)
        return self.render_import(request, {"form": form})

    def confirm(self, request: HttpRequest, action: str) -> HttpResponse:
        """Check the curator's choice, take the upload (one request only, on any instance), then
        import the products chosen, or drop it."""
        token = request.POST.get("token", "")
        pending = PendingImport.objects.filter(token=token, uploaded_by=request.user).first()
        if pending is None or action == "cancel":
            return self.take_then(request, token, action)
        name = pending.file_name
        export, error = attempt(read_export, io.BytesIO(bytes(pending.data)), file_name=name)
        if error:
            return self.take_then(request, token, "drop", error=f"{name}: {error}")
        choice = None
        if "offered" in request.POST:  # the preview's form; a bare confirmation imports all
            choice = ProductChoiceForm(request.POST, numbers=considered_numbers(export))
            if not choice.is_valid():
                report, error = attempt(import_export, export, dry_run=True)
                if error:
                    return self.take_then(request, token, "drop", error=f"{name}: {error}")
                return self.render_preview(request, report, token, choice)
        return self.take_then(request, token, action, export=export, choice=choice)

    def take_then(self, request, token: str, action: str, **outcome) -> HttpResponse:
        """Take the upload (two clicks, two instances: the second finds nothing), then act."""
        with transaction.atomic():
            pending = (
                PendingImport.objects.select_for_update()
                .filter(token=token, uploaded_by=request.user)
                .first()
            )
            if pending is not None:
                pending.delete()
        if pending is None:
            messages.error(request, _("That upload has expired; please upload the file again."))
            return HttpResponseRedirect(reverse("admin:products_importrun_import"))
        if action == "cancel":
            messages.info(request, _("Import cancelled; nothing was changed."))
            return HttpResponseRedirect(reverse("admin:products_importrun_changelist"))
        if action == "drop":
            messages.error(request, outcome["error"])
            return HttpResponseRedirect(reverse("admin:products_importrun_import"))
        choice = outcome["choice"]
        report, error = attempt(
            import_export,
            outcome["export"],
            run_by=request.user.get_username(),
            only=choice.cleaned_data["products"] if choice else None,
        )
        if error:
            messages.error(request, f"{pending.file_name}: {error}")
            return HttpResponseRedirect(reverse("admin:products_importrun_import"))
        messages.success(request, result_message(pending.file_name, report))
        return HttpResponseRedirect(
            reverse("admin:products_importrun_change", args=[report.run.pk])
        )

    def render_preview(
        self,
        request: HttpRequest,
        report: ImportReport,
        token: str,
        choice: ProductChoiceForm | None = None,
    ) -> TemplateResponse:
        """One table per product the import would change or flags; the rest in one line."""
        chosen = set(choice.data.getlist("products")) if choice else None
        items = [preview_item(diff, chosen) for diff in report.news]
        return self.render_import(
            request,
            {
                "report": report,
                "token": token,
                "items": items,
                "offered": [item.diff.product_number for item in items if item.diff.writes],
                "choice_errors": choice.errors if choice else {},
            },
        )

    def render_import(self, request: HttpRequest, context: dict) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import an EMA medicines export"),
            "media": self.media,
            **context,
        }
        return TemplateResponse(request, "products/admin/import_ema.html", context)


def attempt(call: Callable[..., T], *args, **kwargs) -> tuple[T | None, str | None]:
    """Read or import: (result, None), or (None, the one-line error)."""
    try:
        return call(*args, **kwargs), None
    except (ExportFormatError, CatalogueBusy) as exc:
        return None, str(exc)
    except ValidationError as exc:
        return None, "; ".join(exc.messages)
    except OSError as exc:
        return None, exc.strerror or str(exc)


def result_message(name: str, report: ImportReport) -> str:
    """``Imported x.xlsx: created 1, …`` and, if any, the products left out by name."""
    message = f"Imported {name}: {report.summary}"
    if report.left_out:
        names = ", ".join(f"{diff.name} ({diff.product_number})" for diff in report.left_out)
        message += f"; left out, unchanged: {names}"
    return message
