"""The public change log of a product: which facts changed, and when; never who changed them.

Built from django-simple-history's records of the product, its indications and its events (three
queries). Editors see the full history, with names, in the admin. The same records tell an editor
whose save was refused what others changed since the page was opened (``changes_since``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.db.models import Exists, OuterRef, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from products.models import AuthorisationEvent, Indication, Product

#: Product fields whose changes are editorial, not facts: not shown in the public log.
PRIVATE_FIELDS = ("is_published",)


class ChangeLogEntry(TypedDict):
    date: datetime.date
    added: bool  # the product entered the catalogue that day
    fields: list[str]  # what changed that day, as the public page names it


def _field_label(name: str) -> str:
    return str(Product._meta.get_field(name).verbose_name)


def _local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def _row_changes(records: Iterable, label: str) -> Iterable[tuple[datetime.datetime, str]]:
    """(when, label) for each addition, removal or real change of related rows."""
    previous_by_id = {}
    for record in records:
        previous = previous_by_id.get(record.id)
        previous_by_id[record.id] = record
        if record.history_type in ("+", "-") or previous is None:
            yield record.history_date, label
        elif record.diff_against(previous).changed_fields:
            yield record.history_date, label


def _changes(product: Product) -> list[tuple[datetime.datetime, str | None]]:
    """Every dated change: (when, field label), or (when, None) for the product's creation."""
    changes: list[tuple[datetime.datetime, str | None]] = []
    previous = None
    for record in product.history.order_by("history_date", "history_id"):
        if record.history_type == "+" or previous is None:
            changes.append((record.history_date, None))
        else:
            delta = record.diff_against(previous, excluded_fields=PRIVATE_FIELDS)
            changes.extend((record.history_date, _field_label(f)) for f in delta.changed_fields)
        previous = record
    related = (
        (Indication.history, _("indications")),
        (AuthorisationEvent.history, _("authorisation timeline")),
    )
    for manager, label in related:
        records = manager.filter(product_id=product.pk).order_by("history_date", "history_id")
        changes.extend(_row_changes(records, label))
    return changes


def public_change_log(product: Product, limit: int = 10) -> list[ChangeLogEntry]:
    """The product's changes grouped by day, newest first: at most ``limit`` days.

    A day on which the product was added reads "added" and lists nothing else.
    """
    days: dict[datetime.date, dict[str, bool]] = defaultdict(dict)  # ordered set of labels
    added: set[datetime.date] = set()
    for moment, label in _changes(product):
        day = _local_date(moment)
        if label is None:
            added.add(day)
        else:
            days[day][label] = True
    entries = [
        ChangeLogEntry(date=day, added=day in added, fields=[] if day in added else list(labels))
        for day, labels in days.items()
    ]
    entries += [ChangeLogEntry(date=day, added=True, fields=[]) for day in added - days.keys()]
    entries.sort(key=lambda entry: entry["date"], reverse=True)
    return entries[:limit]


def last_updated(product: Product) -> datetime.datetime:
    """When any public fact of the product last changed (its indications and events included)."""
    moments = [moment for moment, _label in _changes(product)]
    return max(moments) if moments else product.updated_at


# The admin's history page of a product ---------------------------------------------------------

#: How long after a product's save its inline rows may be saved (one request of the admin).
SAME_SAVE = datetime.timedelta(seconds=60)
ROW_ACTIONS = {"+": _("added"), "~": _("changed"), "-": _("removed")}


def attach_related_changes(records: list) -> None:
    """Give each historical record of one product the inline changes saved with it.

    ``record.related_changes`` lists the indications and events the same editor added, changed
    or removed in the same save: ``{"row", "action", "changes": [{"field", "old", "new"}]}``.
    ``records`` are newest first, as the admin lists them.
    """
    from simple_history.template_utils import HistoricalRecordContextHelper

    if not records:
        return
    rows = []
    for model, label in ((Indication, _("Indication")), (AuthorisationEvent, _("Event"))):
        previous_by_id = {}
        for row in model.history.filter(product_id=records[0].id).order_by("history_date"):
            previous = previous_by_id.get(row.id)
            previous_by_id[row.id] = row
            changes = []
            if row.history_type == "~" and previous is not None:
                delta = row.diff_against(previous)
                if not delta.changes:
                    continue
                changes = HistoricalRecordContextHelper(model, row).context_for_delta_changes(delta)
            rows.append(
                {
                    "when": row.history_date,
                    "user_id": row.history_user_id,
                    "row": f"{label} “{row.instance}”",
                    "action": ROW_ACTIONS[row.history_type],
                    "changes": changes,
                }
            )
    newer = None
    for record in records:
        end = record.history_date + SAME_SAVE
        if newer is not None:
            end = min(end, newer.history_date)
        record.related_changes = [
            row
            for row in rows
            if row["user_id"] == record.history_user_id and record.history_date <= row["when"] < end
        ]
        newer = record


# Edits that crossed: what changed since an editor opened a product's page -----------------------


@dataclass(frozen=True)
class Revision:
    """A product as a page showed it: its ``updated_at`` and its newest history records.

    Every writer saves the product row when it changes the product, its indications or its events
    (the admin, the EMA import, ``load_catalogue``; the indication and event pages touch it), so a
    different ``updated_at`` means another save; the record ids say what that save changed.
    """

    updated_at: datetime.datetime
    product_record: int
    indication_record: int
    event_record: int

    def __str__(self) -> str:
        ids = (self.product_record, self.indication_record, self.event_record)
        return "|".join([self.updated_at.isoformat(), *map(str, ids)])

    @classmethod
    def parse(cls, text: str) -> Revision:
        """The revision written by ``str()``; ``ValueError`` when it is not one."""
        stamp, *ids = text.split("|")
        if len(ids) != 3:
            raise ValueError(f"not a revision: {text!r}")
        updated_at = datetime.datetime.fromisoformat(stamp)
        if timezone.is_naive(updated_at):
            raise ValueError(f"not a revision: {text!r}")
        return cls(updated_at, *(int(value) for value in ids))


def _newest_record(manager, **lookups) -> Subquery:
    return Subquery(manager.filter(**lookups).order_by("-history_id").values("history_id")[:1])


def product_revision(product_id: int, *, lock: bool = False) -> Revision | None:
    """The product's revision now (one query); ``lock``: under its row lock, for a save."""
    products = Product.objects.filter(pk=product_id)
    if lock:
        products = products.select_for_update(of=("self",))
    row = (
        products.annotate(
            product_record=_newest_record(Product.history, id=OuterRef("pk")),
            indication_record=_newest_record(Indication.history, product_id=OuterRef("pk")),
            event_record=_newest_record(AuthorisationEvent.history, product_id=OuterRef("pk")),
        )
        .values_list("updated_at", "product_record", "indication_record", "event_record")
        .first()
    )
    if row is None:
        return None
    return Revision(row[0], *(record_id or 0 for record_id in row[1:]))


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return _("empty")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        value = "; ".join(map(str, value))
    if isinstance(value, datetime.date):
        value = value.isoformat()
    text = " ".join(str(value).split())
    return f"“{text[:77]}…”" if len(text) > 80 else f"“{text}”"


def _field_value(name: str, value: Any) -> str:
    field = Product._meta.get_field(name)
    if field.choices and value not in (None, ""):
        value = dict(field.flatchoices).get(value, value)
    return _shown(value)


def _writer(record) -> tuple[str, str]:
    """(who, when) of a record: the import ("EMA import of …") or the editor's name."""
    who = record.history_change_reason or (
        record.history_user.get_username() if record.history_user else _("someone")
    )
    return who, f"{timezone.localtime(record.history_date):%Y-%m-%d %H:%M:%S}"


def changes_since(product_id: int, opened: Revision) -> tuple[list[str], list[str]]:
    """(who, what): the writers and changes recorded for a product after ``opened``.

    What reads "Status: “Authorised” -> “Suspended”" for the product's own fields (as the page
    showed them, then as saved now) and "Authorisation event “Suspension (2026-11-30)” added" for
    its rows; who names each import ("EMA import of …") or editor once, with the time it began.
    """
    records = list(
        Product.history.filter(id=product_id, history_id__gt=opened.product_record)
        .select_related("history_user")
        .order_by("history_id")
    )
    writers = [_writer(record) for record in records]
    what = []
    shown = Product.history.filter(history_id=opened.product_record).first()
    if records and shown is not None:
        delta = records[-1].diff_against(
            shown, excluded_fields=("created_at", "updated_at"), foreign_keys_are_objs=True
        )
        for change in delta.changes:
            label = _field_label(change.field)
            label = label[:1].upper() + label[1:]  # "ATC code", "EPAR URL" as the model says
            old = _field_value(change.field, change.old)
            what.append(f"{label}: {old} -> {_field_value(change.field, change.new)}")
    related = (
        (Indication.history, opened.indication_record, _("Indication")),
        (AuthorisationEvent.history, opened.event_record, _("Authorisation event")),
    )
    for manager, newest_shown, label in related:
        rows = manager.filter(product_id=product_id, history_id__gt=newest_shown)
        for row in rows.select_related("history_user").order_by("history_id"):
            what.append(f"{label} “{row.instance}” {ROW_ACTIONS[row.history_type]}")
            writers.append(_writer(row))
    began = {}
    for who, when in writers:
        began.setdefault(who, when)
    return [f"{who} ({when})" for who, when in began.items()], what


# The home page's recently updated entries ------------------------------------------------------


class RecentChange(TypedDict):
    product: Product
    date: datetime.date
    fields: list[str]


def recent_fact_changes(products, *, limit: int = 5, window: int = 40) -> list[RecentChange]:
    """The products of ``products`` whose public facts changed most recently, with what changed.

    A change is one of ``public_change_log``'s days that is not the day the product was added:
    a load or an import that rewrites a product without changing a fact is no update. The
    candidates are the products of the newest ``window`` records of products, their indications
    and their events written after the product was added (three short reads of the history
    tables' newest rows); at most ``2 * limit`` of them have their change log read (3 queries
    each), so the home page makes a bounded number of queries whatever the catalogue's size.
    """

    def after_added(product: str) -> Exists:  # written after the save that added the product
        return Exists(
            Product.history.filter(
                id=OuterRef(product),
                history_type="+",
                history_date__lt=OuterRef("history_date") - Value(SAME_SAVE),
            )
        )

    candidates: dict[int, datetime.datetime] = {}
    sources = (
        # A product's "+" record is its adding: never a change (and the index of 0013 skips it).
        Product.history.exclude(history_type="+")
        .filter(after_added("id"))
        .values_list("id", "history_date"),
        Indication.history.filter(after_added("product_id")).values_list(
            "product_id", "history_date"
        ),
        AuthorisationEvent.history.filter(after_added("product_id")).values_list(
            "product_id", "history_date"
        ),
    )
    for records in sources:
        for product_id, moment in records.order_by("-history_date")[:window]:
            candidates[product_id] = max(moment, candidates.get(product_id, moment))
    newest = sorted(candidates, key=candidates.get, reverse=True)[: limit * 2]
    found: list[RecentChange] = []
    for product in products.filter(pk__in=newest):
        for entry in public_change_log(product):
            if not entry["added"] and entry["fields"]:
                found.append(
                    RecentChange(product=product, date=entry["date"], fields=entry["fields"])
                )
                break
    found.sort(key=lambda change: (change["date"], change["product"].name), reverse=True)
    return found[:limit]


def catalogue_added_on(products) -> datetime.date | None:
    """The newest day on which a product of ``products`` entered the catalogue."""
    newest = (
        Product.history.filter(history_type="+", id__in=products.values("pk"))
        .order_by("-history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    return _local_date(newest) if newest else None
