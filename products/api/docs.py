"""The interactive documentation at ``/api/v1/docs/``: drf-spectacular's Swagger UI (sidecar).

The site's Content-Security-Policy allows scripts and styles from 'self' only. The split view
serves Swagger UI's start-up script as a separate file (``?script``), so no inline script is
needed; the page's one small inline ``<style>`` block is allowed by its hash, computed from the
installed template, so nothing else inline is allowed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from csp.decorators import csp_update
from django.template.loader import get_template
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

SWAGGER_TEMPLATE = "drf_spectacular/swagger_ui.html"


@cache
def inline_style_hashes() -> list[str]:
    """CSP source expressions for the inline ``<style>`` blocks of drf-spectacular's page."""
    source = get_template(SWAGGER_TEMPLATE).template.source
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    ]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI for the schema at ``api:schema``; public, with no inline script."""

    url_name = "api:schema"
    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)

    def dispatch(self, request, *args, **kwargs):
        allow_inline_style = csp_update({"style-src": inline_style_hashes()})
        return allow_inline_style(super().dispatch)(request, *args, **kwargs)
