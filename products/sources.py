"""Sources and doubts in words a visitor can read.

``Product.sources`` holds what the curators checked, one entry per line: mostly URLs (the EMA's
pages, the European Commission's Union Register, companies' announcements, trade press, national
registers) and a few notes ("EMA medicines data export generated from ema.europa.eu on
27/10/2025 (file … in this folder)"). ``Product.unverified_fields`` names the facts still in
doubt in the fact sheet's own notation ("indications[0].orphan_designation").

The public page shows neither as stored, and the API gives both in words beside the stored
entries (``source_links``, ``unverified``); the CSV has no sources column. ``describe_source``
gives each source a title, its link and who published it; ``ordered_sources`` puts the EMA first
and drops repeats; ``plain_unverified`` and ``plain_verification`` turn the curators' notation
into a sentence. Nothing here changes what is stored.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

EMA = "European Medicines Agency"
COMMISSION = "European Commission"

#: Order of the publishers on the page: the EMA, then the Commission, then everyone else.
EMA_RANK, COMMISSION_RANK, OTHER_RANK = 0, 1, 2


@dataclass(frozen=True)
class Source:
    """One source as a visitor sees it: a title, its link ("" for a document with none) and
    who published it."""

    title: str
    url: str
    publisher: str
    rank: int = OTHER_RANK

    @property
    def is_ema(self) -> bool:
        return self.rank == EMA_RANK

    @property
    def publisher_note(self) -> str:
        """The publisher where the title does not already name it ("Chiesi" is in
        "Company announcement: chiesi.com"), else ""."""
        return "" if self.publisher.lower() in self.title.lower() else self.publisher


# --- Who publishes what -------------------------------------------------------------------------

#: Who publishes what, by host (without "www."): data that grows as curators cite new sites.
PUBLISHERS = json.loads((Path(__file__).with_name("publishers.json")).read_text(encoding="utf-8"))
COMPANIES: dict[str, str] = PUBLISHERS["companies"]  # companies' own announcements
PRESS_WIRES: dict[str, str] = PUBLISHERS["press_wires"]  # wires publishing press releases
NEWS: dict[str, str] = PUBLISHERS["news"]  # news sites and journals
#: Registers and authorities other than the EMA and the Commission, and sites that republish
#: product information or regulators' documents: host -> (kind, name).
REGISTERS: dict[str, tuple[str, str]] = {h: tuple(v) for h, v in PUBLISHERS["registers"].items()}
COPIES: dict[str, tuple[str, str]] = {h: tuple(v) for h, v in PUBLISHERS["copies"].items()}

#: Pages of the EMA's site: the path's section -> how the title names such a page.
EMA_SECTIONS = {
    "epar": "European public assessment report (EPAR) for {name}",
    "withdrawn-applications": "withdrawn application for {name}",
    "referrals": "referral about {name}",
    "variation": "change to the marketing authorisation of {name}",
    "summaries-opinion": "summary of opinion on {name}",
    "orphan-designations": "orphan designation {name}",
}
#: Pages of the EMA's former site (``index.jsp?curl=pages/...``): a marker in the path -> title.
EMA_OLD_PAGES = (
    ("/wapp/", "withdrawn application ({number}, former EMA site)"),
    ("/smops/", "summary of the CHMP's opinion ({number}, former EMA site)"),
    ("/human_med_", "medicine page ({number}, former EMA site)"),
)
LANGUAGES = {"de": "German", "fr": "French", "it": "Italian", "es": "Spanish", "sv": "Swedish"}
MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _site(host: str) -> str:
    """The host as a reader names a site: lower case, without "www." or a trailing dot."""
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")


def _lookup(table: dict, site: str):
    """``table``'s entry for ``site`` or for the domain it is a subdomain of."""
    parts = site.split(".")
    for start in range(len(parts) - 1):
        entry = table.get(".".join(parts[start:]))
        if entry is not None:
            return entry
    return None


def _words(slug: str) -> str:
    """A URL's slug as words: ``hyalograft-c-autograft`` -> ``Hyalograft C Autograft``."""
    slug = re.sub(r"\.[a-z]{2,5}$", "", slug, flags=re.IGNORECASE)  # "….html", "….jsp"
    slug = re.sub(r"-\d+$", "", slug)  # the EMA's "cerepro-0": a second page of that name
    return " ".join(word.capitalize() for word in re.split(r"[-_]+", slug) if word)


def _date_in(path: str) -> str:
    """A date the path carries (``/2024/04/05/``, ``2012-07-23``), in words, or ""."""
    match = re.search(r"(?<!\d)((?:19|20)\d\d)[/-](0[1-9]|1[0-2])[/-]([0-3]\d)(?!\d)", path)
    if not match:
        return ""
    try:
        day = datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return ""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _orphan_number(slug: str) -> str:
    """``eu-3-16-1627`` or ``eu3141266`` -> ``EU/3/16/1627``; "" when it is neither."""
    match = re.fullmatch(r"eu-?3-?(\d\d)-?(\d+)", slug.lower())
    return f"EU/3/{match[1]}/{match[2]}" if match else ""


def _ema_page(path: str, query: str) -> str:
    """What a page of the EMA's site is, from its path."""
    parts = [part for part in path.split("/") if part]
    language = parts[0] if parts and parts[0] in LANGUAGES else ""
    note = f" ({LANGUAGES[language]} page)" if language else ""
    if parts[:1] == ["ema"]:
        return _ema_old_page(parse_qs(query).get("curl", [""])[0])
    if language or parts[:1] == ["en"]:
        parts = parts[1:]
    if parts[:2] == ["medicines", "human"] and len(parts) >= 4:
        section, slug = parts[2].lower(), parts[3]
        if section == "orphan-designations" and (number := _orphan_number(slug)):
            return f"orphan designation {number}{note}"
        if section in EMA_SECTIONS:
            return EMA_SECTIONS[section].format(name=_words(slug)) + note
    if parts[:1] == ["news"] and len(parts) >= 2:
        return f"news item “{_words(parts[-1]).capitalize()}”{note}"
    if parts[:1] == ["medicines"] and "download-medicine-data" in parts:
        return "medicines data download"
    return f"page on {_words(parts[-1]).lower()}{note}" if parts else "home page"


def _ema_old_page(curl: str) -> str:
    number = re.search(r"/medicines/(\d{6})/", curl)
    number = f"EMEA/H/C/{number[1]}" if number else "number not given"
    for marker, title in EMA_OLD_PAGES:
        if marker in curl:
            return title.format(number=number)
    if "/orphans/" in curl:
        when = re.search(r"/orphans/(\d{4})/(\d\d)/", curl)
        month = f" of {MONTHS[int(when[2]) - 1]} {when[1]}" if when else ""
        return f"orphan designation{month} (former EMA site)"
    if "/news/" in curl:
        when = re.search(r"/news/(\d{4})/(\d\d)/", curl)
        month = f" of {MONTHS[int(when[2]) - 1]} {when[1]}" if when else ""
        return f"news item{month} (former EMA site)"
    return "page on the former EMA site"


def _commission_page(site: str, path: str, query: str) -> str:
    register = re.search(r"community-register/html/(\w+?)\.htm", path)
    if register:
        return f"Union Register of medicinal products ({register[1]})"
    if site.startswith("gmoinfo.jrc."):
        notification = parse_qs(query).get("CurNot", [""])[0]
        return "register of GMO notifications" + (f" ({notification})" if notification else "")
    return "web page"


def _describe_url(url: str) -> Source:
    try:
        parts = urlsplit(url)
        site = _site(parts.hostname or "")
    except ValueError:  # not a well-formed address ("http://[x"): no link
        site = ""
    if not site:
        return Source("Web page (the address recorded is not valid)", "", "")
    if site == "ema.europa.eu" or site.endswith(".ema.europa.eu"):
        page = _ema_page(parts.path, parts.query)
        return Source(f"EMA: {page}", url, EMA, EMA_RANK)
    if site == "ec.europa.eu" or site.endswith(".ec.europa.eu"):
        page = _commission_page(site, parts.path, parts.query)
        return Source(f"European Commission: {page}", url, COMMISSION, COMMISSION_RANK)
    date = _date_in(parts.path)
    when = f" ({date})" if date else ""
    if company := _lookup(COMPANIES, site):
        return Source(f"Company announcement: {site}{when}", url, company)
    if wire := _lookup(PRESS_WIRES, site):
        return Source(f"Press release: {site}{when}", url, wire)
    if "/press-releases/" in parts.path:
        return Source(f"Press release: {site}{when}", url, _lookup(NEWS, site) or site)
    if register := _lookup(REGISTERS, site):
        kind, name = register
        return Source(f"{kind}: {site}", url, name)
    if news := _lookup(NEWS, site):
        return Source(f"News report: {site}{when}", url, news)
    if copy := _lookup(COPIES, site):
        kind, name = copy
        return Source(f"{kind}: {site}", url, name)
    return Source(f"Web page: {site}{when}", url, site)


def _describe_note(text: str) -> Source:
    """A source given as text, not a link: the EMA's export, or a named document."""
    export = re.search(r"\bEMA\b.*\bexport\b", text, re.IGNORECASE)
    if export:
        date = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text)
        when = ""
        if date:
            day, month, year = (int(part) for part in date.groups())
            if 1 <= month <= 12:
                when = f" of {day} {MONTHS[month - 1]} {year}"
        return Source(f"EMA: medicines data export{when}", "", EMA, EMA_RANK)
    # A note about where the curators keep a file means nothing to a visitor: drop it.
    title = re.sub(r"\s*\((?:file\s+)?[^()]*\bin this folder\)", "", text)
    title = re.sub(r"\s*\([^()\s]+\.(?:xlsx|xls|csv|json|pdf)\)", "", title).strip()
    return Source(title or "Document", "", EMA if re.search(r"\bEMA\b", title) else "")


def describe_source(text: str) -> Source:
    """A source of ``Product.sources`` as a visitor sees it: title, link, publisher and rank.

    A link is titled by its publisher and what the page is ("EMA: orphan designation
    EU/3/08/579", "Company announcement: chiesi.com"), never by the URL itself; a note keeps
    its words without the curators' file names ("EMA: medicines data export of 27 October 2025").
    """
    text = text.strip()
    if re.match(r"https?://\S*$", text, re.IGNORECASE):
        return _describe_url(text)
    link = re.search(r"https?://[^\s<>\"')]+", text, re.IGNORECASE)
    if link:  # words with an address in them ("Letter of the CAT: https://…"): the words title it
        words = (text[: link.start()] + text[link.end() :]).strip(" \t:;,-–—()")
        source = _describe_url(link[0])
        return replace(source, title=_describe_note(words).title) if words else source
    return _describe_note(text)


def _same_page(url: str) -> str:
    """A URL reduced to what identifies the page: scheme, "www." and a last "/" do not count."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return f"{_site(parts.hostname or '')}{path}?{parts.query}".lower()


def ordered_sources(texts: Iterable[str]) -> list[Source]:
    """``texts`` described, the EMA's first, then the Commission's, then the others in their
    given order, each page once; several pages of one title are numbered ("1 of 2")."""
    seen: set[str] = set()
    sources: list[Source] = []
    for text in texts:
        if not text or not text.strip():
            continue
        source = describe_source(text)
        key = _same_page(source.url) if source.url else source.title.lower()
        if key in seen:
            continue
        seen.add(key)
        sources.append(source)
    sources.sort(key=lambda source: source.rank)  # stable: the given order within a rank
    counts = Counter(source.title for source in sources)
    numbered: Counter[str] = Counter()
    result = []
    for source in sources:
        if counts[source.title] > 1:
            numbered[source.title] += 1
            n = numbered[source.title]
            source = replace(source, title=f"{source.title} ({n} of {counts[source.title]})")
        result.append(source)
    return result


# --- Doubts in plain words ----------------------------------------------------------------------

#: Fields as the fact sheet names them -> the fact in words. ``{which}`` is "the first", ….
FIELDS = {
    "atc_code": "The ATC code",
    "atmp_category": "Which category of advanced therapy it belongs to",
    "authorisation": "The marketing authorisation itself",
    "authorisation_date": "The exact date of the first authorisation",
    "authorisation_type": "Its authorisation features",
    "authorisation_type.accelerated_assessment": "Whether it had an accelerated assessment",
    "authorisation_type.conditional": "Whether its authorisation is conditional",
    "authorisation_type.exceptional_circumstances": (
        "Whether it is authorised under exceptional circumstances"
    ),
    "authorisation_type.prime": "Whether it had PRIME support",
    "authorisation_type.orphan": "Whether it is an orphan medicine",
    "ema_product_number": "The EMA product number",
    "indications.orphan_designation": "Whether {which} indication had an orphan designation",
    "indications.therapeutic_area": "The therapeutic area of {which} indication",
    "indications.population": "Who may receive it for {which} indication",
    "indications": "{which} indication",
    "marketing_authorisation_holder": "The marketing authorisation holder",
    "marketing_authorisation_holder.current": "The current marketing authorisation holder",
    "marketing_authorisation_holder.original": "The first marketing authorisation holder",
    "modality.platform": "The platform",
    "platform": "The platform",
    "status": "Its status",
    "status_date": "The date of its current status",
    "inn": "Its common name (INN)",
    "holder": "The marketing authorisation holder",
}
#: Entries that are already words, as the fact sheet writes them -> plainer words.
PHRASES = {
    "all authorisation_type flags": (
        "Every authorisation feature (conditional, exceptional circumstances, accelerated "
        "assessment, PRIME)"
    ),
    "ec dates of indication extensions": (
        "The dates of the European Commission's decisions extending the indication"
    ),
    "current conditional status": "Whether its authorisation is still conditional",
    "post-oct-2025 status": "Its status since October 2025",
    "transgene construct detail": "Details of the transgene construct",
    "vector type": "The type of vector",
    "indication-specific orphan status for fl and 2l dlbcl": (
        "Whether the follicular lymphoma and second-line diffuse large B-cell lymphoma "
        "indications each have their own orphan designation"
    ),
}
#: Reasons in brackets, as the fact sheet writes them -> plain words.
REASONS = {
    "conflict": "sources conflict",
    "esmo vs export conflict": "sources conflict",
    "full": "the full code",
    "not assigned": "none assigned yet",
    "inferred": "inferred, not stated by a source",
    "ec decision": "the European Commission's decision",
    "legal entity": "which legal entity",
    "serotype": "the vector's serotype",
    "product-level orphan designations confirmed": (
        "the product's orphan designations are confirmed"
    ),
    "designation confirmed; maintenance at ma not checked": (
        "the designation is confirmed; whether it was kept at authorisation was not checked"
    ),
    "epar wording not seen; listed among cell-therapy/tep products in a 2019 review table": (
        "the EPAR's wording was not seen; a 2019 review lists it among cell therapy and tissue "
        "engineered products"
    ),
}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
VERIFICATION = {
    "verified": "All core facts checked against sources",
    "partially verified": "Some core facts checked against sources, not all",
    "unverified": "Not yet checked against sources",
}
#: "verified" while some facts are still in doubt: the doubts are the exceptions.
VERIFIED_BUT = "Core facts checked against sources, except those below"


def _ordinal(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else f"number {index + 1}"


def _readable(text: str, *, capital: bool = True) -> str:
    """Notation made readable when nothing better is known: ``a_b.c[0]`` -> ``A b, c 1``."""
    text = re.sub(r"\[(\d+)\]", lambda m: f" {int(m[1]) + 1}", text)
    text = re.sub(r"(?<=[A-Za-z_])\.(?=[A-Za-z_])", ", ", text)  # a dotted path, not "v2.1"
    text = re.sub(r"[_\s]+", " ", text).strip()
    return text[:1].upper() + text[1:] if capital else text


def _fact(text: str) -> str:
    key = text.strip().lower()
    if key in PHRASES:
        return PHRASES[key]
    index = re.search(r"\[(\d+)\]", key)
    path = re.sub(r"\[\d+\]", "", key)
    if path in FIELDS:
        words = FIELDS[path]
        if "{which}" in words:
            which = f"the {_ordinal(int(index[1]))}" if index else "each"
            words = words.format(which=which)
        return words[:1].upper() + words[1:]
    return _readable(text)


def plain_unverified(entry: str) -> str:
    """An entry of ``Product.unverified_fields`` as a sentence: "indications[0].orphan_designation"
    -> "Whether the first indication had an orphan designation"; a reason in brackets stays, in
    plain words ("(sources conflict)")."""
    entry = entry.strip()
    match = re.fullmatch(r"(.*?)\s*\((.*)\)", entry, re.S)
    fact, reason = (match[1], match[2].strip()) if match else (entry, "")
    words = _fact(fact)
    if not reason:
        return words
    reason = REASONS.get(reason.lower()) or _readable(reason, capital=False)
    return f"{words} ({reason})"


def plain_verification(value: str, doubts: Iterable[str] = ()) -> str:
    """``Product.verification`` in words: "verified" -> "All core facts checked against
    sources", or, with ``doubts`` (``Product.unverified_fields``), "… except those below"; a
    value not known here is shown as given, without underscores."""
    value = (value or "").strip()
    if value.lower() == "verified" and any(doubts):
        return VERIFIED_BUT
    return VERIFICATION.get(value.lower()) or _readable(value)


def product_sources(product) -> list[Source]:
    """A product's sources as its page, the API and the CSV list them: its EPAR page first
    (where the EMA publishes one), then ``Product.sources``, by ``ordered_sources``."""
    return ordered_sources([product.epar_url, *product.sources])
