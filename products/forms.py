"""Forms of the curation admin: the model's rules shown as form errors, never a database error.

Single-row rules (dates in order, an ended status with its date, a unique product number) come
from the model's ``full_clean()``, which every ``ModelForm`` runs. The rule that spans rows (the
status agrees with the latest event of the timeline) is checked where the edited rows are known:
the events inline on the product page, the stand-alone event page, and the product revert page.

Two editors (or an editor and the EMA import) never overwrite each other unawares: the product
page carries the product's revision as it was opened, and a save of a product saved by someone
else since is refused with what they changed (``ProductAdminForm.check_revision``).
"""

from __future__ import annotations

import dataclasses

from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from products.flags import AT_AUTHORISATION_FIELDS, NOW_FIELDS
from products.history import Revision, changes_since, product_revision
from products.models import AuthorisationEvent, Product

#: Array fields are edited one item per line: sources and names may contain commas.
LINES_WIDGET = forms.Textarea(attrs={"rows": 3, "cols": 80})


class LinesArrayField(SimpleArrayField):
    """An array of strings edited one item per line; blank lines and ``\\r`` are ignored."""

    def __init__(self, base_field, *, delimiter="\n", **kwargs):
        super().__init__(base_field, delimiter=delimiter, **kwargs)
        self.help_text = " ".join(filter(None, [str(self.help_text), str(_("One per line."))]))

    def to_python(self, value):
        if isinstance(value, str):
            value = "\n".join(line.strip() for line in value.splitlines() if line.strip())
        return super().to_python(value)


#: A URL typed without a scheme gets https:// (Django 6's default). One rule: the admin's
#: ``formfield_overrides``, and ``https_formfield`` for the form classes themselves.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


def https_formfield(db_field: models.Field, **kwargs) -> forms.Field | None:
    """Form fields as the model defines them, with ``HTTPS_URLS``.

    The admin builds its forms with its own callback (``formfield_overrides``); this one builds
    the form classes themselves, which Django 5.2 would otherwise warn about.
    """
    return db_field.formfield(**{**HTTPS_URLS.get(type(db_field), {}), **kwargs})


def _timeline_error(exc: ValidationError) -> ValidationError:
    """The timeline check's error as one non-field message (its field is on another form)."""
    return ValidationError(
        [_("The timeline and the status disagree: %(reason)s") % {"reason": " ".join(exc.messages)}]
    )


class RefusedSaveForm:
    """Put before an admin form whose save was refused before it began (see products/admin.py):
    the refusal is the form's only check, so nothing is saved and the editor's input stays."""

    refusal = ""

    def clean(self):
        raise ValidationError(self.refusal)


class ProductAdminForm(forms.ModelForm):
    """The product page's form. The timeline rule is checked by the events inline formset."""

    #: Set on the revert page, which has no events inline: the saved timeline is checked instead.
    check_saved_timeline = False

    #: The revert page shows an old version: its revision is the saved row's when it was opened.
    revision_of_saved_row = False

    #: The product as the page showed it (``products.history.Revision``), checked on saving.
    revision = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Product
        fields = (
            "name",
            "slug",
            "aliases",
            "inn",
            "ema_product_number",
            "is_published",
            "category",
            "mechanisms",
            *Product.MODALITY_FIELDS,
            "atc_code",
            "description",
            "is_atmp",
            "atmp_reason",
            "ema_advanced_therapy",
            "holder",
            *Product.STATUS_FIELDS,
            *NOW_FIELDS,
            *AT_AUTHORISATION_FIELDS,
            "epar_url",
            *Product.CURATION_FIELDS,
        )
        formfield_callback = https_formfield
        labels = {"atmp_reason": _("ATMP reason")}
        field_classes = {
            "aliases": LinesArrayField,
            "unverified_fields": LinesArrayField,
            "sources": LinesArrayField,
        }
        widgets = {
            "aliases": LINES_WIDGET,
            "unverified_fields": LINES_WIDGET,
            "sources": forms.Textarea(attrs={"rows": 5, "cols": 80}),
            "inn": forms.TextInput(attrs={"size": 60}),
            "name": forms.TextInput(attrs={"size": 40}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk is not None:
            revision = product_revision(self.instance.pk)
            if revision is not None and not self.revision_of_saved_row:
                # The page shows the instance as read before: a save since is not on it.
                revision = dataclasses.replace(revision, updated_at=self.instance.updated_at)
            self.initial["revision"] = str(revision or "")

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None:
            self.check_revision()
        return cleaned_data

    def check_revision(self) -> None:
        """Refuse the save if the product was saved by another since the page was opened.

        Runs in the save's transaction under the product's row lock, so no other save can come
        between this check and this save (a save in flight is waited for, at most
        ``CATALOGUE_LOCK_TIMEOUT`` seconds).
        """
        try:
            opened = Revision.parse(self.data.get(self.add_prefix("revision"), ""))
        except ValueError:
            raise ValidationError(
                _(
                    "This page does not say which version of the product it shows; nothing was "
                    "saved. Reload the page and make your changes again."
                )
            ) from None
        now = product_revision(self.instance.pk, lock=True)
        if now is None:
            raise ValidationError(_("This product was deleted meanwhile; nothing was saved."))
        if now == opened:
            return
        writers, changes = changes_since(self.instance.pk, opened)
        by = ", ".join(writers) or _("another writer")
        raise ValidationError(
            [
                _(
                    "This product was changed by %(by)s since you opened this page; nothing was "
                    "saved. What changed:"
                )
                % {"by": by},
                *(changes or [_("(no record of the change)")]),
                _(
                    "Reload the page to edit the product as it is now: your input stays on this "
                    "page until you do."
                ),
            ]
        )

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.check_saved_timeline and self.instance.pk and not self.errors:
            try:
                self.instance.check_timeline(list(self.instance.events.all()))
            except ValidationError as exc:
                self.add_error(None, _timeline_error(exc))


class ProductRevertForm(ProductAdminForm):
    check_saved_timeline = True
    revision_of_saved_row = True


class AuthorisationEventInlineFormSet(forms.BaseInlineFormSet):
    """The events inline: the edited timeline must agree with the (edited) product's status."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # the rows' own errors come first
        events = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue  # an untouched empty extra row
            if self.can_delete and self._should_delete_form(form):
                continue
            events.append(form.instance)
        try:
            self.instance.check_timeline(events)
        except ValidationError as exc:
            raise _timeline_error(exc) from None


class IndicationInlineFormSet(forms.BaseInlineFormSet):
    """The indications inline: their orphan designations must agree with the product's."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        indications = [
            form.instance
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not (self.can_delete and self._should_delete_form(form))
        ]
        try:
            self.instance.check_orphan_facts(indications)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if self.instance.is_published and not indications:
            raise ValidationError(
                _(
                    "A published entry needs at least one indication: add one, or untick "
                    "Published to keep it as a draft."
                )
            )


class AuthorisationEventAdminForm(forms.ModelForm):
    """One event edited on its own page: the product's timeline with this row replaced."""

    class Meta:
        model = AuthorisationEvent
        fields = ("product", *AuthorisationEvent.FACT_FIELDS)
        field_classes = {"sources": LinesArrayField}
        widgets = {"sources": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def _post_clean(self) -> None:
        super()._post_clean()
        event = self.instance
        if self.errors or event.product_id is None:
            return
        others = event.product.events.exclude(pk=event.pk) if event.pk else event.product.events
        try:
            event.product.check_timeline([*others.all(), event])
        except ValidationError as exc:
            self.add_error(None, _timeline_error(exc))
