"""What an import did, or would do: a :class:`ProductDiff` per product (field, old, new; notes;
what is flagged for a curator's review) and the :class:`ImportReport` that sums them up."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from products.models import AuthorisationEvent, Company, ImportRun

#: What the import does to a product (``ProductDiff.action``).
CREATED, UPDATED, UNCHANGED, NOT_CREATED, LEFT_OUT = (
    "created",
    "updated",
    "unchanged",
    "not created",
    "left out",
)
#: The actions that write something, which a curator may choose to leave out.
WRITING_ACTIONS = (CREATED, UPDATED)


def show(value: Any, *, whole: bool = False) -> str:
    """A value as the diff prints it; long text is cut to one line unless ``whole``."""
    if value is None or value == "":
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Company):
        return value.name
    if isinstance(value, (list, tuple)):
        return ", ".join(show(item, whole=whole) for item in value) or "none"
    text = str(value)
    if whole:
        return text
    if "\n" in text or len(text) > 90:
        return repr(" ".join(text.split())[:70] + "…") + f" ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


def describe_event(event: AuthorisationEvent) -> str:
    if event.date is None and event.known_by:
        return f"{event.get_kind_display()} (by {event.known_by.isoformat()})"
    return f"{event.get_kind_display()} ({show(event.date)})"


@dataclass
class FieldChange:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.field == "event":
            return f"event added: {self.new}"
        return f"{self.field}: {show(self.old)} -> {show(self.new)}"

    @property
    def old_text(self) -> str:
        """The old value, whole (a table cell wraps it); an added event had none."""
        return "" if self.field == "event" else show(self.old, whole=True)

    @property
    def new_text(self) -> str:
        return show(self.new, whole=True)


@dataclass
class ProductDiff:
    """What the import did (or would do) to one product."""

    name: str
    product_number: str
    action: str  # CREATED, UPDATED, UNCHANGED, NOT_CREATED or LEFT_OUT
    changes: list[FieldChange] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    product_id: int | None = None  # the catalogue's product, where it has one

    @property
    def writes(self) -> bool:
        """Whether importing it changes the catalogue (what a curator may leave out)."""
        return self.action in WRITING_ACTIONS

    @property
    def has_news(self) -> bool:
        """Whether the diff shows it: anything changed, flagged, or a row not imported."""
        return bool(self.changes or self.reviews or self.action != UNCHANGED)

    def lines(self) -> list[str]:
        lines = [f"{self.name} ({self.product_number}): {self.action}"]
        lines += [f"  {change}" for change in self.changes]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  flagged for review: {review}" for review in self.reviews]
        return lines


@dataclass
class ImportReport:
    file_name: str
    generated_at: datetime.datetime | None
    dry_run: bool
    rows_read: int = 0
    products: list[ProductDiff] = field(default_factory=list)
    run: ImportRun | None = None

    def _count(self, action: str) -> int:
        return sum(diff.action == action for diff in self.products)

    @property
    def created(self) -> int:
        return self._count(CREATED)

    @property
    def updated(self) -> int:
        return self._count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(UNCHANGED)

    @property
    def flagged(self) -> int:
        return sum(bool(diff.reviews) for diff in self.products)

    @property
    def left_out(self) -> list[ProductDiff]:
        """The products that would have changed but were left out of this run."""
        return [diff for diff in self.products if diff.action == LEFT_OUT]

    @property
    def summary(self) -> str:
        left_out = f", left out {len(self.left_out)}" if self.left_out else ""
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"flagged for review {self.flagged}{left_out}"
        )

    @property
    def news(self) -> list[ProductDiff]:
        """The products the diff shows, in the import's order."""
        return [diff for diff in self.products if diff.has_news]

    @property
    def quiet(self) -> list[ProductDiff]:
        """The products with nothing to say (unchanged, nothing flagged)."""
        return [diff for diff in self.products if not diff.has_news]

    def diff_lines(self) -> list[str]:
        """Product by product, field by field; products with nothing to say are left out."""
        return [line for diff in self.news for line in diff.lines()]

    @property
    def diff(self) -> str:
        return "\n".join(self.diff_lines())
