"""Two writers at once: stale admin forms, an admin save during an import, two imports at once.

The races are real: a thread with its own database connection holds an import open inside its
transaction (or holds a lock) while the test client saves or a second import starts. Every wait
is bounded (``HELD_SECONDS``, ``CATALOGUE_LOCK_TIMEOUT``); nothing is timed.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import shutil
import threading

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.urls import reverse
from psycopg import errors

from products.choices import EventKind, Status
from products.importers import ema
from products.importers.catalogue import load_catalogue
from products.importers.ema import import_file
from products.locks import CatalogueBusy, hold_for_edit, importing, lock_conflict
from products.models import AuthorisationEvent, Company, ImportRun, Product
from tests.ema_workbooks import medicine, write_workbook
from tests.factories import ProductFactory
from tests.test_admin import admin_url, change_form_data, errors_of

NUMBER = "EMEA/H/C/009901"
NEW_NUMBER = "EMEA/H/C/009902"
CURATORS_TEXT = "Written by the curator while the other writer saved."
#: How long a held import or lock waits for the test before it lets go on its own.
HELD_SECONDS = 20


@pytest.fixture(scope="module", autouse=True)
def _catalogue_back_afterwards(django_db_blocker, catalogue_data):
    """The transactional tests here empty the database: the next modules get the catalogue back."""
    yield
    with django_db_blocker.unblock():
        if not Product.objects.exists():
            load_catalogue(catalogue_data)


@pytest.fixture
def testagene(db):
    """An authorised product that the export below withdraws (and moves to a new holder)."""
    return ProductFactory(
        name="Testagene",
        slug="testagene",
        ema_product_number=NUMBER,
        authorisation_date=datetime.date(2021, 6, 1),
        description="As the page first showed it.",
    )


@pytest.fixture
def export(tmp_path):
    """Testagene withdrawn by a new holder, and a new product of another new holder."""
    rows = [
        medicine(
            name_of_medicine="Testagene",
            ema_product_number=NUMBER,
            marketing_authorisation_date="01/06/2021",
            medicine_status="Withdrawn",
            **{ema.END_DATE: "01/10/2025"},
        ),
        medicine(
            name_of_medicine="Novagene",
            ema_product_number=NEW_NUMBER,
            marketing_authorisation_developer_applicant_holder="Nova Holder B.V.",
        ),
    ]
    return write_workbook(tmp_path / "export.xlsx", rows)


def open_change_form(client, product) -> dict[str, object]:
    """The product's change page as the editor opened it, with their edit of the description."""
    page = client.get(admin_url(Product, "change", product.pk))
    assert page.status_code == 200
    return {**change_form_data(page), "description": CURATORS_TEXT}


def save(client, product, data):
    return client.post(admin_url(Product, "change", product.pk), data)


def form_value(response, name: str):
    return response.context["adminform"].form[name].value()


# Stale forms ----------------------------------------------------------------------------------


def test_a_form_opened_before_an_import_is_refused_naming_what_the_import_changed(
    admin_client, testagene, export
):
    data = open_change_form(admin_client, testagene)
    import_file(export, run_by="tester")

    response = save(admin_client, testagene, data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert errors[0].startswith("This product was changed by EMA import of export.xlsx (")
    assert errors[0].count("EMA import") == 1  # one writer, named once for its many records
    assert "nothing was saved" in errors[0]
    assert "Status: “Authorised” -> “Marketing authorisation withdrawn”" in errors
    assert "Status date: empty -> “2025-10-01”" in errors
    assert "ATC code: empty -> “B02BD16”" in errors
    assert "Holder: “Factory Holder" in next(e for e in errors if e.startswith("Holder:"))
    event = "Authorisation event “Withdrawal of the marketing authorisation (2025-10-01)” added"
    assert event in errors
    assert form_value(response, "description") == CURATORS_TEXT  # the input stays
    testagene.refresh_from_db()
    assert (testagene.status, testagene.status_date) == (
        Status.WITHDRAWN,
        datetime.date(2025, 10, 1),
    )
    assert testagene.description == "As the page first showed it."


def test_a_form_opened_before_another_editors_save_is_refused_naming_them(
    admin_client, client, django_user_model, testagene
):
    other = django_user_model.objects.create_superuser("second_curator", "c2@example.org", "pw")
    client.force_login(other)
    data = open_change_form(admin_client, testagene)
    theirs = {**open_change_form(client, testagene), "description": "Theirs.", "target": "SMN2"}
    assert save(client, testagene, theirs).status_code == 302

    response = save(admin_client, testagene, data)

    errors = errors_of(response)
    assert errors[0].startswith("This product was changed by second_curator (")
    assert "Target: “SMN1” -> “SMN2”" in errors
    assert "Description: “As the page first showed it.” -> “Theirs.”" in errors
    testagene.refresh_from_db()
    assert (testagene.description, testagene.target) == ("Theirs.", "SMN2")


def test_an_event_edited_on_its_own_page_makes_an_open_product_page_stale(admin_client, testagene):
    data = open_change_form(admin_client, testagene)
    event = testagene.events.get()
    event_page = admin_client.get(admin_url(AuthorisationEvent, "change", event.pk))
    event_data = {**change_form_data(event_page), "note": "Checked against the EPAR."}
    response = admin_client.post(admin_url(AuthorisationEvent, "change", event.pk), event_data)
    assert response.status_code == 302

    errors = errors_of(save(admin_client, testagene, data))

    assert "Authorisation event “Initial marketing authorisation (2021-06-01)” changed" in errors
    testagene.refresh_from_db()
    assert testagene.description == "As the page first showed it."


def test_a_fresh_form_saves_and_a_reloaded_page_saves_after_a_refusal(
    admin_client, testagene, export
):
    stale = open_change_form(admin_client, testagene)
    import_file(export, run_by="tester")
    assert save(admin_client, testagene, stale).status_code == 200

    response = save(admin_client, testagene, open_change_form(admin_client, testagene))

    assert response.status_code == 302, errors_of(response)
    testagene.refresh_from_db()
    assert (testagene.description, testagene.status) == (CURATORS_TEXT, Status.WITHDRAWN)
    assert testagene.events.filter(kind=EventKind.WITHDRAWAL).count() == 1


def test_a_revert_page_opened_before_an_import_is_refused(admin_client, testagene, export):
    first = testagene.history.earliest("history_date")
    revert_url = reverse("admin:products_product_simple_history", args=[testagene.pk, first.pk])
    data = change_form_data(admin_client.get(revert_url))
    import_file(export, run_by="tester")

    response = admin_client.post(revert_url, data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert errors[0].startswith("This product was changed by EMA import of export.xlsx (")
    assert "Status: “Authorised” -> “Marketing authorisation withdrawn”" in errors
    assert Product.objects.get(pk=testagene.pk).status == Status.WITHDRAWN


@pytest.mark.parametrize(
    "revision", ["", "yesterday", "2026-12-03T10:00:00+00:00|1|2", "2026-12-03T10:00:00|1|2|3"]
)
def test_a_missing_or_damaged_revision_is_a_form_error(admin_client, testagene, revision):
    data = {**open_change_form(admin_client, testagene), "revision": revision}

    response = save(admin_client, testagene, data)

    assert response.status_code == 200
    assert "does not say which version of the product it shows" in errors_of(response)[0]
    testagene.refresh_from_db()
    assert testagene.description == "As the page first showed it."


# Races: a thread with its own connection --------------------------------------------------------


class Held:
    """What a thread holding the catalogue did: ``result`` or ``error``."""

    def __init__(self):
        self.holding, self.release = threading.Event(), threading.Event()
        self.result = self.error = None


@contextlib.contextmanager
def in_a_thread(work, held: Held):
    """Run ``work(held)`` in a thread with its own connection until it holds; end it afterwards."""

    def run():
        try:
            held.result = work(held)
        except Exception as exc:  # reported to the test below
            held.error = exc
        finally:
            held.holding.set()  # never leave the test waiting
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert held.holding.wait(HELD_SECONDS)
        assert held.error is None, held.error
        yield held
    finally:
        held.release.set()
        thread.join(HELD_SECONDS)
    assert not thread.is_alive()


@contextlib.contextmanager
def import_held_open(export, monkeypatch):
    """The EMA import of ``export`` in a thread, stopped inside its transaction until the end."""
    real_importing, held = ema.importing, Held()

    @contextlib.contextmanager
    def importing_then_pause(what):
        with real_importing(what):
            yield
            if threading.current_thread() is not threading.main_thread():
                held.holding.set()  # every row written, nothing committed
                held.release.wait(HELD_SECONDS)

    monkeypatch.setattr(ema, "importing", importing_then_pause)
    with in_a_thread(lambda held: import_file(export, run_by="first importer"), held):
        yield held


def test_an_admin_save_during_an_import_is_refused_at_once_and_reverts_nothing(
    transactional_db, admin_client, testagene, export, monkeypatch
):
    data = open_change_form(admin_client, testagene)

    with import_held_open(export, monkeypatch) as held:
        response = save(admin_client, testagene, data)

    assert response.status_code == 200
    [error] = errors_of(response)
    assert error.startswith("An import is running since ")
    assert error.endswith("(EMA import of export.xlsx); nothing was saved; save again in a minute.")
    assert form_value(response, "description") == CURATORS_TEXT
    assert held.error is None and held.result.summary.startswith("created 1, updated 1")
    testagene.refresh_from_db()
    assert (testagene.status, testagene.status_date) == (
        Status.WITHDRAWN,
        datetime.date(2025, 10, 1),
    )
    assert testagene.holder.name == "Testa Biologics B.V."
    assert testagene.description == "As the page first showed it."


def test_an_admin_action_during_an_import_is_refused_with_a_message(
    transactional_db, admin_client, testagene, export, monkeypatch
):
    with import_held_open(export, monkeypatch):
        response = admin_client.post(
            admin_url(Product, "changelist"),
            {"action": "unpublish", "_selected_action": [testagene.pk]},
            follow=True,
        )

    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("An import is running since ")
    assert Product.objects.get(pk=testagene.pk).is_published is True


def test_a_second_import_is_refused_at_once_and_the_first_counts_once(
    transactional_db, testagene, export, monkeypatch, tmp_path
):
    second = shutil.copy(export, tmp_path / "second.xlsx")
    withdrawals = AuthorisationEvent.objects.filter(kind=EventKind.WITHDRAWAL)
    before = list(withdrawals.values_list("pk", flat=True))

    with import_held_open(export, monkeypatch) as held:
        for dry_run in ((), ("--dry-run",)):
            with pytest.raises(CommandError) as refused:
                call_command("import_ema", str(second), *dry_run, stdout=io.StringIO())
            message = str(refused.value)
            assert message.startswith(f"{second}: another import is running since ")
            assert message.endswith("(EMA import of export.xlsx); try again when it has finished")
            assert "\n" not in message

    assert held.error is None and held.result.summary.startswith("created 1, updated 1")
    out = io.StringIO()
    call_command("import_ema", str(second), stdout=out)  # after the first: nothing new
    assert out.getvalue().splitlines()[-1].startswith("created 0, updated 0, unchanged 2")
    added = withdrawals.exclude(pk__in=before)
    assert list(added.values_list("product__slug", flat=True)) == ["testagene"]
    assert Company.objects.filter(name="Testa Biologics B.V.").count() == 1
    assert Company.objects.filter(name="Nova Holder B.V.").count() == 1
    assert Product.objects.filter(ema_product_number=NEW_NUMBER).count() == 1
    assert list(ImportRun.objects.values_list("file_name", flat=True).order_by("pk")) == [
        "export.xlsx",
        "second.xlsx",
    ]


def test_the_admin_import_form_during_an_import_shows_one_line(
    transactional_db, admin_client, testagene, export, monkeypatch
):
    with import_held_open(export, monkeypatch), open(export, "rb") as upload:
        response = admin_client.post(
            reverse("admin:products_importrun_import"), {"file": upload, "action": "preview"}
        )

    assert response.status_code == 200
    [error] = response.context["form"].errors["file"]
    assert error.startswith("another import is running since ")
    assert ImportRun.objects.count() == 1  # the first one's


def test_a_save_that_waits_too_long_for_a_row_is_a_form_error(
    transactional_db, admin_client, testagene, settings
):
    """A writer outside the locks (a shell, say) holds the product's row: the save gives up."""
    settings.CATALOGUE_LOCK_TIMEOUT = 0.2
    data = open_change_form(admin_client, testagene)

    def hold_the_row(held):
        with transaction.atomic():
            Product.objects.select_for_update().get(pk=testagene.pk)
            held.holding.set()
            held.release.wait(HELD_SECONDS)

    with in_a_thread(hold_the_row, Held()):
        response = save(admin_client, testagene, data)

    assert response.status_code == 200
    assert errors_of(response) == [
        "Another writer held the catalogue for more than 0.2 seconds; nothing was saved; "
        "save again."
    ]
    assert Product.objects.get(pk=testagene.pk).description == "As the page first showed it."


def test_an_import_waits_only_so_long_for_admin_saves_in_flight(
    transactional_db, testagene, export, settings
):
    settings.CATALOGUE_LOCK_TIMEOUT = 0.2

    def save_in_flight(held):
        with transaction.atomic():
            hold_for_edit()
            held.holding.set()
            held.release.wait(HELD_SECONDS)

    with in_a_thread(save_in_flight, Held()), pytest.raises(CommandError) as refused:
        call_command("import_ema", str(export), stdout=io.StringIO())

    assert str(refused.value) == (
        f"{export}: another writer held the catalogue for more than 0.2 seconds; "
        "nothing was changed; try again"
    )
    assert Product.objects.get(pk=testagene.pk).status == Status.AUTHORISED


def test_a_unique_row_written_meanwhile_is_one_line_not_a_traceback(db, testagene):
    with pytest.raises(CatalogueBusy) as refused:
        with importing("EMA import of export.xlsx"):
            Company.objects.create(name=testagene.holder.name, slug=testagene.holder.slug)

    message = str(refused.value)
    assert message.startswith("another writer changed the catalogue meanwhile (duplicate key")
    assert message.endswith("nothing was changed; try again") and "\n" not in message
    assert connection.in_atomic_block  # the test's own transaction, still usable
    assert Company.objects.filter(slug=testagene.holder.slug).count() == 1


def test_a_unique_row_another_save_wrote_first_is_a_form_error(admin_client, monkeypatch):
    """Two editors add the same holder at once: the second save's insert fails in the database."""

    def insert_fails(*args):
        raise IntegrityError(
            'duplicate key value violates unique constraint "products_company_slug"'
        )

    monkeypatch.setattr(admin.site._registry[Company], "save_model", insert_fails)
    data = {"name": "Twice Holder B.V.", "slug": "twice-holder-bv"}

    response = admin_client.post(admin_url(Company, "add"), data)

    assert response.status_code == 200
    assert errors_of(response) == [
        "Another save wrote the same record meanwhile; nothing was saved."
    ]
    assert response.context["adminform"].form["name"].value() == "Twice Holder B.V."
    assert not Company.objects.filter(slug="twice-holder-bv").exists()


def test_a_deadlock_postgresql_ended_is_a_refusal_and_other_errors_are_not():
    def wrapped(cause: Exception) -> OperationalError:
        error = OperationalError(str(cause))
        error.__cause__ = cause
        return error

    assert lock_conflict(wrapped(errors.DeadlockDetected("deadlock detected"))) == (
        "another writer was waiting for rows this one held, and this one gave way"
    )
    assert lock_conflict(wrapped(errors.LockNotAvailable("canceling statement"))).startswith(
        "another writer held the catalogue for more than "
    )
    assert lock_conflict(wrapped(errors.AdminShutdown("terminating connection"))) is None
