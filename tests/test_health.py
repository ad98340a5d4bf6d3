"""/healthz reports whether the database answers."""

from unittest import mock

from django.db import OperationalError
from django.urls import reverse


def test_healthz_is_ok_when_the_database_answers(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_with_a_reason_when_the_database_is_down(client, db):
    failure = OperationalError('connection to server at "db" failed: Connection refused')
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=failure):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "unavailable"
    assert "Connection refused" in body["reason"]
