"""How a search text becomes PostgreSQL's full-text query: its terms, their misspellings (the
lexicon's words within a few edits), phrases and synonyms; and the list's "Did you mean" line."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.postgres.search import (
    CombinedSearchQuery,
    SearchQuery,
    SearchQueryCombinable,
    SearchQueryField,
)
from django.db import connection
from django.db.models import Func, TextField, Value
from django.db.models.functions import Coalesce

#: A search term: letters or digits, then letters, digits and the joiners of product names and
#: numbers (CAR-T, EMEA/H/C/004090, CD34+). Quotes, colons, brackets and operators never reach
#: the text-search parser, so no input can make it fail.
SEARCH_TERM = re.compile(r"[^\W_][\w\-/.+]*")
#: Words too common to narrow a search down; dropped unless the query is made only of them.
STOP_WORDS = frozenset({"and", "or", "the", "of", "for", "in", "with", "to", "by", "on", "at"})
MAX_SEARCH_TERMS = 12
#: The longest synonym, in typed terms (``car t cell therapy``).
MAX_PHRASE_TERMS = 4


def search_terms(text: str, *, keep_stop_words: bool = False) -> list[str]:
    """The words of a search, lowercase, without stop words (unless there is nothing else)."""
    terms = [term.rstrip("-/.") for term in SEARCH_TERM.findall(text.lower())]
    terms = [term for term in terms if term]
    if keep_stop_words:
        return terms[:MAX_SEARCH_TERMS]
    return ([term for term in terms if term not in STOP_WORDS] or terms)[:MAX_SEARCH_TERMS]


def term_words(term: str) -> tuple[str, ...]:
    """The words of a term for matching synonyms: ``car-t`` and ``car t`` are both (car, t)."""
    return tuple(word for word in re.split(r"[-/.+]", term) if word)


def is_fuzzy(term: str) -> bool:
    """Whether a misspelling of ``term`` should still match: words, not codes or numbers.

    ``CD19`` must not find CD20, nor EMEA/H/C/004090 every product number.
    """
    return len(term) >= 4 and not any(character.isdigit() for character in term)


def allowed_edits(term: str) -> int:
    """Edits forgiven in a word: one from 4 letters, two from 8 (a transposition is one edit)."""
    if not is_fuzzy(term):
        return 0
    return 2 if len(term) >= 8 else 1


def transpositions(term: str) -> list[str]:
    """``term`` with each pair of neighbouring letters swapped (luxtruna: …, luxturna, …)."""
    return [
        term[:i] + term[i + 1] + term[i] + term[i + 2 :]
        for i in range(len(term) - 1)
        if term[i] != term[i + 1]
    ]


def like_prefix(term: str) -> str:
    """A ``LIKE`` pattern for the words that begin with ``term``."""
    return re.sub(r"([\\%_])", r"\\\1", term) + "%"


def unaccent(expression) -> Func:
    return Func(expression, function="unaccent", output_field=TextField())


def prefix_query(terms: Iterable[str], operator: str) -> SearchQuery:
    """``to_tsquery('simple', unaccent("'t1':* & 't2':*"))``: each term as a word prefix."""
    raw = f" {operator} ".join(f"'{term}':*" for term in terms)
    return SearchQuery(unaccent(Value(raw)), search_type="raw", config="simple")


#: The words of the lexicon within the allowed edits of a typed word that no word begins with,
#: with their Levenshtein distance. The nearest words by trigram distance come from the
#: lexicon's GiST trigram index (``<->``, migration 0011); ``fuzzystrmatch``'s Levenshtein
#: distance keeps those close enough, a swap of neighbouring letters counting as one edit (the
#: word's transpositions, within one edit less). Nothing when the word as typed begins a word of
#: the lexicon: it is found as it is. Parameters: the term, its ``LIKE`` prefix pattern, its
#: transpositions; ``{edits}`` is formatted in (an integer).
CORRECTIONS_SQL = """
    SELECT near.word, levenshtein(near.word, typed.term) AS distance
      FROM (SELECT unaccent(%s) AS term) AS typed,
           LATERAL (SELECT word FROM products_searchword
                     ORDER BY word <-> typed.term LIMIT 40) AS near
     WHERE NOT EXISTS (SELECT 1 FROM products_searchword WHERE word LIKE unaccent(%s))
       AND (levenshtein_less_equal(near.word, typed.term, {edits}) <= {edits}
            OR EXISTS (SELECT 1 FROM unnest(%s::text[]) AS swapped(word)
                        WHERE levenshtein_less_equal(near.word, swapped.word, {edits} - 1)
                              <= {edits} - 1))
"""


def corrections_sql(term: str) -> tuple[str, list]:
    """``CORRECTIONS_SQL`` for ``term``, with its parameters."""
    sql = CORRECTIONS_SQL.format(edits=allowed_edits(term))
    return sql, [term, like_prefix(term), transpositions(term)]


class Corrections(Func):
    """The corrections of a misspelt term (``CORRECTIONS_SQL``) as one tsquery ``'w1' | 'w2'``.

    Each word is quoted as a tsquery lexeme (backslashes escaped, quotes doubled) and the whole
    is cast, not parsed: a word stays one lexeme, whatever its characters. Null if there is none.
    Not correlated with the product: PostgreSQL computes it once per query.
    """

    output_field = SearchQueryField()

    def __init__(self, term: str):
        self.term = term
        super().__init__(Value(term))

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = corrections_sql(self.term)
        quoted = "'''' || replace(replace(word, '\\', '\\\\'), '''', '''''') || ''''"
        return f"(SELECT string_agg({quoted}, ' | ')::tsquery FROM ({sql}) AS corrected)", params


def term_query(term: str) -> SearchQueryCombinable:
    """What finds ``term`` in a search vector: ``'term':*``, and a misspelt word's corrections.

    ``'kimriah':* | 'kymriah'``: the lexicon's trigram index finds the words, then the vector's
    full-text index alone finds the products, however long their documents.
    """
    prefix = prefix_query([term], "&")
    if not is_fuzzy(term):
        return prefix
    # ``prefix || null`` is null: with no correction, the prefix alone (twice) is left.
    return CombinedSearchQuery(
        prefix, SearchQueryCombinable.BITOR, Coalesce(Corrections(term), prefix), config=None
    )


@dataclass(frozen=True)
class SearchUnit:
    """One part of a search: a typed word, or a synonym's phrase and its alternatives."""

    typed: str
    alternatives: tuple[tuple[str, ...], ...] = ()

    def query(self) -> SearchQueryCombinable:
        if not self.alternatives:
            return term_query(self.typed)
        queries = [prefix_query(words, "&") for words in self.alternatives]
        return functools.reduce(operator.or_, queries)


def search_units(text: str) -> tuple[list[SearchUnit], list[str]]:
    """The units of a search, and the words left out because they carry nothing.

    A run of typed words that is the ``term`` of a ``SearchSynonym`` (longest first; ``CAR-T``
    and ``car t`` alike) is one unit with that synonym's alternatives; a synonym with no
    expansion is left out, unless the search has nothing else. One query, for the synonyms.
    """
    from products.models import SearchSynonym

    terms = search_terms(text)
    if not terms:
        return [], []
    words = [term_words(term) for term in terms]

    def phrase(start: int, end: int) -> str:
        return " ".join(word for term in words[start:end] for word in term)

    spans = [
        (start, end)
        for start in range(len(terms))
        for end in range(min(len(terms), start + MAX_PHRASE_TERMS), start, -1)
    ]
    synonyms = {
        row.term: row
        for row in SearchSynonym.objects.filter(term__in={phrase(*span) for span in spans})
    }
    units: list[SearchUnit] = []
    ignored: list[str] = []
    start = 0
    while start < len(terms):
        end = start + 1
        for end in range(min(len(terms), start + MAX_PHRASE_TERMS), start, -1):
            if (synonym := synonyms.get(phrase(start, end))) is not None:
                typed = " ".join(terms[start:end])
                if alternatives := synonym.alternatives:
                    units.append(SearchUnit(typed, tuple(tuple(a) for a in alternatives)))
                else:
                    ignored.append(typed)
                break
        else:
            end = start + 1
            units.append(SearchUnit(terms[start]))
        start = end
    if not units:  # only words that carry nothing: search for them after all
        return [SearchUnit(term) for term in terms], []
    return units, ignored


def suggest_spelling(text: str) -> str:
    """``text`` with each misspelt word replaced by its closest word of the lexicon; "" if none.

    For the list's "Did you mean" line: only words that no word of the lexicon begins with, and
    that a word of the lexicon is within the allowed edits of.
    """
    units, _ignored = search_units(text)
    corrected = {}
    with connection.cursor() as cursor:
        for unit in units:
            if unit.alternatives or not is_fuzzy(unit.typed):
                continue
            sql, params = corrections_sql(unit.typed)
            cursor.execute(f"SELECT word FROM ({sql}) AS c ORDER BY distance, word LIMIT 1", params)
            if row := cursor.fetchone():
                corrected[unit.typed] = row[0]
    if not corrected:
        return ""
    return " ".join(corrected.get(term, term) for term in search_terms(text, keep_stop_words=True))
