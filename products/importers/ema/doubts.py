"""The curators' doubts: product fields their ``unverified_fields`` notes mark as doubtful, which
the import reports to them rather than overwrites."""

from __future__ import annotations

import re
from collections.abc import Iterable

from products.importers.ema.columns import FLAG_FIELDS

#: How ``unverified_fields`` names a product field (the fact sheet's wording or the field name).
DOUBT_PATTERNS = (
    (re.compile(r"accelerated[_ ]assessment"), ("is_accelerated_assessment",)),
    (re.compile(r"exceptional[_ ]circumstances"), ("is_exceptional_circumstances",)),
    (re.compile(r"conditional"), ("is_conditional",)),
    (re.compile(r"\bprime\b|is_prime"), ("is_prime",)),
    (re.compile(r"\borphan\b|^is_orphan$"), ("is_orphan",)),
    (re.compile(r"all (authorisation[_ ]type )?flags"), FLAG_FIELDS),
    (re.compile(r"^status_date\b"), ("status_date",)),
    (re.compile(r"^status$"), ("status",)),
    (re.compile(r"^authorisation_date\b"), ("authorisation_date",)),
    (re.compile(r"^(marketing_authorisation_holder(\.current)?|holder)$"), ("holder",)),
)


def doubted_fields(unverified: Iterable[str]) -> dict[str, str]:
    """Product fields the curators mark as doubtful, each with the note that says so.

    Indication-level doubts (``indications[0].orphan_designation``), the holder at grant
    (``marketing_authorisation_holder.original``) and the flags at first authorisation
    (``authorisation_type.*``) are not about fields the import writes.
    """
    doubts: dict[str, str] = {}
    for note in unverified:
        text = re.sub(r"\s*\(.*$", "", note.strip().casefold())
        if text.startswith("indication"):  # about one indication, not the product
            continue
        if "authorisation_type" in text:  # the values at first authorisation
            continue
        for pattern, fields in DOUBT_PATTERNS:
            if pattern.search(text):
                for name in fields:
                    doubts.setdefault(name, note)
    return doubts
