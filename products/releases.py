"""Versioned releases of the open data: the whole public catalogue as files, kept and listed.

A release is a folder of ``settings.RELEASES_DIR`` named by its version, the release date
(``2026-12-03``, then ``2026-12-03.2`` for a second release that day), holding:

- ``catalogue.json``: every published product exactly as the API gives it (``ProductSerializer``,
  its links made absolute with ``settings.SITE_URL``), all eleven statuses, by name;
- ``catalogue.csv``: the same products as the CSV export's columns (``csv_export``), UTF-8
  without the byte-order mark that spreadsheets need;
- ``changelog.json`` and ``changelog.md``: products added, removed and whose facts changed since
  the previous release;
- ``datapackage.json``: a Frictionless Data Package describing the files (the schema of every
  CSV column, the licence, the sources, the release date), each file with its size and SHA-256;
- ``SHA256SUMS``: the checksum of every other file, as ``sha256sum --check`` reads it.

A release is written in a hidden folder beside the others and renamed into place when complete
(a rename is atomic), so a reader, on this machine or another sharing the folder, sees a release
whole or not at all; two releases written at once get two versions. Releases are never changed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from products.api.serializers import ProductSerializer
from products.csv_export import BYTE_ORDER_MARK, stream_products_csv
from products.flags import FLAGS
from products.models import Product

LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
SOURCES = [
    {
        "title": "European Medicines Agency: medicines data export (Download medicine data)",
        "path": "https://www.ema.europa.eu/en/medicines/download-medicine-data",
    },
    {
        "title": "European Medicines Agency: European public assessment reports (EPAR)",
        "path": "https://www.ema.europa.eu/en/medicines",
    },
    {
        "title": "European Commission: Union Register of medicinal products",
        "path": "https://ec.europa.eu/health/documents/community-register/html/",
    },
]
VERSION_RE = re.compile(r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:\.(?P<n>[1-9][0-9]{0,3}))?$")
#: The files of a release, in the order the page lists them.
FILES = (
    "catalogue.json",
    "catalogue.csv",
    "datapackage.json",
    "changelog.json",
    "changelog.md",
    "SHA256SUMS",
)
MEDIA_TYPES = {
    "catalogue.json": "application/json",
    "catalogue.csv": "text/csv; charset=utf-8",
    "datapackage.json": "application/json",
    "changelog.json": "application/json",
    "changelog.md": "text/markdown; charset=utf-8",
    "SHA256SUMS": "text/plain; charset=utf-8",
}
#: Keys of a product's JSON that are not facts: a change of them alone is not news (the links
#: follow SITE_URL and the slug, whose change is a product removed and another added).
NOT_FACTS = ("updated_at", "url", "html_url")
NOT_KNOWN = "not known"
MISSING_VALUES = ["", NOT_KNOWN, "not applicable"]


class ReleaseError(Exception):
    """A release could not be written or read; the message says why, in one line."""


@dataclass(frozen=True)
class ReleaseFile:
    name: str
    size: int
    sha256: str


@dataclass
class Release:
    version: str
    path: Path
    released_at: datetime.datetime | None
    product_count: int | None
    files: list[ReleaseFile] = field(default_factory=list)
    changes: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    def file(self, name: str) -> ReleaseFile | None:
        return next((file for file in self.files if file.name == name), None)


def releases_dir() -> Path:
    return Path(settings.RELEASES_DIR)


def version_key(version: str) -> tuple[str, int]:
    match = VERSION_RE.match(version)
    if match is None:
        raise ValueError(f"not a release version: {version!r}")
    return match["date"], int(match["n"] or 1)


# --- Reading -----------------------------------------------------------------------------------


def read_release(path: Path) -> Release:
    """The release in ``path``, from its ``datapackage.json`` and ``SHA256SUMS`` (no hashing)."""
    try:
        package = json.loads((path / "datapackage.json").read_text(encoding="utf-8"))
        sums = (path / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        changes = json.loads((path / "changelog.json").read_text(encoding="utf-8"))
        files = []
        for line in sums:
            digest, _sep, name = line.partition("  ")
            files.append(ReleaseFile(name, (path / name).stat().st_size, digest))
        sums_file = path / "SHA256SUMS"
        files.append(ReleaseFile("SHA256SUMS", sums_file.stat().st_size, sha256_of(sums_file)))
        created = datetime.datetime.fromisoformat(package["created"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReleaseError(f"{path}: not a readable release ({exc})") from exc
    order = {name: index for index, name in enumerate(FILES)}
    files.sort(key=lambda file: order.get(file.name, len(order)))
    return Release(
        version=path.name,
        path=path,
        released_at=created,
        product_count=package.get("x-product-count"),
        files=files,
        changes=changes,
    )


def _versions(directory: Path) -> list[str]:
    """The names of the release folders, newest first."""
    try:
        names = [entry.name for entry in os.scandir(directory) if entry.is_dir()]
    except FileNotFoundError:
        return []
    return sorted(filter(VERSION_RE.match, names), key=version_key, reverse=True)


def _readable(directory: Path):
    for name in _versions(directory):
        try:
            yield read_release(directory / name)
        except ReleaseError:
            continue  # not a complete release: skipped


def list_releases(directory: Path | None = None) -> list[Release]:
    """Every complete release, newest first; a folder that is not a release is skipped."""
    return list(_readable(directory or releases_dir()))


def find_release(version: str, directory: Path | None = None) -> Release | None:
    """The release ``version`` (``latest``: the newest), or None."""
    directory = directory or releases_dir()
    if version == "latest":
        return next(_readable(directory), None)
    if not VERSION_RE.match(version) or not (directory / version).is_dir():
        return None
    try:
        return read_release(directory / version)
    except ReleaseError:
        return None


# --- Writing -----------------------------------------------------------------------------------


class SiteRequest(HttpRequest):
    """A request for ``settings.SITE_URL``: the serializers' absolute links without a visitor."""

    def __init__(self, site_url: str):
        super().__init__()
        parts = urlsplit(site_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ReleaseError(f"SITE_URL {site_url!r} is not an http(s) address")
        self._site_scheme, self._site_host = parts.scheme, parts.netloc
        self.method = "GET"
        self.path = self.path_info = "/"

    def _get_scheme(self) -> str:
        return self._site_scheme

    def get_host(self) -> str:
        return self._site_host


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def public_products():
    """The whole public catalogue, every status, by name."""
    return Product.objects.published().order_by("name", "slug")


def catalogue_records(request: HttpRequest) -> list[dict]:
    """Every published product as the API gives it (one fixed number of queries)."""
    products = public_products().with_related()
    return json.loads(
        json.dumps(
            ProductSerializer(products, many=True, context={"request": request}).data,
            cls=JSONEncoder,
        )
    )


def catalogue_csv(request: HttpRequest) -> str:
    from products.csv_export import product_url_maker

    text = "".join(stream_products_csv(public_products(), url_of=product_url_maker(request)))
    return text.removeprefix(BYTE_ORDER_MARK)


def compare(previous: list[dict] | None, current: list[dict]) -> dict:
    """Products added, removed and whose facts changed (each changed key named)."""
    before = {record["slug"]: record for record in previous or ()}
    after = {record["slug"]: record for record in current}
    changed = []
    for slug, record in after.items():
        old = before.get(slug)
        if old is None:
            continue
        keys = sorted(
            key
            for key in set(old) | set(record)
            if key not in NOT_FACTS and old.get(key) != record.get(key)
        )
        if keys:
            changed.append({"slug": slug, "name": record["name"], "fields": keys})
    return {
        "added": [
            {"slug": slug, "name": after[slug]["name"]} for slug in sorted(after.keys() - before)
        ],
        "removed": [
            {"slug": slug, "name": before[slug]["name"]} for slug in sorted(before.keys() - after)
        ],
        "changed": changed,
    }


def changelog_markdown(version: str, previous: str | None, changes: dict) -> str:
    lines = [f"# ATMP Catalogue release {version}", ""]
    if previous is None:
        lines += ["The first release: every product is new.", ""]
    else:
        lines += [f"Changes since release {previous}.", ""]
    for key, title in (("added", "Added"), ("removed", "Removed")):
        lines.append(f"## {title} ({len(changes[key])})")
        lines += [f"- {item['name']} (`{item['slug']}`)" for item in changes[key]] or ["None."]
        lines.append("")
    lines.append(f"## Facts changed ({len(changes['changed'])})")
    lines += [
        f"- {item['name']} (`{item['slug']}`): {', '.join(item['fields'])}"
        for item in changes["changed"]
    ] or ["None."]
    return "\n".join(lines) + "\n"


CSV_DESCRIPTIONS = {
    "name": "Current brand name.",
    "slug": "Stable identifier: the current brand name, lowercase and hyphenated.",
    "former_names": "Former brand names and code names, joined by ' | '.",
    "inn": "International non-proprietary (or common) name.",
    "ema_product_number": "The EMA's product number, EMEA/H/C/NNNNNN.",
    "category": "Legal ATMP class (Regulation (EC) No 1394/2007).",
    "status": "The EMA's medicine status.",
    "status_date": "When the current status took effect.",
    "status_reason": "Why the authorisation ended or the application failed ('not known' where "
    "the sources do not say); empty for a status that needs no reason.",
    "authorisation_date": "First marketing authorisation: a date, or only its year or month.",
    "holder": "Current marketing authorisation holder (or applicant).",
    "indications": "The conditions it is authorised (or was proposed) for, joined by ' | '.",
    "therapeutic_areas": "The EMA's therapeutic-area (MeSH) terms, joined by ' | '.",
    "mechanisms": "How it works, joined by ' | '.",
    "platform": "Vector or cell type.",
    "target": "Target antigen or transgene.",
    "cell_source": "autologous, allogeneic or none.",
    "delivery": "in-vivo, ex-vivo or none.",
    "route_of_administration": "Route of administration.",
    "atc_code": "Anatomical Therapeutic Chemical code.",
    "epar_url": "The EMA's page of the product (EPAR).",
    "url": "The product's page in the catalogue.",
    "updated_at": "When the catalogue last changed the product.",
}
FLAG_PARAMS = {flag.param: flag for flag in FLAGS}


def csv_field(name: str) -> dict:
    """The Table Schema field of a CSV column."""
    if name in FLAG_PARAMS or name.removesuffix("_at_authorisation") in FLAG_PARAMS:
        flag = FLAG_PARAMS[name.removesuffix("_at_authorisation")]
        when = (
            "when first authorised"
            if name.endswith("_at_authorisation")
            else "in the EMA's register now"
        )
        return {
            "name": name,
            "type": "boolean",
            "trueValues": ["yes"],
            "falseValues": ["no"],
            "description": f"{flag.label}, {when}; 'not applicable' for an application never "
            "authorised, 'not known' where sources are silent or conflict.",
        }
    described = {"name": name, "description": CSV_DESCRIPTIONS[name]}
    if name == "status_date":
        return {**described, "type": "date"}
    if name == "authorisation_date":
        return {
            **described,
            "type": "string",
            "constraints": {"pattern": "[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?"},
        }
    if name == "updated_at":
        return {**described, "type": "datetime", "format": "any"}
    if name in ("url", "epar_url"):
        return {**described, "type": "string", "format": "uri"}
    constraints = {}
    if name in ("name", "slug"):
        constraints["required"] = True
    if name == "slug":
        constraints["unique"] = True
        constraints["pattern"] = "[a-z0-9]+(-[a-z0-9]+)*"
    if name == "ema_product_number":
        constraints["pattern"] = "EMEA/H/C/[0-9]{6}"
    if name in ("cell_source", "delivery"):
        from products.choices import CellSource, Delivery

        choices = CellSource if name == "cell_source" else Delivery
        constraints["enum"] = list(choices.values)
    field = {**described, "type": "string"}
    if constraints:
        field["constraints"] = constraints
    return field


def datapackage(
    *, version: str, created: datetime.datetime, header: list[str], files: list[ReleaseFile]
) -> dict:
    by_name = {file.name: file for file in files}

    def resource(name: str, **extra) -> dict:
        file = by_name[name]
        return {
            "name": name.replace(".", "-").lower(),
            "path": name,
            "bytes": file.size,
            "hash": f"sha256:{file.sha256}",
            **extra,
        }

    site = settings.SITE_URL.rstrip("/")
    return {
        "profile": "data-package",
        "name": "atmp-catalogue",
        "title": "ATMP Catalogue: advanced therapy medicinal products authorised in the EU",
        "description": "Every advanced therapy medicinal product (gene therapy, somatic cell "
        "therapy, tissue engineered or combined ATMP) that has held an EU marketing "
        "authorisation, with refusals and withdrawn applications kept for the record.",
        "version": version,
        "created": created.isoformat(timespec="seconds"),
        "homepage": f"{site}/data/",
        "licenses": [LICENCE],
        "sources": SOURCES,
        "x-product-count": None,  # filled in by write_release
        "resources": [
            resource(
                "catalogue.csv",
                profile="tabular-data-resource",
                title="Products (CSV)",
                format="csv",
                mediatype="text/csv",
                encoding="utf-8",
                dialect={"delimiter": ",", "lineTerminator": "\r\n", "header": True},
                schema={
                    "fields": [csv_field(name) for name in header],
                    "primaryKey": ["slug"],
                    "missingValues": MISSING_VALUES,
                },
            ),
            resource(
                "catalogue.json",
                profile="data-resource",
                title="Products (JSON, as the API gives them)",
                format="json",
                mediatype="application/json",
                encoding="utf-8",
                description="{release, released_at, licence, count, results}: results are the "
                f"products exactly as {site}/api/v1/products/<slug>/ gives them; their schema is "
                f"the API's ({site}/api/v1/schema/, ProductSerializer).",
            ),
            resource(
                "changelog.json",
                profile="data-resource",
                format="json",
                mediatype="application/json",
                encoding="utf-8",
                title="Changes since the previous release",
            ),
            resource(
                "changelog.md",
                profile="data-resource",
                format="md",
                mediatype="text/markdown",
                encoding="utf-8",
                title="Changes since the previous release, to read",
            ),
        ],
    }


def _dump(data) -> str:
    return json.dumps(data, cls=JSONEncoder, ensure_ascii=False, indent=1) + "\n"


def next_version(today: datetime.date, directory: Path) -> str:
    taken = [
        version_key(entry.name)[1]
        for entry in (os.scandir(directory) if directory.is_dir() else ())
        if VERSION_RE.match(entry.name) and version_key(entry.name)[0] == today.isoformat()
    ]
    number = max(taken, default=0) + 1
    return today.isoformat() if number == 1 else f"{today.isoformat()}.{number}"


def write_release(
    *, directory: Path | None = None, now: datetime.datetime | None = None, attempts: int = 5
) -> Release:
    """Write a new release of the public catalogue into ``directory`` and return it.

    Raises ``ReleaseError`` (one line) when the folder cannot be written.
    """
    directory = Path(directory or releases_dir())
    now = now or timezone.now()
    request = SiteRequest(settings.SITE_URL)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReleaseError(f"{directory}: {exc.strerror or exc}") from exc
    records = catalogue_records(request)
    csv_text = catalogue_csv(request)
    header = csv_text.split("\r\n", 1)[0].split(",")
    for _attempt in range(attempts):
        previous = list_releases(directory)
        version = next_version(timezone.localdate(now), directory)
        try:
            staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=directory))
        except OSError as exc:
            raise ReleaseError(f"{directory}: {exc.strerror or exc}") from exc
        try:
            _write_files(staging, version, now, records, csv_text, header, previous)
            os.rename(staging, directory / version)  # atomic: whole or not at all
        except FileExistsError:
            shutil.rmtree(staging, ignore_errors=True)
            continue  # another writer took this version: take the next
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if (directory / version).exists():
                continue
            raise ReleaseError(f"{directory}: {exc.strerror or exc}") from exc
        return read_release(directory / version)
    raise ReleaseError(f"{directory}: no free version after {attempts} attempts")


def _write_files(staging, version, now, records, csv_text, header, previous) -> None:
    previous_release = previous[0] if previous else None
    previous_records = None
    if previous_release is not None:
        try:
            previous_records = json.loads(
                (previous_release.path / "catalogue.json").read_text(encoding="utf-8")
            )["results"]
        except (OSError, ValueError, KeyError) as exc:
            raise ReleaseError(
                f"{previous_release.path}: unreadable catalogue.json ({exc})"
            ) from exc
    changes = compare(previous_records, records)
    changes = {
        "release": version,
        "previous": previous_release and previous_release.version,
        **changes,
    }
    released_at = now.isoformat(timespec="seconds")
    contents = {
        "catalogue.json": _dump(
            {
                "release": version,
                "released_at": released_at,
                "licence": LICENCE,
                "count": len(records),
                "results": records,
            }
        ),
        "catalogue.csv": csv_text,
        "changelog.json": _dump(changes),
        "changelog.md": changelog_markdown(version, changes["previous"], changes),
    }
    files = []
    for name, text in contents.items():
        path = staging / name
        path.write_text(text, encoding="utf-8", newline="")
        files.append(ReleaseFile(name, path.stat().st_size, sha256_of(path)))
    package = datapackage(version=version, created=now, header=header, files=files)
    package["x-product-count"] = len(records)
    path = staging / "datapackage.json"
    path.write_text(_dump(package), encoding="utf-8")
    files.append(ReleaseFile("datapackage.json", path.stat().st_size, sha256_of(path)))
    sums = "".join(f"{file.sha256}  {file.name}\n" for file in files)
    (staging / "SHA256SUMS").write_text(sums, encoding="utf-8")
    os.chmod(staging, 0o755)  # mkdtemp makes it private; releases are public
