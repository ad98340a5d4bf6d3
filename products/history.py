"""The public change log of a product: which facts changed, and when; never who changed them.

Built from django-simple-history's records of the product, its indications and its events (three
queries). Editors see the full history, with names, in the admin.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import TypedDict

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
