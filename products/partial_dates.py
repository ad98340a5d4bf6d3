"""Dates known to a day, a month or a year, and "no later than" dates: their form and one order.

A fact may be dated exactly (``2018-08-23``), to the month (``2018-06``) or the year (``2018``),
or, for an event whose date is not known, by a day it had happened by (``known_by``: "by 27
October 2025"). Each of these names a *period*: the day itself, the days of the month or year,
or every day up to the "no later than" date.

**The order** (``partial_date_order``): a fact sorts at the last day it can have happened (the
day, the last day of its month or year, its "no later than" date). Of facts with the same last
day, the one known more precisely comes first (``Precision``: a day, a month, a year, then a "no
later than" date). So ``2018-06-03`` < ``2018-06`` < ``2018-12-31`` < ``2018``, and "by
2018-06-30" follows both ``2018-06-30`` and ``2018-06``: a fact known only to the month or year is,
within it, as likely to be late as early, and timelines put an authorisation after the opinion of
the same month. A fact with no date at all has no place (null) and sorts last.

The rule is one SQL expression, ``partial_date_order()``: the querysets, the admin, the
timeline's ``Meta.ordering`` and its index all use it. Rows already in memory (an edited timeline
that is not saved yet, the fact sheet's events) sort with ``partial_date_sort_key``, which
computes the same number in Python from the same parts (``EPOCH``, ``Precision``, a partial
date's period); ``tests/test_querysets.py`` proves both give the same value on the same rows in
PostgreSQL.
"""

from __future__ import annotations

import calendar
import datetime
import enum

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Func, Q, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast, Coalesce, Length, NullIf, Substr
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

#: The centralised procedure began in 1995; nothing in the catalogue can be older.
EARLIEST_DATE = datetime.date(1995, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
#: Day 0 of ``partial_date_order``'s numbers.
EPOCH = EARLIEST_DATE

PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"
PARTIAL_DATE_MESSAGE = _("Give a year (2026) or a year and month (2026-04).")
partial_date_validator = RegexValidator(PARTIAL_DATE_PATTERN, PARTIAL_DATE_MESSAGE)


def partial_date_field(help_text: str) -> models.CharField:
    """A date known only to the year or month (``2026``, ``2026-04``); empty where the exact
    date (or nothing) is known. Its model adds ``partial_date_constraints``."""
    return models.CharField(
        max_length=7, blank=True, validators=[partial_date_validator], help_text=help_text
    )


class Precision(enum.IntEnum):
    """How precisely a fact's time is known; of facts with the same last day, the first first."""

    DAY = 0
    MONTH = 1
    YEAR = 2
    KNOWN_BY = 3


def date_in_range(field: str) -> Q:
    """A condition that the date in ``field`` is either unknown or within the sensible range."""
    return Q(**{f"{field}__isnull": True}) | Q(
        **{f"{field}__gte": EARLIEST_DATE, f"{field}__lte": LATEST_DATE}
    )


def date_range_constraint(
    field: str, message: str = _("The date is outside 1995–2099.")
) -> models.CheckConstraint:
    """The database's rule that the date in ``field`` is unknown or in range
    (``date_in_range``), named ``<field>_range``, for a model's ``Meta.constraints``."""
    return models.CheckConstraint(
        condition=date_in_range(field),
        name=f"%(app_label)s_%(class)s_{field}_range",
        violation_error_message=message,
    )


def partial_date_constraints(
    date: str, partial: str, *, one_date_rule: str
) -> list[models.CheckConstraint]:
    """The database's rules for an exact date and its partial twin (``Meta.constraints`` of a
    model with such a pair): the partial date's form, and not both."""
    return [
        models.CheckConstraint(
            condition=Q(**{partial: ""}) | Q(**{f"{partial}__regex": PARTIAL_DATE_PATTERN}),
            name="%(app_label)s_%(class)s_partial_date_format",
            violation_error_message=PARTIAL_DATE_MESSAGE,
        ),
        models.CheckConstraint(
            condition=Q(**{f"{date}__isnull": True}) | Q(**{partial: ""}),
            name=f"%(app_label)s_%(class)s_{one_date_rule}",
            violation_error_message=_("Give the exact or the partial date, not both."),
        ),
    ]


# In SQL. Only immutable functions (``make_date``, ``substring``, casts to integer, date
# arithmetic): the expression is also an index's.


def _year_and_month(partial: str, *, missing_month: int) -> tuple[Cast, Coalesce]:
    """The year and month of a partial date, as SQL; ``missing_month`` for a year alone."""
    year = Cast(Substr(partial, 1, 4), models.IntegerField())
    month = NullIf(Substr(partial, 6, 2), Value(""))  # "" for a year alone
    return year, Coalesce(Cast(month, models.IntegerField()), Value(missing_month))


def _make_date(year, month, day) -> Func:
    return Func(year, month, day, function="make_date", output_field=models.DateField())


def partial_period(partial: str) -> tuple[Func, Func]:
    """The first and last day of the partial date in field ``partial`` (``2026`` or
    ``2026-04``), as SQL; both null when it is empty."""
    known = ~Q(**{partial: ""})
    first_day = _make_date(*_year_and_month(partial, missing_month=1), Value(1))
    last_month = _make_date(*_year_and_month(partial, missing_month=12), Value(1))
    last_day = Func(
        last_month,
        template="(%(expressions)s + interval '1 month - 1 day')::date",
        output_field=models.DateField(),
    )
    return (
        models.Case(When(known, then=first_day), output_field=models.DateField()),
        models.Case(When(known, then=last_day), output_field=models.DateField()),
    )


def latest_possible_day(date: str, partial: str, known_by: str | None = None) -> Coalesce:
    """The last day the fact can have happened, as SQL: its date, the last day of its month or
    year, or its "no later than" date; null when nothing is known. Never shown as a day."""
    _first_day, last_day = partial_period(partial)
    days = [F(date), last_day, *([F(known_by)] if known_by else [])]
    return Coalesce(*days, output_field=models.DateField())


def precision(date: str, partial: str) -> models.Case:
    """How precisely the fact's time is known (``Precision``), as SQL."""
    return models.Case(
        When(Q(**{f"{date}__isnull": False}), then=Value(Precision.DAY.value)),
        When(Exact(Length(partial), 7), then=Value(Precision.MONTH.value)),
        When(Exact(Length(partial), 4), then=Value(Precision.YEAR.value)),
        default=Value(Precision.KNOWN_BY.value),
        output_field=models.IntegerField(),
    )


def partial_date_order(date: str, partial: str, known_by: str | None = None) -> CombinedExpression:
    """The fact's place in time (module docstring) as an integer, in SQL; null if not known:
    ``(latest possible day - EPOCH) * len(Precision) + precision``.

    ``date``, ``partial`` and ``known_by`` name the fields of the exact date, the partial date
    and the "no later than" date (a product's first authorisation has none).
    """
    days = Func(
        latest_possible_day(date, partial, known_by),
        template=f"(%(expressions)s - DATE '{EPOCH.isoformat()}')",
        output_field=models.IntegerField(),
    )
    return days * len(Precision) + precision(date, partial)


# In Python, for rows in memory: the same number from the same parts.


def period_of(partial: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a partial date (``2026``, ``2026-04``)."""
    year, _sep, month = partial.partition("-")
    first_month, last_month = (int(month), int(month)) if month else (1, 12)
    last = calendar.monthrange(int(year), last_month)[1]
    return datetime.date(int(year), first_month, 1), datetime.date(int(year), last_month, last)


def latest_possible_day_of(
    date: datetime.date | None, partial: str, known_by: datetime.date | None = None
) -> datetime.date | None:
    """``latest_possible_day()`` for these values."""
    return date or (period_of(partial)[1] if partial else None) or known_by


def precision_of(date: datetime.date | None, partial: str) -> Precision:
    """``precision()`` for these values."""
    if date is not None:
        return Precision.DAY
    if partial:
        return Precision.MONTH if "-" in partial else Precision.YEAR
    return Precision.KNOWN_BY


def partial_date_order_value(
    date: datetime.date | None, partial: str, known_by: datetime.date | None = None
) -> int | None:
    """``partial_date_order()``'s number for these values; None when nothing is known."""
    day = latest_possible_day_of(date, partial, known_by)
    if day is None:
        return None
    return (day - EPOCH).days * len(Precision) + precision_of(date, partial)


def partial_date_sort_key(
    date: datetime.date | None, partial: str, known_by: datetime.date | None = None
) -> tuple[bool, int]:
    """A key for ``sorted()`` in the order of ``partial_date_order()`` (unknown last)."""
    value = partial_date_order_value(date, partial, known_by)
    return (value is None, value or 0)
