"""The database refuses what must never hold; clean() explains it; the loader is all or nothing."""

import copy
import datetime
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from products.choices import STATUS_AFTER_EVENT, STATUS_EVENTS, EventKind, Status
from products.importers.catalogue import CatalogueError, load_catalogue
from products.models import (
    AuthorisationEvent,
    Category,
    Company,
    MechanismOfAction,
    Product,
    Slugged,
    TherapeuticArea,
)


def refused_by_database(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)
    return True


BAD_PRODUCT_FACTS = [
    {"status": "sold"},
    {"cell_source": "xenogeneic"},
    {"delivery": "by-post"},
    {"slug": "Not A Slug"},
    {"ema_product_number": "EMEA-H-C-1"},
    {"authorisation_date": datetime.date(1980, 1, 1)},
    {"status_date": datetime.date(2200, 1, 1)},
    {"status_date": datetime.date(2018, 8, 22)},  # a day before Kymriah's authorisation
    {"authorisation_date_partial": "2026-13"},
    {"authorisation_date_partial": "2018"},  # beside an exact date
    {"atc_code": "not an atc"},
]


@pytest.mark.parametrize("values", BAD_PRODUCT_FACTS, ids=lambda values: next(iter(values)))
def test_database_refuses_contradictory_product_facts(catalogue, values):
    assert refused_by_database(Product.objects.filter(slug="kymriah"), **values)


def test_database_refuses_a_duplicate_product_number_and_slug(catalogue):
    kymriah = Product.objects.get(slug="kymriah")
    assert refused_by_database(
        Product.objects.filter(slug="yescarta"), ema_product_number=kymriah.ema_product_number
    )
    assert refused_by_database(Product.objects.filter(slug="yescarta"), slug="kymriah")


def test_several_products_may_lack_a_product_number(catalogue):
    assert Product.objects.filter(ema_product_number__isnull=True).count() >= 2


@pytest.mark.parametrize(
    "values",
    [
        {"kind": "celebration"},
        {"date": datetime.date(1900, 1, 1)},
        {"date_partial": "20"},
        {"date_partial": "2018"},  # beside an exact date
    ],
    ids=lambda values: next(iter(values)),
)
def test_database_refuses_bad_events(catalogue, values):
    events = AuthorisationEvent.objects.filter(
        product__slug="kymriah", kind=EventKind.INITIAL_AUTHORISATION
    )
    assert events.exists()
    assert refused_by_database(events, **values)


def test_database_refuses_a_bad_category_slug(catalogue):
    assert refused_by_database(Category.objects.filter(slug="combined"), slug="Combined ATMP")


def test_clean_explains_an_ended_status_without_a_date(catalogue):
    product = Product.objects.get(slug="zynteglo")
    product.status_date = None
    with pytest.raises(ValidationError) as excinfo:
        product.full_clean()
    assert "needs the date its status took effect" in str(excinfo.value.message_dict["status_date"])


def test_clean_explains_dates_in_the_wrong_order(catalogue):
    product = Product.objects.get(slug="zynteglo")
    product.status_date = product.authorisation_date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        product.full_clean()
    assert "before the first authorisation" in str(excinfo.value.message_dict["status_date"])


def test_status_must_agree_with_the_latest_event(catalogue):
    product = Product.objects.get(slug="skysona")
    product.check_timeline()
    product.status = Status.AUTHORISED
    with pytest.raises(ValidationError, match="latest event"):
        product.check_timeline()


def test_each_regulatory_step_is_read_once_into_the_event_kinds_and_the_status_map():
    # One line of REGULATORY_STEPS gives the member, its label and the status it leads to.
    assert EventKind.CHANGE_OF_HOLDER == "change-of-holder"
    assert EventKind.RE_EXAMINATION.label == "Re-examination"
    assert EventKind.values[0] == "application-submitted" and EventKind.values[-1] == "other"
    assert STATUS_AFTER_EVENT[EventKind.WITHDRAWAL] is Status.WITHDRAWN
    assert STATUS_AFTER_EVENT[EventKind.NEGATIVE_OPINION] is Status.OPINION
    assert EventKind.RENEWAL not in STATUS_AFTER_EVENT
    # Both opinions lead to the same status, so neither is *the* event for it.
    assert STATUS_EVENTS[Status.LAPSED] is EventKind.LAPSE
    assert Status.OPINION not in STATUS_EVENTS
    assert Status.WITHDRAWN_FROM_ROLLING_REVIEW not in STATUS_EVENTS


def test_partial_dates_sort_after_known_months_of_their_year(catalogue):
    itvisma = Product.objects.get(slug="itvisma")
    assert [e.kind for e in itvisma.timeline] == ["positive-opinion", "initial-authorisation"]
    assert itvisma.authorisation_year == 2026


def test_a_bad_record_rolls_back_the_whole_load(catalogue, catalogue_data):
    before = list(Product.objects.order_by("slug").values_list("slug", "status", "updated_at"))
    data = copy.deepcopy(catalogue_data)
    data["products"][0]["inn"] = "changed before the failure"  # loaded first
    data["products"][-1]["status"] = "authorised-ish"  # fails last
    with pytest.raises(CatalogueError, match="authorised-ish"):
        load_catalogue(data)
    after = list(Product.objects.order_by("slug").values_list("slug", "status", "updated_at"))
    assert after == before
    assert not Product.objects.filter(inn="changed before the failure").exists()


def test_reloading_the_catalogue_changes_no_fact(catalogue, catalogue_data):
    before = list(Product.objects.order_by("slug").values("slug", "status", "status_date", "inn"))
    report = load_catalogue(catalogue_data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 47)
    assert (
        list(Product.objects.order_by("slug").values("slug", "status", "status_date", "inn"))
        == before
    )


@pytest.mark.parametrize(
    "model", [Category, MechanismOfAction, TherapeuticArea, Company, Product], ids=str
)
def test_every_slugged_model_refuses_a_malformed_slug_by_the_one_rule(catalogue, model):
    [rule] = [c for c in model._meta.constraints if c.name.endswith("_slug_format")]
    assert rule.condition == Slugged._meta.constraints[0].condition
    assert rule.name == f"products_{model._meta.model_name}_slug_format"
    first = model.objects.order_by("pk").first()
    assert refused_by_database(model.objects.filter(pk=first.pk), slug="Not A Slug")


def djangos_own_errors(instance, exclude=None) -> dict:
    """What Django's own ``validate_constraints`` (one query per constraint) says."""
    try:
        models.Model.validate_constraints(instance, exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return {}


def one_query_errors(instance, exclude=None) -> dict:
    try:
        instance.validate_constraints(exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return {}


@pytest.mark.parametrize("values", BAD_PRODUCT_FACTS, ids=lambda values: next(iter(values)))
def test_constraints_checked_in_one_query_give_djangos_own_errors(catalogue, values):
    product = Product.objects.get(slug="kymriah")
    for name, value in values.items():
        setattr(product, name, value)
    expected = djangos_own_errors(product)
    assert expected  # each of these facts breaks a constraint
    assert one_query_errors(product) == expected


def check_queries(validate) -> int:
    with CaptureQueriesContext(connection) as queries:
        validate()
    return sum('"_check"' in query["sql"] for query in queries.captured_queries)


def test_a_valid_product_and_event_are_checked_in_one_query_each(catalogue):
    product = Product.objects.get(slug="kymriah")
    event = product.events.first()
    for instance in (product, event):
        checks = [c for c in instance._meta.constraints if isinstance(c, models.CheckConstraint)]
        assert len(checks) >= 5
        assert one_query_errors(instance) == djangos_own_errors(instance) == {}
        assert check_queries(instance.validate_constraints) == 1
        djangos_own = partial(models.Model.validate_constraints, instance)
        assert check_queries(djangos_own) == len(checks)


def test_an_excluded_field_skips_only_its_own_constraints_as_in_django(catalogue):
    product = Product.objects.get(slug="kymriah")
    product.status = "sold"
    product.delivery = "by-post"
    expected = djangos_own_errors(product, exclude={"status"})
    assert list(expected) == ["__all__"] and expected["__all__"] == ["Unknown delivery."]
    assert one_query_errors(product, exclude={"status"}) == expected


# --- The catalogue summary (migration 0015) ------------------------------------------------------


def assert_summary_is_exact() -> None:
    """The summary's three counts equal the same counts over the published products."""
    from products.models import CatalogueSummary
    from products.quality import FACTS_PER_PRODUCT

    summary = CatalogueSummary.objects
    published = Product.objects.published()
    statuses = {row["status"]: row["count"] for row in published.count_by("status")}
    assert summary.count_by_status() == statuses
    per_year = published.held_authorisation().authorisations_per_year()
    assert summary.authorisations_per_year() == per_year
    verified = sum(
        0
        if (product.verification or "").strip().lower() == "unverified"
        else FACTS_PER_PRODUCT - min(len(product.unverified_fields or ()), FACTS_PER_PRODUCT)
        for product in published.only("verification", "unverified_fields")
    )
    assert summary.verified_facts(FACTS_PER_PRODUCT) == (verified, published.count())
    assert not summary.filter(products__lte=0).exists()


def test_the_catalogue_summary_follows_every_kind_of_write(catalogue, catalogue_data):
    from products.flags import NOT_APPLICABLE_WITHOUT_AUTHORISATION
    from products.models import CatalogueSummary
    from tests.factories import CategoryFactory, ProductFactory

    assert_summary_is_exact()  # as loaded
    added = ProductFactory()
    ProductFactory.create_batch(
        3,
        status=Status.WITHDRAWN,
        status_date=datetime.date(2024, 2, 1),
        authorisation_date=None,
        authorisation_date_partial="2019-05",
        category=None,
    )
    draft = ProductFactory(
        is_published=False,
        status=Status.REFUSED,
        authorisation_date=None,
        **dict.fromkeys(NOT_APPLICABLE_WITHOUT_AUTHORISATION),
    )
    assert_summary_is_exact()  # inserts, a draft not counted
    Product.objects.filter(pk=added.pk).update(is_published=False)
    assert_summary_is_exact()  # unpublished
    added.refresh_from_db()
    added.is_published = True
    added.save()
    draft.is_published = True
    draft.save()
    assert_summary_is_exact()  # published again, and a draft published
    Product.objects.filter(pk=added.pk).update(
        status=Status.SUSPENDED, status_date=datetime.date(2025, 1, 1)
    )
    Product.objects.filter(status=Status.WITHDRAWN).update(category=CategoryFactory())
    assert_summary_is_exact()  # a status and categories changed
    Product.objects.filter(pk=added.pk).update(
        authorisation_date=None, authorisation_date_partial="2017"
    )
    Product.objects.filter(slug="kymriah").update(
        verification=" Unverified ", unverified_fields=["holder", "status"]
    )
    Product.objects.filter(slug="yescarta").update(unverified_fields=["x"] * 40)
    assert_summary_is_exact()  # a year, a verification, more doubts than facts
    Product.objects.filter(slug="kymriah").update(target="CD19 again")  # no group changes
    AuthorisationEvent.objects.filter(product__slug="kymriah").delete()
    assert_summary_is_exact()
    Product.objects.filter(pk=added.pk).delete()
    Product.objects.filter(status=Status.WITHDRAWN, category__isnull=False).delete()
    assert_summary_is_exact()  # deletes, one and several
    load_catalogue(catalogue_data)  # the loader writes every product again
    assert_summary_is_exact()
    Product.objects.filter(slug="kymriah").update(is_published=False)
    assert_summary_is_exact()
    Product.objects.all().delete()
    assert_summary_is_exact()
    assert not CatalogueSummary.objects.exists()


def test_the_catalogue_summary_is_emptied_with_the_products(catalogue):
    from django.db import connection

    from products.models import CatalogueSummary

    assert CatalogueSummary.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE products_product CASCADE")
    assert not CatalogueSummary.objects.exists()
    assert_summary_is_exact()


SUMMARY_COLUMNS = ("status", "category", "year", "doubts", "is_unverified", "products")


def test_a_write_rolled_back_leaves_the_summary_as_it_was(catalogue):
    from products.models import CatalogueSummary

    before = sorted(CatalogueSummary.objects.values_list(*SUMMARY_COLUMNS), key=repr)
    with pytest.raises(RuntimeError), transaction.atomic():
        Product.objects.filter(slug="kymriah").update(status=Status.WITHDRAWN)
        raise RuntimeError
    after = sorted(CatalogueSummary.objects.values_list(*SUMMARY_COLUMNS), key=repr)
    assert after == before
    assert_summary_is_exact()
