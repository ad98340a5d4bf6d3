"""Open data pages: the releases (``/data/``) and their files, and the data-quality report.

Releases are files in ``settings.RELEASES_DIR`` (``products/releases.py``), read on each request
(a folder listing and two small files per release): a release written by another machine sharing
the folder shows at once. They are not cached by catalogue version, as they do not follow it.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from products import releases


class ReleaseListView(TemplateView):
    """Every release, newest first, with its date, size and checksums; the licence; citing."""

    template_name = "products/data_releases.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        found = releases.list_releases()
        context.update(
            {
                "nav": "data",
                "releases": found,
                "latest": found[0] if found else None,
                "licence": releases.LICENCE,
                "sources": releases.SOURCES,
            }
        )
        return context


def release_file(request, version: str, name: str):
    """A file of a release (``latest``: of the newest), as stored; 404 for anything else."""
    if name not in releases.FILES:
        raise Http404("No such file in a release.")
    release = releases.find_release(version)
    if release is None or release.file(name) is None:
        raise Http404("No such release.")
    response = FileResponse(
        (release.path / name).open("rb"), content_type=releases.MEDIA_TYPES[name]
    )
    response["ETag"] = f'"{release.file(name).sha256}"'
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
