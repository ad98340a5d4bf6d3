"""The curation admin: roles, validation as form errors, draft and publish, history and revert."""

from __future__ import annotations

import base64
import csv
import datetime
import hashlib
import io
import re

import pytest
from django import forms
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import models
from django.urls import reverse

from products import models as product_models
from products.history import last_updated, public_change_log
from products.models import AuthorisationEvent, ImportRun, Indication, Product
from tests.ema_workbooks import snapshot

PASSWORD = "correct horse battery staple"

# Helpers ---------------------------------------------------------------------------------------


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _field_data(form: forms.BaseForm) -> dict[str, object]:
    """The values a browser would post for ``form`` as rendered (unchanged)."""
    data: dict[str, object] = {}
    for bound in form:
        value = bound.value()
        field = bound.field
        if isinstance(field, forms.NullBooleanField):
            data[bound.html_name] = {True: "true", False: "false"}.get(value, "unknown")
        elif isinstance(field, forms.BooleanField):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        elif value is None:
            data[bound.html_name] = ""
        elif isinstance(value, datetime.date):
            data[bound.html_name] = value.isoformat()
        else:
            data[bound.html_name] = str(value)
    return data


def change_form_data(response) -> dict[str, object]:
    """What the rendered admin change page posts back when saved untouched (with its inlines)."""
    data = _field_data(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        data.update(_field_data(formset.management_form))
        for form in formset.forms:
            data.update(_field_data(form))
    return data


def inline_prefix(response, model) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"no inline for {model.__name__}")


def errors_of(response) -> list[str]:
    """Every error the page shows: fields, non-field, and inline formsets."""
    messages = []
    for errors in response.context["adminform"].form.errors.values():
        messages += errors
    for inline in response.context.get("inline_admin_formsets", []):
        messages += inline.formset.non_form_errors()
        for form_errors in inline.formset.errors:
            for errors in form_errors.values():
                messages += errors
    return [str(message) for message in messages]


# Fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def roles(db):
    call_command("create_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _member(name: str, group: str) -> User:
    user = User.objects.create_user(name, f"{name}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def curator(roles):
    return _member("curator", "curators")


@pytest.fixture
def reviewer(roles):
    return _member("reviewer", "reviewers")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def kymriah(catalogue):
    return Product.objects.get(slug="kymriah")


@pytest.fixture
def import_run(db):
    return ImportRun.objects.create(file_name="medicines-output.xlsx", run_by="cron", updated=2)


def one_of_each(kymriah, import_run):
    """A saved object of every model of the admin."""
    return {
        product_models.Category: kymriah.category,
        product_models.MechanismOfAction: kymriah.mechanisms.first(),
        product_models.TherapeuticArea: kymriah.indications.first().therapeutic_areas.first(),
        product_models.Company: kymriah.holder,
        Product: kymriah,
        Indication: kymriah.indications.first(),
        AuthorisationEvent: kymriah.events.first(),
        ImportRun: import_run,
    }


CATALOGUE_MODELS = [
    product_models.Category,
    product_models.MechanismOfAction,
    product_models.TherapeuticArea,
    product_models.Company,
    Product,
    Indication,
    AuthorisationEvent,
]
ALL_MODELS = [*CATALOGUE_MODELS, ImportRun]


# Roles -----------------------------------------------------------------------------------------


def test_create_roles_is_idempotent_and_grants_no_product_deletion(roles):
    call_command("create_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    curators = Group.objects.get(name="curators")
    reviewers = Group.objects.get(name="reviewers")
    assert Group.objects.filter(name__in=["curators", "reviewers"]).count() == 2
    curator_perms = set(curators.permissions.values_list("codename", flat=True))
    reviewer_perms = set(reviewers.permissions.values_list("codename", flat=True))
    assert {"add_product", "change_product", "view_product", "view_historicalproduct"} <= (
        curator_perms
    )
    assert {"change_importrun", "add_indication", "delete_authorisationevent"} <= curator_perms
    assert "delete_product" not in curator_perms
    assert not curators.permissions.filter(content_type__app_label="auth").exists()
    assert reviewer_perms and all(code.startswith("view_") for code in reviewer_perms)
    assert "view_historicalproduct" in reviewer_perms


def test_create_roles_restores_a_hand_edited_group(roles):
    curators = Group.objects.get(name="curators")
    curators.permissions.add(Permission.objects.get(codename="delete_product"))
    call_command("create_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not curators.permissions.filter(codename="delete_product").exists()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_curator_sees_changelist_and_change_page_of_every_model(
    curator_client, kymriah, import_run, model
):
    obj = one_of_each(kymriah, import_run)[model]
    changelist = curator_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    change = curator_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"] == obj


@pytest.mark.parametrize("model", CATALOGUE_MODELS, ids=lambda m: m.__name__)
def test_curator_sees_the_add_page_of_every_catalogue_model(curator_client, catalogue, model):
    response = curator_client.get(admin_url(model, "add"))
    assert response.status_code == 200
    assert response.context["add"] is True


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_anonymous_is_sent_to_the_login_page(client, kymriah, import_run, model):
    obj = one_of_each(kymriah, import_run)[model]
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "add"),
        admin_url(model, "change", obj.pk),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


@pytest.mark.parametrize("model", CATALOGUE_MODELS, ids=lambda m: m.__name__)
def test_reviewer_may_view_but_not_add_or_change(reviewer_client, kymriah, import_run, model):
    obj = one_of_each(kymriah, import_run)[model]
    assert reviewer_client.get(admin_url(model, "changelist")).status_code == 200
    change = reviewer_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["has_change_permission"] is False
    assert 'name="_save"' not in change.content.decode()
    assert reviewer_client.get(admin_url(model, "add")).status_code == 403


def test_reviewer_cannot_change_a_product(client, curator, reviewer, kymriah):
    before = snapshot()
    client.force_login(curator)
    data = change_form_data(client.get(admin_url(Product, "change", kymriah.pk)))
    data["status_reason"] = "Changed by a reviewer"
    client.force_login(reviewer)
    response = client.post(admin_url(Product, "change", kymriah.pk), data)
    assert response.status_code == 403
    assert snapshot() == before


def test_curator_cannot_delete_a_product(curator_client, kymriah):
    assert curator_client.get(admin_url(Product, "delete", kymriah.pk)).status_code == 403
    assert (
        curator_client.post(admin_url(Product, "delete", kymriah.pk), {"post": "yes"}).status_code
        == 403
    )
    changelist = curator_client.get(admin_url(Product, "changelist"))
    actions = [
        value for value, _label in changelist.context["action_form"].fields["action"].choices
    ]
    assert "delete_selected" not in actions
    assert {"publish", "unpublish"} <= set(actions)
    response = curator_client.post(
        admin_url(Product, "changelist"),
        {"action": "delete_selected", "_selected_action": [kymriah.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert Product.objects.filter(pk=kymriah.pk).exists()


def test_curator_cannot_manage_users(curator_client):
    assert curator_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert curator_client.get(reverse("admin:auth_group_changelist")).status_code == 403


# Product page ------------------------------------------------------------------------------------


def test_product_change_page_has_inlines_autocomplete_and_readonly_timestamps(
    curator_client, kymriah
):
    response = curator_client.get(admin_url(Product, "change", kymriah.pk))
    page = response.content.decode()
    inline_models = [inline.formset.model for inline in response.context["inline_admin_formsets"]]
    assert inline_models == [Indication, AuthorisationEvent]
    events = response.context["inline_admin_formsets"][1].formset.queryset
    assert [event.kind for event in events] == [event.kind for event in kymriah.timeline]
    assert [event.kind for event in events][:3] == [
        "orphan-designation",
        "positive-opinion",
        "initial-authorisation",
    ]
    assert "created_at" not in response.context["adminform"].form.fields
    assert "updated_at" not in response.context["adminform"].form.fields
    assert "data-autocomplete-light" not in page  # Django's own autocomplete, not a third party
    assert 'class="admin-autocomplete' in page
    assert "indications-0-therapeutic_areas" in page
    assert kymriah.get_absolute_url() in page  # view on site (published)


def test_events_inline_lists_the_timeline_in_time_order(catalogue):
    from products.admin import TIMELINE_ORDER

    for product in Product.objects.prefetch_related("events"):
        ordered = list(product.events.order_by(*TIMELINE_ORDER))
        assert ordered == product.timeline, product.slug


def test_product_changelist_searches_filters_and_has_date_hierarchy(curator_client, catalogue):
    url = admin_url(Product, "changelist")
    found = curator_client.get(url, {"q": "CD19"})
    names = {product.name for product in found.context["cl"].result_list}
    assert {"Kymriah", "Breyanzi"} <= names
    assert curator_client.get(url, {"q": "EMEA/H/C/004090"}).context["cl"].result_count == 1
    tissue = product_models.Category.objects.get(slug="tissue-engineered")
    tissue = curator_client.get(url, {"category__id__exact": tissue.pk}).context["cl"]
    assert {p.name for p in tissue.result_list} == {"ChondroCelect", "Holoclar", "Spherox"}
    year = curator_client.get(url, {"authorisation_date__year": "2018"})
    assert {p.name for p in year.context["cl"].result_list} >= {"Kymriah", "Luxturna"}


def test_holder_autocomplete_answers_a_curator(curator_client, kymriah):
    response = curator_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Novartis",
            "app_label": "products",
            "model_name": "product",
            "field_name": "holder",
        },
    )
    assert response.status_code == 200
    assert any("Novartis" in row["text"] for row in response.json()["results"])


# Validation ------------------------------------------------------------------------------------


@pytest.fixture
def kymriah_form(curator_client, kymriah):
    response = curator_client.get(admin_url(Product, "change", kymriah.pk))
    return response, change_form_data(response)


def post_change(client, product, data):
    return client.post(admin_url(Product, "change", product.pk), data)


def test_unchanged_product_form_saves(curator_client, kymriah, kymriah_form):
    _page, data = kymriah_form
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 302, errors_of(response)


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (
            {"status_date": "2010-01-01", "status": "withdrawn"},
            "status_date",
            "cannot be before the first authorisation",
        ),
        ({"status": "withdrawn", "status_date": ""}, "status_date", "needs the date"),
        ({"ema_product_number": "EMEA/H/C/004451"}, "ema_product_number", "already exists"),
        ({"ema_product_number": "004090"}, "ema_product_number", "EMEA/H/C/004090"),
        ({"authorisation_date_partial": "2018"}, "authorisation_date_partial", "not both"),
        ({"slug": "Kymriah_Tisa"}, "slug", "lowercase"),
    ],
)
def test_invalid_product_edit_shows_a_form_error_and_changes_nothing(
    curator_client, kymriah, kymriah_form, edit, field, message
):
    before = snapshot()
    _page, data = kymriah_form
    data.update(edit)
    data["status_reason"] = "should not be saved"
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert field in form_errors
    assert message in " ".join(form_errors[field])
    assert "Please correct" in response.content.decode()
    assert snapshot() == before


def test_status_that_contradicts_the_timeline_is_refused(curator_client, kymriah, kymriah_form):
    before = snapshot()
    _page, data = kymriah_form
    data.update({"status": "expired", "status_date": "2024-01-01"})
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 200
    errors = " ".join(errors_of(response))
    assert "latest event of the timeline is “Initial marketing authorisation”" in errors
    assert "timeline and the status disagree" in response.content.decode()
    assert snapshot() == before


def withdraw(page, data: dict, **event: str) -> None:
    """``data`` of the change form made to say withdrawn, with a withdrawal event added."""
    prefix = inline_prefix(page, AuthorisationEvent)
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    fields = {"kind": "withdrawal", "date": "2025-06-30", **event}
    data.update({"status": "withdrawn", "status_date": "2025-06-30"})
    data.update({f"{prefix}-{total}-{name}": value for name, value in fields.items()})
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)


def test_a_withdrawal_event_with_its_status_saves_together(curator_client, kymriah, kymriah_form):
    page, data = kymriah_form
    withdraw(page, data, date_partial="", note="Withdrawn at the holder's request.")
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 302, errors_of(response)
    kymriah.refresh_from_db()
    assert kymriah.status == "withdrawn"
    assert [event.kind for event in kymriah.timeline][-1] == "withdrawal"


def test_deleting_the_event_that_sets_the_status_is_refused(curator_client, catalogue):
    alofisel = Product.objects.get(slug="alofisel")
    before = snapshot()
    page = curator_client.get(admin_url(Product, "change", alofisel.pk))
    data = change_form_data(page)
    prefix = inline_prefix(page, AuthorisationEvent)
    forms_ = page.context["inline_admin_formsets"][1].formset.forms
    index = next(i for i, form in enumerate(forms_) if form.instance.kind == "withdrawal")
    data[f"{prefix}-{index}-DELETE"] = "on"
    response = post_change(curator_client, alofisel, data)
    assert response.status_code == 200
    assert "leaves it “Authorised”" in " ".join(errors_of(response))
    assert snapshot() == before


def test_product_and_indication_orphan_facts_cannot_contradict(
    curator_client, kymriah, kymriah_form
):
    before = snapshot()
    _page, data = kymriah_form
    data["is_orphan_at_authorisation"] = "false"  # its indications were designated orphan
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 200
    assert "An indication had an orphan designation when authorised" in " ".join(
        errors_of(response)
    )
    assert snapshot() == before


def test_a_refused_application_cannot_be_given_authorisation_flags(curator_client, catalogue):
    elevidys = Product.objects.get(slug="elevidys")
    page = curator_client.get(admin_url(Product, "change", elevidys.pk))
    data = change_form_data(page)
    data["is_conditional"] = "false"
    response = post_change(curator_client, elevidys, data)
    assert response.status_code == 200
    assert "never got a marketing authorisation" in " ".join(errors_of(response))
    assert Product.objects.get(slug="elevidys").is_conditional is None


def test_invalid_inline_indication_shows_an_error_and_changes_nothing(
    curator_client, kymriah, kymriah_form
):
    before = snapshot()
    page, data = kymriah_form
    prefix = inline_prefix(page, Indication)
    data[f"{prefix}-0-condition"] = ""
    data["status_reason"] = "should not be saved"
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 200
    assert "This field is required." in errors_of(response)
    assert snapshot() == before


def test_event_page_refuses_an_edit_that_breaks_the_timeline(curator_client, catalogue):
    alofisel = Product.objects.get(slug="alofisel")
    withdrawal = alofisel.events.get(kind="withdrawal")
    before = snapshot()
    url = admin_url(AuthorisationEvent, "change", withdrawal.pk)
    data = change_form_data(curator_client.get(url))
    data["kind"] = "renewal"
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "timeline and the status disagree" in " ".join(errors_of(response))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "typed", "saved"),
    [
        # Array fields are edited one per line: an item may hold a comma.
        (
            "aliases",
            "CTL019\r\n\r\nTisagenlecleucel, Novartis\r\n",
            ["CTL019", "Tisagenlecleucel, Novartis"],
        ),
        # A URL typed without its scheme is an https one (forms.HTTPS_URLS).
        ("epar_url", "www.ema.europa.eu/x/kymriah", "https://www.ema.europa.eu/x/kymriah"),
    ],
)
def test_the_product_form_saves_what_is_typed_in_its_plain_form(
    curator_client, kymriah, kymriah_form, field, typed, saved
):
    _page, data = kymriah_form
    data[field] = typed
    response = post_change(curator_client, kymriah, data)
    assert response.status_code == 302, errors_of(response)
    kymriah.refresh_from_db()
    assert getattr(kymriah, field) == saved


# Draft and publish -----------------------------------------------------------------------------


def test_unpublish_and_publish_actions_record_history(curator_client, curator, kymriah):
    url = admin_url(Product, "changelist")
    response = curator_client.post(url, {"action": "unpublish", "_selected_action": [kymriah.pk]})
    assert response.status_code == 302
    kymriah.refresh_from_db()
    assert kymriah.is_published is False
    record = kymriah.history.first()
    assert (record.is_published, record.history_user) == (False, curator)
    curator_client.post(url, {"action": "publish", "_selected_action": [kymriah.pk]})
    kymriah.refresh_from_db()
    assert kymriah.is_published is True


def test_a_draft_is_previewed_by_editors_only(client, curator_client, reviewer, kymriah):
    kymriah.is_published = False
    kymriah.save()
    preview_url = reverse("admin:products_product_preview", args=[kymriah.pk])
    change = curator_client.get(admin_url(Product, "change", kymriah.pk))
    assert preview_url in change.content.decode()
    assert "Preview (draft)" in change.content.decode()
    preview = curator_client.get(preview_url)
    assert preview.status_code == 200
    assert preview.context["product"] == kymriah
    assert "products/product_detail.html" in [t.name for t in preview.templates]
    assert "Kymriah" in preview.content.decode()
    client.logout()
    assert client.get(preview_url).status_code == 302  # to the login page
    client.force_login(reviewer)
    assert client.get(preview_url).status_code == 200
    assert client.get(reverse("admin:products_product_preview", args=["999999"])).status_code == 404
    assert client.get(reverse("admin:products_product_preview", args=["x"])).status_code == 404


def _listed_slugs(response) -> set[str]:
    """The products a list page, the CSV or the API lists (by slug, or by name for the CSV)."""
    if response.get("Content-Type", "").startswith("text/csv"):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        return {row.get("slug") or row.get("name", "").lower() for row in rows}
    if response.get("Content-Type", "").startswith("application/json"):
        return {row["slug"] for row in response.json()["results"]}
    return {product.slug for product in response.context["page_obj"]}


def test_unpublished_products_are_absent_from_pages_csv_and_api(client, catalogue):
    kymriah = Product.objects.get(slug="kymriah")
    detail_urls = [kymriah.get_absolute_url(), reverse("api:product-detail", args=["kymriah"])]
    list_urls = [
        reverse("products:product_list"),
        reverse("products:product_export"),
        reverse("api:product-list"),
    ]
    query = {"q": "Kymriah"}
    for url in detail_urls:
        assert client.get(url).status_code == 200, url
    for url in list_urls:
        assert "kymriah" in _listed_slugs(client.get(url, query)), url

    kymriah.is_published = False
    kymriah.save()
    for url in detail_urls:
        assert client.get(url).status_code == 404, url
    for url in list_urls:
        response = client.get(url, query)
        assert response.status_code == 200, url
        assert "kymriah" not in _listed_slugs(response), url
    # Unfiltered lists (CSV: everything) miss it too, and still list the others.
    everything = _listed_slugs(client.get(reverse("products:product_export")))
    assert "luxturna" in everything and "kymriah" not in everything
    home = client.get(reverse("products:home")).content.decode()
    assert kymriah.get_absolute_url() not in home


# History ---------------------------------------------------------------------------------------


def test_history_records_an_edit_with_its_author_and_revert_restores_it(
    curator_client, curator, kymriah, kymriah_form
):
    _page, data = kymriah_form
    old_target, old_reason = kymriah.target, kymriah.status_reason
    previous = kymriah.history.first()
    data.update({"target": "CD22 CAR", "status_reason": "A curator's edit"})
    assert post_change(curator_client, kymriah, data).status_code == 302
    kymriah.refresh_from_db()
    assert kymriah.target == "CD22 CAR"
    record = kymriah.history.first()
    assert record.history_user == curator
    assert record.history_type == "~"
    assert set(record.diff_against(previous).changed_fields) == {"target", "status_reason"}

    history = curator_client.get(admin_url(Product, "history", kymriah.pk))
    assert history.status_code == 200
    assert "curator" in history.content.decode()
    assert "CD22 CAR" in history.content.decode()

    revert_url = reverse(
        "admin:products_product_simple_history", args=[kymriah.pk, previous.history_id]
    )
    revert_page = curator_client.get(revert_url)
    assert revert_page.status_code == 200
    revert_data = change_form_data(revert_page)
    assert revert_data["target"] == old_target
    response = curator_client.post(revert_url, revert_data)
    assert response.status_code == 302
    kymriah.refresh_from_db()
    assert (kymriah.target, kymriah.status_reason) == (old_target, old_reason)
    assert kymriah.history.first().history_user == curator


def test_revert_to_a_status_the_timeline_contradicts_is_refused(
    curator_client, kymriah, kymriah_form
):
    """An old version saying "authorised" cannot come back after a withdrawal event was added."""
    page, data = kymriah_form
    authorised_version = kymriah.history.first()
    withdraw(page, data)
    assert post_change(curator_client, kymriah, data).status_code == 302
    before = snapshot()
    revert_url = reverse(
        "admin:products_product_simple_history", args=[kymriah.pk, authorised_version.history_id]
    )
    response = curator_client.post(revert_url, change_form_data(curator_client.get(revert_url)))
    assert response.status_code == 200
    assert "timeline and the status disagree" in response.content.decode()
    assert snapshot() == before


def test_reviewer_sees_history_but_cannot_revert(reviewer_client, kymriah):
    record = kymriah.history.first()
    assert reviewer_client.get(admin_url(Product, "history", kymriah.pk)).status_code == 200
    revert_url = reverse(
        "admin:products_product_simple_history", args=[kymriah.pk, record.history_id]
    )
    page = reviewer_client.get(revert_url)
    assert page.status_code == 200
    assert 'value="Revert"' not in page.content.decode()


def test_reviewer_cannot_revert_by_posting(client, curator, reviewer, kymriah):
    previous = kymriah.history.first()
    kymriah.target = "CD22 CAR"
    kymriah.save()
    before = snapshot()
    revert_url = reverse(
        "admin:products_product_simple_history", args=[kymriah.pk, previous.history_id]
    )
    client.force_login(curator)
    data = change_form_data(client.get(revert_url))
    client.force_login(reviewer)
    assert client.post(revert_url, data).status_code == 403
    assert snapshot() == before


def test_product_history_lists_the_inline_rows_saved_with_it(curator_client, kymriah, kymriah_form):
    page, data = kymriah_form
    prefix = inline_prefix(page, Indication)
    data[f"{prefix}-0-population"] = "Adults only"
    assert post_change(curator_client, kymriah, data).status_code == 302
    history = curator_client.get(admin_url(Product, "history", kymriah.pk))
    latest = history.context["page_obj"][0]
    assert [row["action"] for row in latest.related_changes] == ["changed"]
    assert latest.related_changes[0]["row"].startswith("Indication “B-cell acute")
    body = history.content.decode()
    assert "Adults only" in body and "Population" in body


def test_public_change_log_lists_facts_not_editors(curator_client, curator, kymriah, kymriah_form):
    page, data = kymriah_form
    prefix = inline_prefix(page, Indication)
    data.update({"target": "CD22 CAR", f"{prefix}-0-population": "Adults only"})
    assert post_change(curator_client, kymriah, data).status_code == 302
    log = public_change_log(kymriah)
    assert log, "an edit must appear in the public change log"
    today = log[0]
    assert today["added"] is True or {"target", "indications"} <= set(today["fields"])
    assert "curator" not in str(log)
    assert last_updated(kymriah) >= kymriah.history.last().history_date


def test_public_page_shows_the_change_log_without_names(client, curator, kymriah):
    month_ago = datetime.timedelta(days=30)
    Product.history.filter(id=kymriah.pk).update(history_date=models.F("history_date") - month_ago)
    # The load recorded the events too (with their history): all of it a month ago.
    for history in (Indication.history, AuthorisationEvent.history):
        history.update(history_date=models.F("history_date") - month_ago)
    kymriah.target = "CD19 CAR (FMC63)"
    kymriah._history_user = curator
    kymriah.save()
    body = client.get(kymriah.get_absolute_url()).content.decode()
    assert "Changes to this entry" in body
    assert "target updated" in body
    assert "added to the catalogue" in body
    assert "curator" not in body


def test_public_change_log_separates_days_and_hides_publication(kymriah):
    month_ago = datetime.timedelta(days=30)
    for history in (Product.history, Indication.history, AuthorisationEvent.history):
        records = history.filter(history_date__isnull=False)
        records = records.filter(id=kymriah.pk) if history is Product.history else records
        records.update(history_date=models.F("history_date") - month_ago)
    kymriah.status_reason = "Renewed"
    kymriah.save()
    kymriah.is_published = False
    kymriah.save()
    log = public_change_log(kymriah)
    assert log[0]["added"] is False
    assert log[0]["fields"] == ["status reason"]
    assert log[-1]["added"] is True
    assert all("published" not in entry["fields"] for entry in log)
    assert public_change_log(kymriah, limit=1) == log[:1]


# Login rate limit ------------------------------------------------------------------------------


def test_axes_locks_out_after_five_failed_logins(client, curator):
    login = reverse("admin:login")
    for _attempt in range(5):
        response = client.post(login, {"username": "curator", "password": "wrong"})
        assert "_auth_user_id" not in client.session
    response = client.post(login, {"username": "curator", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 429


def test_a_correct_login_works_before_the_limit(client, curator):
    login = reverse("admin:login")
    client.post(login, {"username": "curator", "password": "wrong"})
    response = client.post(login, {"username": "curator", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(curator.pk)


# --- Content-Security-Policy of the history pages ----------------------------------------------


def style_src(response) -> list[str]:
    for directive in response["Content-Security-Policy"].split(";"):
        name, _sep, value = directive.strip().partition(" ")
        if name == "style-src":
            return value.split()
    return []


@pytest.mark.parametrize("model", [Product, Indication, AuthorisationEvent])
def test_the_history_page_allows_exactly_its_inline_styles(curator_client, kymriah, model):
    kymriah.save()  # a history record, so that the page lists one (and its paginator)
    record = {Product: kymriah, Indication: kymriah.indications.first()}.get(
        model, kymriah.events.first()
    )
    record.save()
    response = curator_client.get(admin_url(model, "history", record.pk))
    assert response.status_code == 200
    styles = set(re.findall(r'\bstyle="([^"]*)"', response.content.decode()))
    assert styles  # django-simple-history's paginator: style="border-top: 0"
    allowed = style_src(response)
    assert allowed[:2] == ["'self'", "'unsafe-hashes'"]
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, style
    assert "'unsafe-inline'" not in allowed


@pytest.mark.parametrize("view", ["changelist", "change"])
def test_other_admin_pages_allow_no_inline_style(curator_client, kymriah, view):
    args = (kymriah.pk,) if view == "change" else ()
    response = curator_client.get(admin_url(Product, view, *args))
    assert response.status_code == 200
    assert style_src(response) == ["'self'"]


def test_a_curator_adds_a_search_synonym_in_the_admin(admin_client, catalogue):
    from products.models import Product, SearchSynonym

    url = reverse("admin:products_searchsynonym_add")
    response = admin_client.post(url, {"term": "Car-T!", "expansion": "car-t"})
    assert (
        response.status_code == 200
        and "Use lowercase letters and digits" in response.content.decode()
    )
    response = admin_client.post(url, {"term": "gluebottle", "expansion": "mantle cell lymphoma"})
    assert response.status_code == 302
    assert SearchSynonym.objects.get(term="gluebottle").alternatives == [
        ["mantle", "cell", "lymphoma"]
    ]
    assert [p.slug for p in Product.objects.search("gluebottle")] == ["tecartus"]


def test_every_published_product_of_the_catalogue_passes_the_publication_checklist(catalogue):
    from products.models import Product

    for product in Product.objects.published():
        assert all(done for _item, done in product.publication_checklist()), product.slug
        product.full_clean()


def test_publishing_needs_the_facts_a_public_entry_must_have(catalogue):
    from django.core.exceptions import ValidationError

    from products.models import Product

    bare = Product(name="Barevex", slug="barevex", status="authorised", is_published=True)
    with pytest.raises(ValidationError) as error:
        bare.full_clean()
    message = " ".join(error.value.message_dict["is_published"])
    assert "the first authorisation date" in message and "at least one source" in message
    withdrawn = Product(
        name="Gonevex", slug="gonevex", status="withdrawn", is_published=True, sources=["EPAR"]
    )
    with pytest.raises(ValidationError) as error:
        withdrawn.full_clean()
    assert "the date of the status" in " ".join(error.value.message_dict["is_published"])
    bare.is_published = False
    bare.full_clean()  # a draft may stay incomplete
    undated = Product(
        name="Undatex",
        slug="undatex",
        status="authorised",
        is_published=True,
        sources=["EPAR"],
        unverified_fields=["authorisation_date"],
    )
    undated.full_clean()  # no source gives the date, and the entry says so (Adstiladrin)


def test_the_admin_refuses_to_publish_a_bare_product_and_shows_the_checklist(
    admin_client, catalogue
):
    from products.models import Product

    url = reverse("admin:products_product_add")
    page = admin_client.get(url).content.decode()
    assert "Before publishing" in page and "✗ At least one indication: missing" in page
    kymriah = Product.objects.get(slug="kymriah")
    change = admin_client.get(reverse("admin:products_product_change", args=[kymriah.pk]))
    html = change.content.decode()
    assert (
        "✓ At least one indication" in html and "✗" not in html.split("Before publishing")[1][:600]
    )


def test_the_publish_action_leaves_out_products_that_lack_facts(admin_client, catalogue):
    from products.models import Product
    from tests.factories import ProductFactory

    ProductFactory(
        name="Draftex", slug="draftex", status="authorised", is_published=False, sources=[]
    )
    response = admin_client.post(
        reverse("admin:products_product_changelist"),
        {"action": "publish", "_selected_action": [Product.objects.get(slug="draftex").pk]},
        follow=True,
    )
    assert not Product.objects.get(slug="draftex").is_published
    assert "Not published, facts missing" in response.content.decode()


def test_a_login_with_a_refused_next_lands_on_the_admin(client, django_user_model):
    django_user_model.objects.create_user("ines", password="pw-for-tests-1", is_staff=True)
    response = client.post(
        reverse("admin:login") + "?next=https://evil.example/",
        {"username": "ines", "password": "pw-for-tests-1", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("model", ["company", "therapeuticarea", "mechanismofaction"])
def test_a_vocabulary_form_asks_for_the_name_before_the_slug(admin_client, model):
    html = admin_client.get(
        reverse(f"admin:products_{model}_add") + "?_to_field=id&_popup=1"
    ).content.decode()
    assert 0 < html.index('name="name"') < html.index('name="slug"')
