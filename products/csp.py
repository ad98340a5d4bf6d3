"""Content-Security-Policy exceptions for pages whose templates a library ships.

The site allows styles and scripts from 'self' only. A library template that inlines a style is
allowed exactly that style, by its hash computed from the installed template (so an upgrade that
changes it changes the hash too), on its own pages only. ``products/api/docs.py`` does the same
for the ``<style>`` block of the API's interactive documentation.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from django.template.loader import get_template

#: django-simple-history's history page (its list is included by ours, which adds no style).
HISTORY_TEMPLATES = (
    "simple_history/object_history.html",
    "simple_history/object_history_list.html",
)


def source_hash(text: str) -> str:
    """The CSP source expression that allows exactly ``text`` inline."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


@cache
def style_attribute_sources(*template_names: str) -> tuple[str, ...]:
    """``style-src`` sources for the ``style="…"`` attributes of these templates.

    CSP allows a style attribute by its hash only together with ``'unsafe-hashes'``, which
    allows nothing by itself. Empty when the templates have no style attribute.
    """
    styles = sorted(
        {
            style
            for name in template_names
            for style in re.findall(r'\bstyle="([^"{}]*)"', get_template(name).template.source)
        }
    )
    return ("'unsafe-hashes'", *map(source_hash, styles)) if styles else ()
