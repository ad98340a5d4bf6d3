"""Versioned releases (`manage.py release`, `/data/`): API data, checksums, schema, changes."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from products import releases
from products.choices import Status
from products.csv_export import HEADER
from products.models import Product
from tests.factories import ProductFactory

NOW = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def release_settings(settings, tmp_path):
    """Releases in a fresh folder, with the links of the test client's requests."""
    settings.RELEASES_DIR = tmp_path / "releases"
    settings.SITE_URL = "http://testserver"
    cache.clear()  # the API's throttle
    return settings


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def api_products(client) -> list[dict]:
    """Every published product from the API: all eleven statuses, by name."""
    query = urlencode(
        [("status", value) for value in Status.values] + [("page_size", "100")], doseq=True
    )
    url = f"{reverse('api:product-list')}?{query}"
    results = []
    while url:
        body = client.get(url).json()
        results += body["results"]
        url = body["next"]
    return results


def test_a_release_reproduces_the_apis_data_exactly(client, catalogue):
    release = releases.write_release(now=NOW)
    data = json.loads((release.path / "catalogue.json").read_text(encoding="utf-8"))
    from_api = api_products(client)
    assert len(from_api) == Product.objects.published().count() > 40
    assert data["count"] == len(from_api)
    assert data["results"] == from_api
    # One product read on its own too: the same JSON as its API resource.
    kymriah = next(record for record in data["results"] if record["slug"] == "kymriah")
    assert kymriah == client.get(reverse("api:product-detail", args=["kymriah"])).json()
    assert {"refused", "authorised", "withdrawn"} <= {r["status"] for r in data["results"]}


def test_drafts_stay_out_of_a_release(client, catalogue):
    draft = ProductFactory(is_published=False, name="Draftex", slug="draftex")
    release = releases.write_release(now=NOW)
    data = json.loads((release.path / "catalogue.json").read_text(encoding="utf-8"))
    assert draft.slug not in {record["slug"] for record in data["results"]}
    assert f",{draft.slug}," not in (release.path / "catalogue.csv").read_text(encoding="utf-8")


def test_the_csv_of_a_release_is_the_export_of_every_published_product(client, catalogue):
    release = releases.write_release(now=NOW)
    text = (release.path / "catalogue.csv").read_bytes().decode("utf-8")
    query = urlencode([("status", value) for value in Status.values], doseq=True)
    export = b"".join(client.get(f"{reverse('products:product_export')}?{query}").streaming_content)
    assert text == export.decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == Product.objects.published().count()


def test_every_checksum_holds(catalogue):
    release = releases.write_release(now=NOW)
    lines = (release.path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    named = {}
    for line in lines:
        digest, name = line.split("  ")
        named[name] = digest
        assert sha256(release.path / name) == digest, name
    assert set(named) == set(releases.FILES) - {"SHA256SUMS"}
    # As `sha256sum --check` reads them.
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"],
        cwd=release.path,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        path = release.path / resource["path"]
        assert resource["hash"] == f"sha256:{sha256(path)}"
        assert resource["bytes"] == path.stat().st_size
    # The page shows the same figures.
    listed = releases.list_releases()[0]
    assert {file.name: file.sha256 for file in listed.files} == {
        **named,
        "SHA256SUMS": sha256(release.path / "SHA256SUMS"),
    }


def test_the_datapackage_states_licence_sources_date_and_version(catalogue):
    release = releases.write_release(now=NOW)
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["name"] == "atmp-catalogue"
    assert package["version"] == release.version == "2026-12-03"
    assert package["created"] == "2026-12-03T10:00:00+00:00"
    assert package["licenses"] == [
        {
            "name": "CC-BY-4.0",
            "title": "Creative Commons Attribution 4.0 International",
            "path": "https://creativecommons.org/licenses/by/4.0/",
        }
    ]
    assert any("European Medicines Agency" in source["title"] for source in package["sources"])
    assert all(source["path"].startswith("https://") for source in package["sources"])
    assert [r["path"] for r in package["resources"]] == [
        "catalogue.csv",
        "catalogue.json",
        "changelog.json",
        "changelog.md",
    ]
    assert all(re.fullmatch(r"[a-z0-9._-]+", r["name"]) for r in package["resources"])


def check_value(field: dict, value: str, missing: list[str]) -> str | None:
    """Why ``value`` breaks the Table Schema ``field``, or None (the rules this package uses)."""
    constraints = field.get("constraints", {})
    if value in missing:
        return "required" if constraints.get("required") else None
    kind = field["type"]
    if kind == "boolean" and value not in field["trueValues"] + field["falseValues"]:
        return f"not a boolean: {value!r}"
    if kind == "date":
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return f"not a date: {value!r}"
    if kind == "datetime":
        try:
            datetime.datetime.fromisoformat(value)
        except ValueError:
            return f"not a datetime: {value!r}"
    if field.get("format") == "uri" and not re.match(r"https?://\S+$", value):
        return f"not a URI: {value!r}"
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
        return f"does not match {constraints['pattern']}: {value!r}"
    if "enum" in constraints and value not in constraints["enum"]:
        return f"not one of {constraints['enum']}: {value!r}"
    return None


def test_every_csv_row_holds_to_the_packages_schema(catalogue):
    release = releases.write_release(now=NOW)
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    resource = package["resources"][0]
    schema = resource["schema"]
    with (release.path / resource["path"]).open(encoding=resource["encoding"], newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert header == [field["name"] for field in schema["fields"]] == HEADER
    assert all(field.get("description") for field in schema["fields"])
    problems = [
        f"row {number} {field['name']}: {problem}"
        for number, row in enumerate(rows, start=2)
        for field, value in zip(schema["fields"], row, strict=True)
        if (problem := check_value(field, value, schema["missingValues"]))
    ]
    assert problems == []
    slugs = [row[header.index("slug")] for row in rows]
    assert len(slugs) == len(set(slugs)) == Product.objects.published().count()
    # The flags are typed: "yes" and "no" in the file, as the schema declares.
    orphan = next(field for field in schema["fields"] if field["name"] == "orphan")
    assert orphan["type"] == "boolean" and orphan["trueValues"] == ["yes"]
    assert {row[header.index("orphan")] for row in rows} >= {"yes", "no"}


def test_the_schema_check_catches_a_bad_value():
    """The checker above is not a formality: it refuses what the schema does."""
    flag = releases.csv_field("conditional")
    assert check_value(flag, "maybe", releases.MISSING_VALUES)
    assert check_value(releases.csv_field("status_date"), "2026-13-01", releases.MISSING_VALUES)
    assert check_value(releases.csv_field("slug"), "Not A Slug", releases.MISSING_VALUES)
    assert check_value(releases.csv_field("slug"), "not known", releases.MISSING_VALUES)
    assert check_value(flag, "not applicable", releases.MISSING_VALUES) is None


def test_the_changelog_names_products_added_removed_and_facts_changed(catalogue):
    first = releases.write_release(now=NOW)
    assert first.changes["previous"] is None
    assert len(first.changes["added"]) == first.product_count
    kymriah = Product.objects.get(slug="kymriah")
    kymriah.atc_code = "L01XL04"
    kymriah.platform = "CAR-T (changed)"
    kymriah.save()
    Product.objects.filter(slug="luxturna").update(is_published=False)
    ProductFactory(name="Newgenex", slug="newgenex")
    second = releases.write_release(now=NOW + datetime.timedelta(hours=2))
    assert second.version == "2026-12-03.2"
    changes = second.changes
    assert changes["previous"] == "2026-12-03"
    assert changes["added"] == [{"slug": "newgenex", "name": "Newgenex"}]
    assert changes["removed"] == [{"slug": "luxturna", "name": "Luxturna"}]
    assert {"slug": "kymriah", "name": "Kymriah", "fields": ["platform"]} in changes["changed"]
    assert len(changes["changed"]) == 1  # updated_at moved for Kymriah only: not a fact
    text = (second.path / "changelog.md").read_text(encoding="utf-8")
    assert "- Newgenex (`newgenex`)" in text
    assert "- Kymriah (`kymriah`): platform" in text
    assert "Changes since release 2026-12-03." in text


def test_a_new_site_address_alone_changes_no_fact(catalogue, settings):
    releases.write_release(now=NOW)
    settings.SITE_URL = "https://atmp.example.org"
    second = releases.write_release(now=NOW)
    data = json.loads((second.path / "catalogue.json").read_text(encoding="utf-8"))
    assert data["results"][0]["url"].startswith("https://atmp.example.org/api/v1/products/")
    assert second.changes["changed"] == []


def test_releases_are_listed_newest_first_and_latest_is_stable(client, catalogue):
    first = releases.write_release(now=NOW)
    second = releases.write_release(now=NOW + datetime.timedelta(days=1))
    assert [r.version for r in releases.list_releases()] == ["2026-12-04", "2026-12-03"]
    latest = client.get("/data/latest/catalogue.json")
    assert latest.status_code == 200
    assert latest["Content-Type"] == "application/json"
    body = b"".join(latest.streaming_content)
    assert body == (second.path / "catalogue.json").read_bytes()
    assert json.loads(body)["release"] == "2026-12-04"
    older = client.get(f"/data/{first.version}/catalogue.csv")
    assert b"".join(older.streaming_content) == (first.path / "catalogue.csv").read_bytes()
    assert "immutable" in older["Cache-Control"]
    assert older["ETag"] == f'"{sha256(first.path / "catalogue.csv")}"'
    again = client.get(f"/data/{first.version}/catalogue.csv", HTTP_IF_NONE_MATCH=older["ETag"])
    assert again.status_code == 304
    stale = client.get("/data/latest/catalogue.json", HTTP_IF_NONE_MATCH=older["ETag"])
    assert stale.status_code == 200


def test_the_data_page_lists_each_release_with_date_size_checksum_and_licence(client, catalogue):
    release = releases.write_release(now=NOW)
    page = client.get(reverse("products:data_releases"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Release 2026-12-03" in html
    assert "3 December 2026" in html
    assert release.files[0].sha256 in html
    assert f"{release.file('catalogue.json').size:,} bytes" in html
    assert "Creative Commons Attribution 4.0 International" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in html
    assert 'href="/data/latest/catalogue.json"' in html
    assert "ATMP Catalogue (release 2026-12-03)" in html  # how to cite it


def test_the_data_page_without_releases_says_so(client, db):
    page = client.get(reverse("products:data_releases"))
    assert page.status_code == 200
    assert "No release has been published yet" in page.content.decode()
    assert client.get("/data/latest/catalogue.json").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/data/2026-12-03/passwd",
        "/data/2026-12-03/..%2F..%2Fsettings.py",
        "/data/..%2F..%2F/catalogue.json",
        "/data/2026-99-99/catalogue.json",
        "/data/latest/.writing-x",
        "/data/not-a-version/catalogue.json",
    ],
)
def test_anything_but_a_releases_file_is_a_404(client, catalogue, path):
    releases.write_release(now=NOW)
    assert client.get(path).status_code == 404


def test_a_release_half_written_is_not_listed(catalogue):
    release = releases.write_release(now=NOW)
    (Path(django_settings.RELEASES_DIR) / ".writing-abc").mkdir()
    broken = Path(django_settings.RELEASES_DIR) / "2026-12-05"
    broken.mkdir()
    (broken / "catalogue.json").write_text("{}")
    assert [r.version for r in releases.list_releases()] == [release.version]


def test_a_version_taken_meanwhile_gives_the_next(catalogue, monkeypatch):
    """Two writers at once: the rename of the second finds the version taken and retries."""
    first = releases.write_release(now=NOW)
    calls = []
    real = releases.next_version

    def stale(today, directory):  # the first attempt still sees no release of that day
        calls.append(today)
        return "2026-12-03" if len(calls) == 1 else real(today, directory)

    monkeypatch.setattr(releases, "next_version", stale)
    second = releases.write_release(now=NOW)
    assert (first.version, second.version) == ("2026-12-03", "2026-12-03.2")
    assert len(calls) == 2
    assert json.loads((first.path / "catalogue.json").read_text())["release"] == "2026-12-03"
    assert not list(Path(django_settings.RELEASES_DIR).glob(".writing-*"))


def test_the_release_queries_are_bounded(catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        releases.write_release(now=NOW)


def test_the_command_prints_the_release_and_its_checksums(catalogue, tmp_path):
    out = io.StringIO()
    call_command("release", "--directory", str(tmp_path / "elsewhere"), stdout=out)
    text = out.getvalue()
    version = timezone.localdate().isoformat()
    assert text.startswith(f"release {version}: {Product.objects.published().count()} products")
    assert "since nothing (first release): added" in text
    digest = sha256(tmp_path / "elsewhere" / version / "catalogue.json")
    assert f"{digest}" in text and "catalogue.json" in text


def test_the_command_fails_in_one_line_where_it_cannot_write(catalogue, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(CommandError) as error:
        call_command("release", "--directory", str(blocked / "releases"))
    assert str(error.value).startswith(str(blocked / "releases"))
    assert "\n" not in str(error.value)


def test_the_command_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "manage.py", "release", "--directory", str(blocked / "releases")],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "Not a directory" in result.stderr
