"""The catalogue's domain: ATMPs, how they work, what they treat and their regulatory life.

One module per concern: ``vocabularies`` (the slugged terms), ``product``, ``timeline``
(indications and events), ``search`` (lexicon and synonyms) and ``bookkeeping`` (the catalogue
version, imports). Partial dates and their one order are in ``products/partial_dates.py``.
Everything is importable from here: ``from products.models import Product``.
"""

from products.models.bookkeeping import (
    CatalogueSummary,
    CatalogueVersion,
    ImportRun,
    PendingImport,
)
from products.models.product import (
    ATC_PATTERN,
    INDICATION_NEEDED,
    PRODUCT_NUMBER_PATTERN,
    Product,
    atc_validator,
    product_number_validator,
)
from products.models.search import SearchSynonym, SearchWord
from products.models.timeline import TIMELINE_ORDER, AuthorisationEvent, Indication
from products.models.vocabularies import (
    SLUG_PATTERN,
    Category,
    Company,
    MechanismOfAction,
    NamedVocabulary,
    Slugged,
    TherapeuticArea,
    slug_validator,
    slugify_name,
)
from products.partial_dates import (
    EARLIEST_DATE,
    LATEST_DATE,
    PARTIAL_DATE_PATTERN,
    date_in_range,
    partial_date_sort_key,
    partial_date_validator,
)

__all__ = [
    "ATC_PATTERN",
    "EARLIEST_DATE",
    "INDICATION_NEEDED",
    "LATEST_DATE",
    "PARTIAL_DATE_PATTERN",
    "PRODUCT_NUMBER_PATTERN",
    "SLUG_PATTERN",
    "TIMELINE_ORDER",
    "AuthorisationEvent",
    "CatalogueSummary",
    "CatalogueVersion",
    "Category",
    "Company",
    "ImportRun",
    "Indication",
    "MechanismOfAction",
    "NamedVocabulary",
    "PendingImport",
    "Product",
    "SearchSynonym",
    "SearchWord",
    "Slugged",
    "TherapeuticArea",
    "atc_validator",
    "date_in_range",
    "partial_date_sort_key",
    "partial_date_validator",
    "product_number_validator",
    "slug_validator",
    "slugify_name",
]
