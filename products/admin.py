"""The curation admin: where editors keep the catalogue true.

Products are edited on one page with their indications and authorisation events inline; every
change is recorded by django-simple-history (who, when, what) and can be reverted. Unpublished
products are drafts: invisible to the public, visible here, with a preview of their public page.
Roles (groups ``curators`` and ``reviewers``) come from ``manage.py create_roles``.

Every save, deletion and action here holds the catalogue for editing (``CatalogueWriteAdmin``,
products/locks.py): refused at once while an import runs, never waiting long for another save,
and answered with a form error or a message, never a 500. The product page also refuses to
overwrite a product saved by someone else since it was opened (``ProductAdminForm``).
"""

from __future__ import annotations

import functools

from csp.decorators import csp_update
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, models, router, transaction
from django.forms import Textarea
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from products.admin_import import ImportRunAdmin
from products.csp import HISTORY_TEMPLATES, style_attribute_sources
from products.flags import AT_AUTHORISATION_FIELDS, NOW_FIELDS
from products.forms import (
    HTTPS_URLS,
    AuthorisationEventAdminForm,
    AuthorisationEventInlineFormSet,
    IndicationInlineFormSet,
    ProductAdminForm,
    ProductRevertForm,
    RefusedSaveForm,
)
from products.history import attach_related_changes, public_change_log
from products.locks import CatalogueBusy, hold_for_edit, lock_conflict
from products.models import (
    AuthorisationEvent,
    Category,
    Company,
    ImportRun,
    Indication,
    MechanismOfAction,
    Product,
    SearchSynonym,
    TherapeuticArea,
)
from products.models.timeline import TIMELINE_ORDER  # events in time: products/partial_dates.py

admin.site.site_header = _("ATMP Catalogue curation")
admin.site.site_title = _("ATMP Catalogue curation")
admin.site.index_title = _("Catalogue")
admin.site.register(ImportRun, ImportRunAdmin)  # the runs, and the import as a form

SHORT_TEXT = {models.TextField: {"widget": Textarea(attrs={"rows": 2, "cols": 48})}}


# Two writers at once ---------------------------------------------------------------------------


class CatalogueWriteAdmin(admin.ModelAdmin):
    """A catalogue admin whose writes (POST: save, delete, action, revert) hold the catalogue.

    Each runs in one transaction that first takes the shared catalogue-write lock
    (``locks.hold_for_edit``): during an import it is refused at once; otherwise no lock is waited
    for longer than ``CATALOGUE_LOCK_TIMEOUT``. A refused form comes back with the refusal as its
    error and the editor's input in place; a refused deletion or action, as a message. A unique
    row written by another save between the form's check and this save is refused likewise.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        view = super().changeform_view
        return self.holding(request, view, object_id, form_url, extra_context, is_form=True)

    def delete_view(self, request, object_id, extra_context=None):
        return self.holding(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self.holding(request, super().changelist_view, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "catalogue_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (RefusedSaveForm, form), {"refusal": refusal})

    def holding(self, request, view, *args, is_form: bool = False):
        if request.method != "POST":
            return view(request, *args)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                hold_for_edit()
                return view(request, *args)
        except CatalogueBusy as exc:
            refusal = str(exc)
        except OperationalError as exc:
            if (conflict := lock_conflict(exc)) is None:
                raise
            refusal = f"{conflict[0].upper()}{conflict[1:]}; nothing was saved; save again."
        except IntegrityError:  # a unique row another save wrote after this form was checked
            refusal = _("Another save wrote the same record meanwhile; nothing was saved.")
        if is_form:  # the page again, its form refused before anything is written
            request.catalogue_refusal = refusal
            return view(request, *args)
        self.message_user(request, refusal, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


# Vocabularies ----------------------------------------------------------------------------------


class ProductCountMixin:
    """A vocabulary's list shows how many products use each term."""

    count_path = "products"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        counted = queryset.annotate(product_count=models.Count(self.count_path, distinct=True))
        return counted.order_by(*queryset.query.order_by or self.model._meta.ordering)

    @admin.display(description=_("products"), ordering="product_count")
    def product_count(self, obj) -> int:
        return obj.product_count


@admin.register(Category)
class CategoryAdmin(ProductCountMixin, CatalogueWriteAdmin):
    list_display = ("name", "abbreviation", "slug", "position", "product_count")
    search_fields = ("name", "abbreviation", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(MechanismOfAction)
class MechanismOfActionAdmin(ProductCountMixin, CatalogueWriteAdmin):
    list_display = ("name", "slug", "product_count")
    search_fields = ("name", "slug", "description")
    fields = ("name", "slug", "description")  # the name first: the slug is derived from it
    prepopulated_fields = {"slug": ("name",)}


@admin.register(TherapeuticArea)
class TherapeuticAreaAdmin(ProductCountMixin, CatalogueWriteAdmin):
    count_path = "indications__product"
    list_display = ("plain_name", "name", "slug", "product_count")
    search_fields = ("name", "plain_name", "slug")
    fields = ("name", "plain_name", "slug")  # the MeSH heading first: the slug is derived from it
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Company)
class CompanyAdmin(ProductCountMixin, CatalogueWriteAdmin):
    list_display = ("name", "slug", "product_count")
    search_fields = ("name", "slug")
    fields = ("name", "slug")  # the name first (also in the holder pop-up): the slug follows it
    prepopulated_fields = {"slug": ("name",)}


@admin.register(SearchSynonym)
class SearchSynonymAdmin(admin.ModelAdmin):
    """Lay terms, spellings and abbreviations of the search, and the words that carry nothing."""

    list_display = ("term", "expansion")
    search_fields = ("term", "expansion")


# Products --------------------------------------------------------------------------------------


class IndicationInline(admin.TabularInline):
    model = Indication
    formset = IndicationInlineFormSet
    fields = ("position", "condition", "population", "therapeutic_areas", "is_orphan")
    autocomplete_fields = ("therapeutic_areas",)
    ordering = ("position", "pk")
    formfield_overrides = SHORT_TEXT
    extra = 0


class AuthorisationEventInline(admin.TabularInline):
    model = AuthorisationEvent
    formset = AuthorisationEventInlineFormSet
    fields = ("kind", "date", "date_partial", "known_by", "note", "confidence")
    ordering = TIMELINE_ORDER
    formfield_overrides = SHORT_TEXT
    extra = 0
    verbose_name = _("authorisation event")
    verbose_name_plural = _("authorisation timeline (the latest status event sets the status)")


class HistoryAdmin(CatalogueWriteAdmin, SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose revert page saves only for editors with the change permission.

    django-simple-history 3.13 hides the Revert button from view-only users but saves a POST to
    the revert page from anyone who may view the history: a reviewer could revert by hand. A
    revert holds the catalogue like any other save.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        view = super().history_form_view
        return self.holding(request, view, object_id, version_id, extra_context, is_form=True)

    def history_view(self, request, object_id, extra_context=None):
        # The library's page has an inline style attribute: allowed by its hash, here only.
        styles = style_attribute_sources(*HISTORY_TEMPLATES)
        allow_inline_style = csp_update({"style-src": list(styles)})
        return allow_inline_style(super().history_view)(request, object_id, extra_context)


class ProductRowAdmin(HistoryAdmin):
    """An indication or an event on its own page: saving it also marks its product as saved.

    ``updated_at`` of the product (and of the product it moved from) is set first, under the
    product's row lock, so a product page opened before refuses to overwrite this change.
    """

    def save_model(self, request, obj, form, change):
        products = {obj.product_id, form.initial.get("product")} - {None}
        Product.objects.filter(pk__in=products).update(updated_at=timezone.now())
        super().save_model(request, obj, form, change)


@functools.cache
def product_preview_view():
    """The public page of any product, draft or not, rendered by the public view itself."""
    from products.views import ProductDetailView  # late: the admin loads without the pages

    class ProductPreviewView(ProductDetailView):
        def get_object(self, queryset=None) -> Product:
            return self.kwargs["product"]

        def get_context_data(self, **kwargs):
            context = super().get_context_data(**kwargs)
            context["is_preview"] = True
            context.setdefault("change_log", public_change_log(self.object))
            return context

    return ProductPreviewView.as_view()


@admin.register(Product)
class ProductAdmin(HistoryAdmin):
    form = ProductAdminForm
    formfield_overrides = HTTPS_URLS
    list_display = (
        "name",
        "inn",
        "category",
        "status",
        "authorisation",
        "holder",
        "is_published",
        "updated_at",
    )
    list_display_links = ("name",)
    list_filter = (
        "is_published",
        "status",
        "category",
        "cell_source",
        "delivery",
        "is_orphan",
        "is_conditional",
        "is_prime",
        "is_atmp",
        "mechanisms",
    )
    list_select_related = ("category", "holder")
    search_fields = (
        "name",
        "slug",
        "inn",
        "ema_product_number",
        "holder__name",
        "target",
        "platform",
        "indications__condition",
    )
    search_help_text = _("Brand name, INN, product number, holder, target, platform or condition.")
    date_hierarchy = "authorisation_date"
    autocomplete_fields = ("holder", "mechanisms")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at", "public_page", "publication_checklist")
    inlines = (IndicationInline, AuthorisationEventInline)
    actions = ("publish", "unpublish")
    save_on_top = True
    object_history_list_template = "admin/products/product/object_history_list.html"

    class Media:
        css = {"all": ("products/admin/product_form.css",)}  # inline tables that fit 1,366 px

    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("name", "slug"),
                    "aliases",
                    "inn",
                    "ema_product_number",
                    ("is_published", "public_page"),
                    "publication_checklist",
                )
            },
        ),
        (
            _("Classification and mechanism"),
            {
                "fields": (
                    "category",
                    "mechanisms",
                    ("platform", "target"),
                    ("cell_source", "delivery"),
                    "route_of_administration",
                    "atc_code",
                    "description",
                    ("is_atmp", "atmp_reason"),
                    "ema_advanced_therapy",
                )
            },
        ),
        (
            _("Authorisation"),
            {
                "description": _(
                    "The status must agree with the latest status event of the timeline below; "
                    "a suspended, withdrawn, expired, lapsed or revoked product needs its date. "
                    "The first row of flags is the EMA register's values now (the import keeps "
                    "them), the second the values at first authorisation; a change between them "
                    "belongs on the timeline. An application never authorised has no "
                    "authorisation flags."
                ),
                "fields": (
                    "holder",
                    ("status", "status_date"),
                    "status_reason",
                    ("authorisation_date", "authorisation_date_partial"),
                    NOW_FIELDS,
                    AT_AUTHORISATION_FIELDS,
                    "epar_url",
                ),
            },
        ),
        (
            _("Sources and verification"),
            {
                "fields": Product.CURATION_FIELDS,
                "classes": ("collapse",),
            },
        ),
        (_("Record"), {"fields": (("created_at", "updated_at"), "revision")}),
    )

    @admin.display(description=_("authorised"), ordering="authorisation_date")
    def authorisation(self, obj: Product) -> str:
        if obj.authorisation_date:
            return obj.authorisation_date.isoformat()
        return obj.authorisation_date_partial or _("not known")

    def view_on_site(self, obj: Product) -> str:
        """Published: the public page. A draft: its preview (the public page answers 404)."""
        if obj.is_published:
            return obj.get_absolute_url()
        return reverse("admin:products_product_preview", args=[obj.pk])

    @admin.display(description=_("Before publishing"))
    def publication_checklist(self, obj: Product) -> str:
        """What a published entry needs, ticked or not (a draft may lack any of it)."""
        items = obj.publication_checklist()
        return format_html(
            '<ul class="publication-checklist">{}</ul>',
            format_html_join(
                "",
                '<li class="{}">{} {}</li>',
                (
                    ("done", "✓", item) if done else ("missing", "✗", f"{item}: {_('missing')}")
                    for item, done in items
                ),
            ),
        )

    @admin.display(description=_("public page"))
    def public_page(self, obj: Product) -> str:
        if obj.pk is None:
            return _("Save the product first.")
        if obj.is_published:
            return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("View on site"))
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:products_product_preview", args=[obj.pk]),
            _("Preview"),
            _("a draft: not visible to the public"),
        )

    # Draft and publish

    @admin.action(description=_("Publish the selected products"), permissions=("change",))
    def publish(self, request, queryset) -> None:
        self._set_published(request, queryset, True)

    @admin.action(description=_("Unpublish the selected products"), permissions=("change",))
    def unpublish(self, request, queryset) -> None:
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, published: bool) -> None:
        """Save each product, so that its history records who published or unpublished it."""
        count = 0
        refused = []
        for product in queryset.filter(is_published=not published):
            if published and not all(done for _item, done in product.publication_checklist()):
                refused.append(product.name)  # its change page's checklist says what it lacks
                continue
            product.is_published = published
            product._history_user = request.user
            product.save(update_fields=["is_published", "updated_at"])
            count += 1
        message = (
            ngettext("%d product published.", "%d products published.", count)
            if published
            else ngettext("%d product unpublished.", "%d products unpublished.", count)
        )
        self.message_user(request, message % count, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                _("Not published, facts missing (see each one's checklist): %(names)s.")
                % {"names": ", ".join(refused)},
                messages.WARNING,
            )

    # Preview of the public page, for drafts too

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="products_product_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request, object_id: str):
        product = None
        if object_id.isdigit():
            product = Product.objects.with_related().filter(pk=object_id).first()
        if product is None:
            raise Http404(_("No such product."))
        if not self.has_view_or_change_permission(request, product):
            raise PermissionDenied
        response = product_preview_view()(request, product=product)
        response["X-Robots-Tag"] = "noindex"
        return response

    # History: a product's page lists the inline rows saved with it, too

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        super().set_history_delta_changes(request, historical_records, **kwargs)
        attach_related_changes(list(historical_records))

    # Revert (django-simple-history) checks the saved timeline: the page has no events inline

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request.reverting_product = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if getattr(request, "reverting_product", False):
            kwargs["form"] = ProductRevertForm
        return super().get_form(request, obj, change, **kwargs)


# Indications and events on their own pages (search across products; history and revert) ------


@admin.register(Indication)
class IndicationAdmin(ProductRowAdmin):
    list_display = ("condition", "product", "position", "is_orphan")
    list_filter = ("is_orphan", "therapeutic_areas", "product__category")
    list_select_related = ("product",)
    search_fields = ("condition", "population", "product__name")
    autocomplete_fields = ("product", "therapeutic_areas")
    formfield_overrides = SHORT_TEXT

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # remove an indication on its product's page, where the change is reviewed


@admin.register(AuthorisationEvent)
class AuthorisationEventAdmin(ProductRowAdmin):
    form = AuthorisationEventAdminForm
    list_display = ("product", "kind", "date_display", "note")
    list_filter = ("kind",)
    list_select_related = ("product",)
    search_fields = ("product__name", "note")
    autocomplete_fields = ("product",)
    date_hierarchy = "date"
    ordering = ("product__name", *TIMELINE_ORDER)
    formfield_overrides = SHORT_TEXT

    @admin.display(description=_("date"), ordering="date")
    def date_display(self, obj: AuthorisationEvent) -> str:
        return obj.date_display

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # remove an event on its product's page, where the timeline is checked
