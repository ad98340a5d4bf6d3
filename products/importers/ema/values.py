"""The export's values: yes/no words of the EU languages, dates, statuses, product numbers, names
and holders, each read into what the catalogue stores (or a ``ValueError`` saying why not)."""

from __future__ import annotations

import datetime
import html
import re
import unicodedata
from typing import Any

from products.choices import Status
from products.models import ATC_PATTERN

#: Yes and no in the EU's languages (compared without case and accents).
YES_WORDS = {
    "yes", "true",  # English (and JSON's spelling of a boolean)
    "da", "да",  # Croatian, Romanian, Slovenian; Bulgarian
    "ano",  # Czech ano, Slovak áno
    "ja",  # Danish, Dutch, German, Swedish; Latvian jā
    "jah",  # Estonian
    "kylla",  # Finnish kyllä
    "oui",  # French
    "ναι", "nai",  # Greek
    "igen",  # Hungarian
    "si",  # Italian sì, Spanish sí
    "taip",  # Lithuanian
    "iva",  # Maltese
    "tak",  # Polish
    "sim",  # Portuguese
}  # fmt: skip
NO_WORDS = {
    "no", "false",  # English, Italian, Spanish
    "ne", "не",  # Croatian, Czech, Lithuanian, Slovenian; Latvian nē; Bulgarian
    "nej",  # Danish, Swedish
    "nee",  # Dutch
    "nein",  # German
    "ei",  # Estonian, Finnish
    "non",  # French
    "οχι", "ochi",  # Greek όχι
    "nem",  # Hungarian
    "le",  # Maltese
    "nie",  # Polish, Slovak
    "nao",  # Portuguese não
    "nu",  # Romanian
}  # fmt: skip

#: The EMA's "Medicine status" wording (and the catalogue's own labels and slugs).
STATUS_WORDS = {
    "authorised": Status.AUTHORISED,
    "suspended": Status.SUSPENDED,
    "withdrawn": Status.WITHDRAWN,
    "expired": Status.EXPIRED,
    "lapsed": Status.LAPSED,
    "revoked": Status.REVOKED,
    "refused": Status.REFUSED,
    "opinion": Status.OPINION,
    "opinion under re-examination": Status.UNDER_RE_EXAMINATION,
    "application withdrawn": Status.APPLICATION_WITHDRAWN,
    "withdrawn from rolling review": Status.WITHDRAWN_FROM_ROLLING_REVIEW,
}
for _status in Status:
    STATUS_WORDS.setdefault(_status.value.replace("-", " "), _status)
    STATUS_WORDS.setdefault(str(_status.label).casefold(), _status)

PRODUCT_NUMBER = re.compile(r"^EMEA/(?P<kind>[HV])/C/?(?P<digits>[0-9]{6})$")
GENERATED_AT = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})\s*-\s*(\d{1,2}:\d{2})$")
PREVIOUS_NAME = re.compile(r"^(?P<name>.+?)\s*\(previously (?P<alias>[^()]+)\)$")
ATC_CODE = re.compile(ATC_PATTERN)
NO_ATC = {"", "not yet assigned", "not assigned"}


def plain(value: Any) -> str:
    """Compare words without case, accents or surrounding white space."""
    text = unicodedata.normalize("NFKD", " ".join(str(value).split()).casefold())
    return "".join(char for char in text if not unicodedata.combining(char))


def parse_flag(value: Any) -> bool | None:
    """``"Da"`` -> True, ``"Nej"`` -> False, empty -> None; anything else is an error."""
    if value is None or isinstance(value, bool):
        return value
    word = plain(value)
    if not word:
        return None
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise ValueError(f"{value!r} is not a yes/no value")


def parse_date(value: Any) -> datetime.date | None:
    """Text ``DD/MM/YYYY`` (or ISO ``YYYY-MM-DD``) or a real spreadsheet date; empty -> None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date (expected DD/MM/YYYY)")
    text = value.strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (expected DD/MM/YYYY)")


def parse_status(value: Any) -> Status:
    status = STATUS_WORDS.get(" ".join(as_text(value).casefold().split()))
    if status is None:
        raise ValueError(f"{value!r} is not a medicine status")
    return status


def parse_product_number(value: Any) -> str:
    """``"EMEA/H/C005201"`` -> ``"EMEA/H/C/005201"``."""
    match = PRODUCT_NUMBER.match(as_text(value).replace(" ", ""))
    if not match:
        raise ValueError(f"{value!r} is not an EMA product number (EMEA/H/C/NNNNNN)")
    return f"EMEA/{match['kind']}/C/{match['digits']}"


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def one_line(value: Any) -> str:
    return " ".join(as_text(value).split())


def clean_indication(value: Any) -> str:
    """Decode HTML entities; ``&nbsp;`` becomes a plain space; tidy spaces, keep line breaks."""
    text = html.unescape(as_text(value)).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def split_name(value: str) -> tuple[str, list[str]]:
    """``"Beqvez (previously Durveqtix)"`` -> (``"Beqvez"``, [``"Durveqtix"``])."""
    match = PREVIOUS_NAME.match(value)
    if match:
        return match["name"].strip(), [match["alias"].strip()]
    return value, []


LEGAL_FORMS = {
    "ag", "aps", "as", "bv", "co", "eeig", "ets", "gmbh", "inc", "kg", "limited", "llc", "ltd",
    "nv", "oy", "plc", "sa", "sas", "spa", "srl", "sro",
}  # fmt: skip


def holder_key(name: str) -> str:
    """The words that name a company, without legal form, punctuation, case or a parenthesis.

    ``"TiGenix N.V."`` and ``"TiGenix NV"``, ``"Cytonet GmbH KG"`` and ``"Cytonet GmbH & Co. KG"``,
    ``"CO.DON Gmbh"`` and ``"CO.DON GmbH"`` are the same holder written two ways.
    """
    text = re.sub(r"\([^()]*\)", " ", plain(name)).replace(".", "")
    words = [word for word in re.split(r"[^a-z0-9]+", text) if word]
    return " ".join(word for word in words if word not in LEGAL_FORMS)


def name_keys(*names: str) -> set[str]:
    """Names compared without case, accents, punctuation or a parenthesis: "Luxceptar (ATIR101)"
    gives "luxceptar" and "atir101"."""
    keys = set()
    for name in names:
        brand, aliases = split_name(name)
        for text in (brand, *aliases, *re.findall(r"\(([^()]+)\)", name)):
            key = re.sub(r"[^a-z0-9]+", "", plain(re.sub(r"\([^()]*\)", "", text)))
            if key:
                keys.add(key)
    return keys
