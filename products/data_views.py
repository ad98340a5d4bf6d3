"""Open data pages: the releases (``/data/``) and their files, and the data-quality report.

The data-quality report (``/data-quality/``, and as CSV and JSON) is built by
``products/quality.py`` afresh for each request (three queries): it also reads the last import
run and the clock, which the catalogue version does not follow.

Releases are files in ``settings.RELEASES_DIR`` (``products/releases.py``), read on each request
(a folder listing and two small files per release): a release written by another machine sharing
the folder shows at once. They are not cached by catalogue version, as they do not follow it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import get_conditional_response
from django.views.generic import TemplateView

from products import quality, releases
from products.csv_export import BYTE_ORDER_MARK, FORMULA_STARTS, product_url_maker


class DataPageView(TemplateView):
    """A page of the open-data section, under "Data": its template and the function that builds
    its context on each request, both given by ``products/urls.py``
    (``as_view(template_name=..., page_context=...)``)."""

    page_context: Callable[[], dict] | None = None

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "nav": "data", **self.page_context()}


def release_list_context() -> dict:
    """Every release, newest first, with its date, size and checksums; the licence; citing."""
    found = releases.list_releases()
    return {
        "releases": found,
        "latest": found[0] if found else None,
        "licence": releases.LICENCE,
        "sources": releases.SOURCES,
    }


def release_file(request, version: str, name: str):
    """A file of a release (``latest``: of the newest), as stored; 404 for anything else."""
    if name not in releases.FILES:
        raise Http404("No such file in a release.")
    release = releases.find_release(version)
    if release is None or release.file(name) is None:
        raise Http404("No such release.")
    etag = f'"{release.file(name).sha256}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:  # the client has these very bytes
        not_modified["ETag"] = etag
        return not_modified
    response = FileResponse(
        (release.path / name).open("rb"), content_type=releases.MEDIA_TYPES[name]
    )
    response["ETag"] = etag
    if version == "latest":
        response["Cache-Control"] = "public, max-age=300"
        response["Link"] = f'</data/{release.version}/{name}>; rel="canonical"'
    else:  # a release never changes
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    if name.endswith((".csv", ".md")) or name == "SHA256SUMS":
        response["Content-Disposition"] = (
            f'inline; filename="atmp-catalogue-{release.version}-{name}"'
        )
    return response


def release_folder(request, version: str):
    """``/data/<version>/`` is the list of releases, at that release."""
    if releases.find_release(version) is None:
        raise Http404("No such release.")
    return redirect(f"/data/#release-{version}")


QUALITY_COLUMNS = ("kind", "slug", "name", "fact", "catalogue", "ema", "side", "why", "url")


def data_quality_context() -> dict:
    """Where the catalogue is unsure, incomplete or at odds with the EMA's export."""
    report = quality.build_report()
    return {
        "report": report,
        "sections": report.by_kind(),
        "share": quality.verified_share(),
        "stale_days": quality.STALE_AFTER.days,
    }


def _quality_rows(request) -> tuple[quality.Report, list[dict]]:
    report = quality.build_report()
    url_of = product_url_maker(request)
    return report, [finding.as_dict(url_of(finding.slug)) for finding in report.findings]


def data_quality_json(request):
    """The report as JSON: the import it compares with, and every finding with its link."""
    report, rows = _quality_rows(request)
    run = report.import_run
    return JsonResponse(
        {
            "generated_at": report.generated_at.isoformat(timespec="seconds"),
            "products": report.product_count,
            "last_import": run
            and {
                "file_name": run.file_name,
                "started_at": run.started_at.isoformat(timespec="seconds"),
                "generated_at": run.generated_at and run.generated_at.isoformat(timespec="seconds"),
            },
            "kinds": quality.KINDS,
            "count": len(rows),
            "findings": rows,
        },
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )


def data_quality_csv(request):
    """The report as CSV, one finding a row (cells a spreadsheet would run are quoted)."""
    _report, rows = _quality_rows(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(QUALITY_COLUMNS)
    for row in rows:
        cells = [str(row[column]) for column in QUALITY_COLUMNS]
        writer.writerow(["'" + c if c.startswith(FORMULA_STARTS) else c for c in cells])
    response = HttpResponse(BYTE_ORDER_MARK + buffer.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="atmp-catalogue-data-quality.csv"'
    return response
