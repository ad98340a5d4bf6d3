"""Several instances, one primary, one replica, one Redis: the deployment of docker-compose.yml,
with real engines started here on loopback (tests/deployment.py).

Two gunicorn servers (``web-a`` and ``web-b``, two workers each) share a Redis server, a
PostgreSQL primary and its streaming replica, behind no proxy but with ``TRUSTED_PROXY_COUNT=1``:
each request says who its client is in ``X-Forwarded-For``, as Caddy would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from functools import partial
from html.parser import HTMLParser

import pytest
import requests
from django.db import connection

from tests.deployment import (
    redis_server_program,
    start_primary_and_replica,
    start_redis,
    wait_for_replay,
)
from tests.served import BASE_DIR, copy_database_to, start_gunicorn

PROGRAM = redis_server_program()
if PROGRAM is None:
    print("\ntests/test_deployment.py: no redis-server or valkey-server (make test installs one)")
pytestmark = pytest.mark.skipif(
    PROGRAM is None, reason="redis-server is not installed and could not be (needs root and apt)"
)

DATABASE = "atmp_deployment"
RATE = 30  # anonymous API requests per minute and client
METRICS_TOKEN = "tests-metrics-token"
PASSWORD = "a-long-tests-only-passphrase"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, catalogue_template):
    folder = tmp_path_factory.mktemp("deployment")
    redis = start_redis(PROGRAM, folder)
    servers = {}
    catalogue = partial(copy_database_to, connection.settings_dict, catalogue_template)
    try:
        primary, replica, pg_folder = start_primary_and_replica(DATABASE, catalogue)
    except BaseException:
        redis.stop()
        raise
    try:
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--noinput"]
            + ["--username", "editor", "--email", "editor@example.org"],
            cwd=BASE_DIR,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.served_settings",  # the servers' settings
                "DATABASE_URL": primary.url(DATABASE),
                "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            },
            check=True,
            capture_output=True,
        )
        wait_for_replay(primary, replica)
        for name in ("web-a", "web-b"):
            servers[name] = start_gunicorn(
                primary.url(DATABASE, name),
                folder / f"{name}.log",
                DATABASE_REPLICA_URL=replica.url(DATABASE, name),
                REDIS_URL=redis.url,
                TRUSTED_PROXY_COUNT="1",
                API_ANON_RATE=f"{RATE}/minute",
                CATALOGUE_VERSION_MAX_AGE="0",
                METRICS_TOKEN=METRICS_TOKEN,
            )
        yield {
            "a": servers["web-a"],
            "b": servers["web-b"],
            "primary": primary,
            "replica": replica,
            "redis": redis,
        }
    finally:
        for server in servers.values():
            server.stop()
        replica.stop()
        primary.stop()
        redis.stop()
        shutil.rmtree(pg_folder, ignore_errors=True)


def client_address() -> str:
    """A fresh client address for each test (documentation range), so throttles don't meet."""
    number = uuid.uuid4().int
    return f"198.51.{number % 256}.{(number >> 8) % 254 + 1}"


def visit(server, path: str, client: str | None = None, **headers) -> requests.Response:
    """A visitor's GET, through the proxy as it were: one public host for every instance (cache
    keys include the host), the client's address in X-Forwarded-For."""
    headers = {"Host": "127.0.0.1", "X-Forwarded-For": client or client_address(), **headers}
    return requests.get(server.base + path, headers=headers, timeout=30, allow_redirects=False)


class FormReader(HTMLParser):
    """The fields a browser would send with a page's main form: inputs, selects, textareas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if "checked" in attrs else "")))
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data):
        if self.textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False


def editor_session(server) -> requests.Session:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = client_address()
    session.get(server.base + "/admin/login/", timeout=30)
    response = session.post(
        server.base + "/admin/login/?next=/admin/",
        data={
            "username": "editor",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def product_id(cluster, slug: str) -> int:
    return cluster["primary"].query(
        f"SELECT id FROM products_product WHERE slug = '{slug}'", DATABASE
    )[0][0]


def rename_in_admin(session, server, pk: int, name: str) -> None:
    """Save a product's admin page with a new name, every other field as the page shows it."""
    url = f"{server.base}/admin/products/product/{pk}/change/"
    page = session.get(url, timeout=30)
    reader = FormReader("product_form")
    reader.feed(page.text)
    fields = [(key, name if key == "name" else value) for key, value in reader.fields]
    assert ("name", name) in fields
    response = session.post(
        url, data=fields + [("_continue", "1")], timeout=60, allow_redirects=False
    )
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.text)


def test_the_throttle_is_shared_and_names_the_client_the_proxy_saw(cluster):
    client = client_address()
    answers = [
        visit(cluster["a" if i % 2 else "b"], "/api/v1/categories/", client).status_code
        for i in range(RATE)
    ]
    assert answers == [200] * RATE
    assert visit(cluster["a"], "/api/v1/categories/", client).status_code == 429
    assert visit(cluster["b"], "/api/v1/categories/", client).status_code == 429
    # What the client wrote itself before the proxy's entry changes nothing.
    forged = f"203.0.113.9, {client}"
    assert visit(cluster["b"], "/api/v1/categories/", forged).status_code == 429
    assert visit(cluster["a"], "/api/v1/categories/", client_address()).status_code == 200


def metric(server, kind: str, result: str) -> float:
    response = visit(server, "/metrics", Authorization=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    pattern = rf'^atmp_catalogue_cache_requests_total\{{kind="{kind}",result="{result}"\}} (\S+)$'
    found = re.search(pattern, response.text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_are_private_and_count_the_catalogue_cache(cluster):
    assert visit(cluster["a"], "/metrics").status_code == 404
    assert visit(cluster["a"], "/metrics", Authorization="Bearer wrong").status_code == 404
    before = metric(cluster["a"], "page", "miss")
    assert visit(cluster["a"], f"/products/?q=kymriah&n={uuid.uuid4().hex}").status_code == 200
    assert metric(cluster["a"], "page", "miss") == before + 1


def test_a_page_is_computed_once_across_instances(cluster):
    path = f"/products/?category=gene-therapy&n={uuid.uuid4().hex}"
    before = {(s, r): metric(cluster[s], "page", r) for s in "ab" for r in ("hit", "miss")}
    answers = []

    def ask(server):
        answers.append(visit(server, path).status_code)

    threads = [threading.Thread(target=ask, args=(cluster["ab"[i % 2]],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8
    after = {(s, r): metric(cluster[s], "page", r) for s in "ab" for r in ("hit", "miss")}
    delta = {key: after[key] - before[key] for key in after}
    assert delta[("a", "miss")] + delta[("b", "miss")] == 1, delta
    assert delta[("a", "hit")] + delta[("b", "hit")] == 7, delta


def test_visitors_read_only_the_replica_and_an_admin_save_only_the_primary(cluster):
    primary, replica = cluster["primary"], cluster["replica"]
    offsets = primary.log_size(), replica.log_size()
    fresh = uuid.uuid4().hex
    for path in (f"/products/?n={fresh}", "/products/kymriah/", f"/api/v1/products/?n={fresh}"):
        assert visit(cluster["b"], path).status_code == 200
    assert visit(cluster["b"], f"/products/export.csv?n={fresh}").status_code == 200
    on_primary = primary.statements_since(offsets[0], "web-b")
    on_replica = replica.statements_since(offsets[1], "web-b")
    assert on_primary == []
    assert any("products_catalogueversion" in line for line in on_replica)
    assert any("products_product" in line for line in on_replica)

    session = editor_session(cluster["a"])
    offsets = primary.log_size(), replica.log_size()
    pk = product_id(cluster, "luxturna")
    rename_in_admin(session, cluster["a"], pk, "Luxturna")
    on_primary = primary.statements_since(offsets[0], "web-a")
    assert any("UPDATE" in line and "products_product" in line for line in on_primary)
    assert replica.statements_since(offsets[1], "web-a") == []


def test_an_edit_through_one_instance_shows_at_once_on_the_other(cluster):
    assert "Strimvelis" in visit(cluster["b"], "/products/strimvelis/").text
    session = editor_session(cluster["a"])
    rename_in_admin(session, cluster["a"], product_id(cluster, "strimvelis"), "Strimvelis Edited")
    wait_for_replay(cluster["primary"], cluster["replica"])
    assert "Strimvelis Edited" in visit(cluster["b"], "/products/strimvelis/").text
    rename_in_admin(session, cluster["b"], product_id(cluster, "strimvelis"), "Strimvelis")


def test_a_lagging_replica_never_caches_old_data_under_a_new_version(cluster):
    primary, replica = cluster["primary"], cluster["replica"]
    pk = product_id(cluster, "imlygic")
    session = editor_session(cluster["a"])
    replica.query("SELECT pg_wal_replay_pause()")
    try:
        rename_in_admin(session, cluster["a"], pk, "Imlygic Renamed")
        # The editor reads the primary: the edit at once.
        assert "Imlygic Renamed" in session.get(cluster["a"].base + "/products/imlygic/").text
        # Visitors read the paused replica: the old page, cached under the old version.
        for server in ("a", "b"):
            page = visit(cluster[server], "/products/imlygic/").text
            assert "Imlygic Renamed" not in page and "Imlygic" in page
    finally:
        replica.query("SELECT pg_wal_replay_resume()")
    wait_for_replay(primary, replica)
    for server in ("a", "b"):
        assert "Imlygic Renamed" in visit(cluster[server], "/products/imlygic/").text
    rename_in_admin(session, cluster["a"], pk, "Imlygic")


def test_an_import_previewed_on_one_instance_is_confirmed_on_the_other(cluster):
    session = editor_session(cluster["a"])
    export = BASE_DIR / "fixtures" / "source" / "ema_medicines_output_2025-10-27.xlsx"
    url = "/admin/products/importrun/import/"
    session.get(cluster["a"].base + url, timeout=30)
    with export.open("rb") as handle:
        preview = session.post(
            cluster["a"].base + url,
            data={"action": "preview", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            files={"file": (export.name, handle)},
            timeout=120,
        )
    assert preview.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    confirm = session.post(
        cluster["b"].base + url,
        data={
            "action": "confirm",
            "token": token,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=120,
        allow_redirects=False,
    )
    assert confirm.status_code == 302
    assert re.search(r"/admin/products/importrun/\d+/change/$", confirm.headers["Location"])


def wrong_password(session, server) -> requests.Response:
    """Mallory signs in with a wrong password on ``server`` (the session holds a CSRF cookie)."""
    return session.post(
        server.base + "/admin/login/",
        data={
            "username": "mallory",
            "password": "wrong",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
    )


def test_axes_locks_out_one_user_name_from_one_address_only(cluster):
    address = client_address()
    for _ in range(5):
        session = requests.Session()
        session.headers["X-Forwarded-For"] = address
        session.get(cluster["a"].base + "/admin/login/", timeout=30)
        wrong_password(session, cluster["b"])
    blocked = wrong_password(session, cluster["a"])
    assert blocked.status_code == 429
    # The editor behind the same proxy address still signs in.
    editor = requests.Session()
    editor.headers["X-Forwarded-For"] = address
    editor.get(cluster["b"].base + "/admin/login/", timeout=30)
    signed_in = editor.post(
        cluster["b"].base + "/admin/login/?next=/admin/",
        data={
            "username": "editor",
            "password": PASSWORD,
            "next": "/admin/",
            "csrfmiddlewaretoken": editor.cookies["csrftoken"],
        },
        timeout=30,
        allow_redirects=False,
    )
    assert signed_in.status_code == 302
