"""/healthz reports whether the database answers."""

from unittest import mock

from django.db import OperationalError
from django.urls import reverse


def test_healthz_is_ok_when_the_database_answers(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_with_a_reason_when_the_database_is_down(client, db, caplog):
    failure = OperationalError('connection to server at "db" failed: Connection refused')
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=failure):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "unavailable",
        "reason": "database unavailable",
    }
    assert response["Retry-After"] == "30"
    assert "no-cache" in response["Cache-Control"]
    # The details are for the operator: in the log, not in the answer.
    assert 'connection to server at "db" failed: Connection refused' in caplog.text
