"""Every read rule of the catalogue: what is public, listed, searched, counted and prefetched
(how a search text becomes a query: ``products/search.py``)."""

from __future__ import annotations

import datetime
import functools
import operator
import re
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import (
    SearchRank,
    TrigramWordSimilarity,
)
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import (
    Cast,
    Coalesce,
    ExtractYear,
    Lower,
    NullIf,
    RowNumber,
    Substr,
)
from django.utils import timezone

from products.choices import HELD_AUTHORISATION
from products.partial_dates import latest_possible_day, partial_date_order, partial_period
from products.search import prefix_query, search_units, unaccent

if TYPE_CHECKING:
    from products.models import Product

#: Orderings of SPEC.md (``-`` for descending).
ORDERINGS = ("name", "-name", "authorisation_date", "-authorisation_date")


def authorisation_year() -> Coalesce:
    """The year of the first authorisation, from the exact or the partial date; null if unknown."""
    return Coalesce(
        ExtractYear("authorisation_date"),
        Cast(NullIf(Substr("authorisation_date_partial", 1, 4), Value("")), models.IntegerField()),
    )


#: The fields a row of the product table shows (``product_row``), its category's and holder's.
LIST_COLUMNS = (
    "slug",
    "name",
    "inn",
    "aliases",
    "status",
    "status_date",
    "status_reason",
    "authorisation_date",
    "authorisation_date_partial",
    "category__slug",
    "category__name",
    "holder__name",
)


def status_in(statuses: Iterable[str]) -> Q:
    """The products of these statuses, as a condition (``count_by_each``'s ``within``)."""
    return Q(status__in=list(statuses))


def vocabulary_rows(path: str, rows: list[dict]) -> list[dict]:
    """``count_by(f"{path}__slug", f"{path}__name")``'s rows as ``slug``, ``name``, ``count``."""
    return [
        {"slug": row[f"{path}__slug"], "name": row[f"{path}__name"], "count": row["count"]}
        for row in rows
    ]


class ProductQuerySet(models.QuerySet):
    def published(self) -> ProductQuerySet:
        """Products the public may see."""
        return self.filter(is_published=True)

    def terms_in_use(self, path: str) -> models.QuerySet:
        """The terms of the vocabulary at ``path`` that a product of this queryset uses.

        ``path`` leads from a product to the vocabulary: ``holder``, ``mechanisms``,
        ``indications__therapeutic_areas`` or ``category``. ``Product.objects.published()
        .terms_in_use("holder")`` are the public holders: the new holder, mechanism or area of a
        draft stays out of the public vocabularies, filters and schema until a published product
        uses it (curators see every term in the admin). One ``EXISTS`` in the query of the terms.
        """
        model = self.model
        for name in path.split("__"):
            model = model._meta.get_field(name).related_model
        used = self.order_by().filter(**{path: OuterRef("pk")})
        return model._default_manager.filter(Exists(used))

    def by_former_slug(self, slug: str) -> Product | None:
        """The product one of whose former names (``aliases``) has this slug (``durveqtix``).

        Products whose search vector has every word of the slug (the full-text index), then the
        slugs of their former names compared; None if none has it.
        """
        from products.models import slugify_name

        words = [word for word in re.split(r"[-_]+", slug.lower()) if word]
        if not words:
            return None
        candidates = self.filter(search_vector=prefix_query(words, "&")).exclude(aliases=[])
        for product in candidates.only("slug", "aliases").order_by("pk"):
            if any(slugify_name(alias) == slug for alias in product.aliases):
                return product
        return None

    def held_authorisation(self) -> ProductQuerySet:
        """Products that hold or have held an EU marketing authorisation (the default list)."""
        return self.filter(status__in=HELD_AUTHORISATION)

    def search(self, text: str) -> ProductQuerySet:
        """Full-text search, ranked, forgiving misspellings and partial words; accents ignored.

        Each unit of ``text`` (``search_units``: a word, or a synonym's alternatives) is looked
        for in the product's search vector (brand and former names, INN, product number, ATC
        code, platform, target, category, mechanisms, holder, indications and therapeutic areas):
        a word as the beginning of a word (``onasem`` finds onasemnogene) or, when no word begins
        so, as a misspelt word (``kimriah`` finds Kymriah, ``luxtruna`` Luxturna; see
        ``term_query``). Products with every unit, if there are any; otherwise those with any
        unit, the ones with most first (``search_matched``), so that one word nobody used never
        empties a search. With the vector's full-text index: one query for the synonyms, one to
        learn whether every unit is found anywhere (when there is more than one), one for the
        list. Annotates ``search_rank`` (and ``search_matched`` when not every unit is found) for
        ``order_by_relevance()``.
        """
        units, _ignored = search_units(text)
        if not units:
            return self
        queries = [unit.query() for unit in units]
        typed = " ".join(unit.typed for unit in units)
        rank = SearchRank(
            F("search_vector"), functools.reduce(operator.or_, queries)
        ) + TrigramWordSimilarity(unaccent(Value(typed)), unaccent(Lower("name")))
        every = self.filter(search_vector=functools.reduce(operator.and_, queries))
        if len(units) == 1 or every.exists():
            return every.annotate(search_rank=rank)
        matched = functools.reduce(
            operator.add,
            [Case(When(search_vector=query, then=1), default=0) for query in queries],
        )
        return self.filter(search_vector=functools.reduce(operator.or_, queries)).annotate(
            search_rank=rank, search_matched=matched
        )

    def order_by_relevance(self) -> ProductQuerySet:
        """Best matches first after ``search()`` (most units found, then rank); else by name."""
        if "search_matched" in self.query.annotations:
            return self.order_by(
                F("search_matched").desc(), F("search_rank").desc(), "name", "slug"
            )
        if "search_rank" in self.query.annotations:
            return self.order_by(F("search_rank").desc(), "name", "slug")
        return self.order_by("name", "slug")

    def ordered(self, keys: Iterable[str]) -> ProductQuerySet:
        """Order by SPEC.md's ``ordering`` values; unknown dates last either way, then by name."""
        expressions = []
        for key in keys:
            descending = key.startswith("-")
            field = key.removeprefix("-")
            if field == "authorisation_date":
                expression = partial_date_order("authorisation_date", "authorisation_date_partial")
            elif field == "name":
                expression = F("name")
            else:
                raise ValueError(f"unknown ordering {key!r}")
            expressions.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return self.order_by(*expressions, "name", "slug")

    def authorised_from(self, start: datetime.date) -> ProductQuerySet:
        """First authorised on or after ``start``; a partial date counts when all of it does."""
        first_day, _last_day = partial_period("authorisation_date_partial")
        return self.alias(partial_first_day=first_day).filter(
            Q(authorisation_date__gte=start) | Q(partial_first_day__gte=start)
        )

    def authorised_to(self, end: datetime.date) -> ProductQuerySet:
        """First authorised on or before ``end``; a partial date counts when all of it does."""
        _first_day, last_day = partial_period("authorisation_date_partial")
        return self.alias(partial_last_day=last_day).filter(
            Q(authorisation_date__lte=end) | Q(partial_last_day__lte=end)
        )

    def in_therapeutic_area_ids(self, ids: Iterable[int]) -> ProductQuerySet:
        """Products with an indication in any of these therapeutic areas (no duplicate rows), by
        the areas' ids: the callers (a validated filter, an area's page) hold the areas already,
        so there is no subquery to build, plan and run."""
        # The areas' ids are kept on each product (migration 0008) and GIN-indexed (0013): an
        # overlap of arrays, no join through indications.
        return self.filter(therapeutic_area_ids__overlap=list(ids))

    def with_mechanisms(self, slugs: Iterable[str]) -> ProductQuerySet:
        """Products that work by any of these mechanisms (no duplicate rows)."""
        through = self.model.mechanisms.through.objects.filter(
            mechanismofaction__slug__in=list(slugs)
        )
        return self.filter(pk__in=through.values("product_id"))

    def count_by(self, *fields: str) -> list[dict]:
        """One row per distinct value of ``fields`` with the ``count`` of products having it.

        One aggregate query, whatever the size of the catalogue. Products count once per value,
        also through many-to-many paths (``indications__therapeutic_areas__slug``); products
        with no value count under ``None``. Fields of the product and of its foreign keys are
        grouped directly (one pass over the selection, no ``DISTINCT``): the querysets of the
        catalogue's filters hold each product once (many-to-many filters are ``IN`` subqueries).
        """
        if self.query.distinct or any(self.is_multi_valued(path) for path in fields):
            products = self.model._default_manager.filter(pk__in=self.order_by().values("pk"))
            rows = products.values(*fields).annotate(count=Count("pk", distinct=True))
        else:
            rows = self.values(*fields).annotate(count=Count("pk"))
        return list(rows.order_by())

    def count_by_each(
        self,
        groups: Sequence[Sequence[str]],
        *,
        within: Q | None = None,
        whole: Collection[int] = (),
    ) -> list[list[dict]]:
        """``[self.count_by(*fields) for fields in groups]`` in one query (``GROUPING SETS``).

        The filter panel counts a dozen groups over the same selection: one pass over it instead
        of one query each. Each group's fields must be of the product or its foreign keys; a
        selection that may repeat a product (``DISTINCT``) is counted group by group.

        With ``within``, the groups count ``self.filter(within)``, except those whose index is in
        ``whole``, which count all of ``self``: two selections, one inside the other, in the same
        pass (``COUNT(...) FILTER``). Values no product of a group's selection has get no row.
        """
        groups = [tuple(fields) for fields in groups]
        if (
            self.query.distinct
            or len(set(groups)) < len(groups)
            or any(self.is_multi_valued(path) for fields in groups for path in fields)
        ):
            return [
                (self if within is None or index in whole else self.filter(within)).count_by(
                    *fields
                )
                for index, fields in enumerate(groups)
            ]
        columns = list(dict.fromkeys(path for fields in groups for path in fields))
        selection = self.order_by()
        if within is not None:
            selection = selection.annotate(
                _within=ExpressionWrapper(within, output_field=models.BooleanField())
            )
        else:
            selection = selection.annotate(_within=Value(True))
        try:
            selection_sql, params = selection.values(
                "pk", *columns, "_within"
            ).query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing writes no SQL
            return [[] for _fields in groups]
        names = [f"c{index}" for index in range(len(columns))]
        number = {path: index for index, path in enumerate(columns)}
        sets = ", ".join(
            "(" + ", ".join(names[number[path]] for path in fields) + ")" for fields in groups
        )
        # GROUPING(...) has a bit per column, set where the row's grouping set lacks it: it tells
        # a group's "no value" (NULL) from a row of another group.
        sql = (
            f"SELECT GROUPING({', '.join(names)}), {', '.join(names)},"
            " COUNT(pk), COUNT(pk) FILTER (WHERE within)"
            f" FROM ({selection_sql}) AS selected(pk, {', '.join(names)}, within)"
            f" GROUP BY GROUPING SETS ({sets})"
        )
        masks = {}
        for index, fields in enumerate(groups):
            grouped = {number[path] for path in fields}
            bits = (int(i not in grouped) << (len(columns) - 1 - i) for i in range(len(columns)))
            masks[sum(bits)] = index
        counted: list[list[dict]] = [[] for _fields in groups]
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            for mask, *values, every, inside in cursor.fetchall():
                index = masks[mask]
                if count := (every if index in whole else inside):
                    row = {path: values[number[path]] for path in groups[index]}
                    counted[index].append({**row, "count": count})
        return counted

    def count_by_vocabulary(self, path: str) -> list[dict]:
        """Products per value of the vocabulary at ``path`` (``category``, ``holder``,
        ``mechanisms``, ``indications__therapeutic_areas``): rows of its ``slug``, ``name`` and
        ``count``, with ``None`` for the products that have none; areas also carry their
        ``plain_name``.

        Therapeutic areas are counted from the array of area ids that the database keeps on each
        product (migration 0008): one pass over the product rows instead of a join through the
        indications with ``DISTINCT``. A many-to-many field of the product (``mechanisms``) is
        counted from its through table's rows of the selected products, each pair once: no
        ``DISTINCT`` either.
        """
        if path == "indications__therapeutic_areas":
            return self._count_by_area_ids()
        field = self.model._meta.get_field(path) if "__" not in path else None
        if field is not None and field.many_to_many:
            return self._count_by_through(field)
        return vocabulary_rows(path, self.count_by(f"{path}__slug", f"{path}__name"))

    def _count_by_through(self, field) -> list[dict]:
        # A through table holds each (product, term) pair once (its unique constraint), so the
        # pairs of the selected products, grouped by term, count products; a product with no
        # term joins no pair and counts under NULL, as in ``count_by``.
        through = field.remote_field.through._meta
        product_column = through.get_field(field.m2m_field_name()).column
        term_column = through.get_field(field.m2m_reverse_field_name()).column
        selection = self.order_by().values("pk")
        if self.query.distinct:
            selection = selection.distinct()
        try:
            selection_sql, params = selection.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (``none()``) writes no SQL
            return []
        database = connections[self.db]
        quote = database.ops.quote_name
        sql = f"""
            SELECT term.slug, term.name, counts.count
              FROM (SELECT pair.{quote(term_column)} AS term_id, COUNT(*) AS count
                      FROM ({selection_sql}) AS selected(pk)
                      LEFT JOIN {quote(through.db_table)} AS pair
                        ON pair.{quote(product_column)} = selected.pk
                     GROUP BY 1) AS counts
              LEFT JOIN {quote(field.related_model._meta.db_table)} AS term
                ON term.id = counts.term_id
        """
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return [
                {"slug": slug, "name": name, "count": count}
                for slug, name, count in cursor.fetchall()
            ]

    def _count_by_area_ids(self) -> list[dict]:
        # Django's ORM cannot aggregate over ``unnest``, hence the SQL around the queryset's own.
        from products.models import TherapeuticArea

        selection = self.order_by().values("pk", "therapeutic_area_ids")
        try:
            selection_sql, params = selection.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (``none()``) writes no SQL
            return []
        database = connections[self.db]
        area = database.ops.quote_name(TherapeuticArea._meta.db_table)
        sql = f"""
            SELECT area.slug, area.name, area.plain_name, counts.count
              FROM (SELECT area_id, COUNT(*) AS count
                      FROM ({selection_sql}) AS selected
                      LEFT JOIN LATERAL unnest(selected.therapeutic_area_ids) AS area_id ON TRUE
                     GROUP BY area_id) AS counts
              LEFT JOIN {area} AS area ON area.id = counts.area_id
        """
        with database.cursor() as cursor:
            cursor.execute(sql, params)
            return [
                {"slug": slug, "name": name, "count": count, "plain_name": plain_name}
                for slug, name, plain_name, count in cursor.fetchall()
            ]

    def is_multi_valued(self, path: str) -> bool:
        """Whether ``path`` crosses a relation that gives a product more than one row."""
        model = self.model
        for name in path.split("__"):
            field = model._meta.get_field(name)
            if field.many_to_many or field.one_to_many:
                return True
            if not field.is_relation:
                return False
            model = field.related_model
        return False

    def authorisations_per_year(self) -> list[dict]:
        """Rows of ``year``, ``category`` (slug or None) and ``count``; year None when unknown."""
        return list(
            self.annotate(year=authorisation_year())
            .values("year", category_slug=F("category__slug"))
            .annotate(count=Count("pk"))
            .order_by("year", "category_slug")
        )

    def for_list(self) -> ProductQuerySet:
        """What a row of the product table shows (``_product_table.html``), in the rows' one
        query: category, holder, and ``area_names``, the names of the indications' therapeutic
        areas in the order the product page lists them (``area_names()``). Not the mechanisms or
        events that ``with_related`` also fetches, nor the indications as objects: the two
        prefetches of indications and their areas built a few hundred objects a page. Only the
        columns a row shows (``LIST_COLUMNS``): a row read other fields one query each."""
        related = self.select_related("category", "holder").only(*LIST_COLUMNS)
        return related.annotate(area_names=area_names())

    def with_related(self) -> ProductQuerySet:
        """All that a list, a detail page, the CSV or the API shows, in a fixed number of queries"""
        from products.models import AuthorisationEvent, Indication

        # The search vector is a large part of each row, kept by triggers and read only in SQL.
        related = self.select_related("category", "holder").defer("search_vector")
        return related.prefetch_related(
            "mechanisms",
            Prefetch(
                "indications",
                queryset=Indication.objects.prefetch_related("therapeutic_areas"),
            ),
            Prefetch("events", queryset=AuthorisationEvent.objects.all()),
        )


def area_names() -> ArraySubquery:
    """The display names (``TherapeuticArea.display_name``: the plain name, else the MeSH
    heading) of the therapeutic areas of a product's indications, as an array: indications in
    their order, each one's areas by name, as ``indication.therapeutic_areas.all()`` lists them
    when prefetched (a name may repeat). Correlated with the product (``OuterRef("pk")``):
    after a page's ``LIMIT``, PostgreSQL computes it for the rows shown only."""
    from products.models import Indication

    through = Indication.therapeutic_areas.through
    return ArraySubquery(
        through.objects.filter(indication__product=OuterRef("pk"))
        .order_by("indication__position", "indication__pk", "therapeuticarea__name")
        .values(
            name=Coalesce(NullIf("therapeuticarea__plain_name", Value("")), "therapeuticarea__name")
        )
    )


def latest_events(queryset: models.QuerySet, *, limit: int) -> list:
    """The most recent dated events of ``queryset`` (of events), newest first, with their product.

    Dated: an exact, month or year date (not only a "no later than" one). Newest in the
    timeline's order read backwards (``products/partial_dates.py``: a month before the days of
    that month), from its index (``AuthorisationEvent.Meta.indexes``): one short read, whatever
    the number of events.
    """
    from products.models.timeline import event_order

    events = queryset.exclude(date__isnull=True, date_partial="").select_related("product")
    return list(events.order_by(event_order().desc(), F("id").desc())[:limit])


def events_newest_first(products: models.QuerySet, *, limit: int) -> models.QuerySet:
    """The events of ``products`` that have a place in time, newest first, with their product.

    In the timeline's order, read backwards (``products/partial_dates.py``). Annotates
    ``latest_day`` (``latest_possible_day()``: the ``updated`` of a feed's entry) and
    ``same_day_number``: 1 for the first event of its product with this kind and date, 2 for
    the next (two indications may lose their orphan designations in the same month), so that
    each has its own stable name.
    An event with no date, month, year or "no later than" is left out. One query.
    """
    from products.models.timeline import AuthorisationEvent, event_order

    selected = products.order_by().values("pk")
    same_day = [F("product_id"), F("kind"), F("date"), F("date_partial"), F("known_by")]
    return (
        AuthorisationEvent.objects.filter(product__in=selected)
        .annotate(
            latest_day=latest_possible_day("date", "date_partial", "known_by"),
            same_day_number=Window(RowNumber(), partition_by=same_day, order_by=F("id").asc()),
        )
        .filter(latest_day__isnull=False)
        .select_related("product")
        .order_by(event_order().desc(), F("id").desc())[:limit]
    )


#: How long an upload waits for its confirmation in the admin's import.
PENDING_IMPORT_MAX_AGE = datetime.timedelta(days=1)


class PendingImportQuerySet(models.QuerySet):
    def expired(self) -> PendingImportQuerySet:
        """Uploads older than :data:`PENDING_IMPORT_MAX_AGE`, never to be confirmed."""
        return self.filter(created_at__lt=timezone.now() - PENDING_IMPORT_MAX_AGE)
