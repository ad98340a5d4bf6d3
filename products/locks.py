"""Two writers at once: PostgreSQL advisory locks between imports and the admin's saves.

Every write to the catalogue moves one row (``CatalogueVersion``, migration 0007), so writers
queue behind each other; without these locks an admin save waited for a running import's whole
transaction and then overwrote what the import had just written.

- An import (the EMA import, its dry run, ``load_catalogue``) runs inside :func:`importing`: it
  *tries* the import lock, so a second import is refused at once (:class:`CatalogueBusy`, one
  line naming the running one), then takes the catalogue-write lock exclusively, waiting at most
  ``CATALOGUE_LOCK_TIMEOUT`` seconds for admin saves in flight.
- An admin save calls :func:`hold_for_edit` first in its transaction: it *tries* the same
  catalogue-write lock in shared mode (admin saves do not exclude each other), so a save during an
  import is refused at once instead of waiting for it.
- Both set ``lock_timeout`` to ``CATALOGUE_LOCK_TIMEOUT`` for the rest of their transaction: no
  writer waits longer than that for a row another holds; :func:`lock_conflict` recognises the
  error (and a deadlock PostgreSQL broke), which callers turn into a message.

The locks are transaction-level (``pg_*_xact_lock``): they end with the transaction, whatever
ends it, and need no table or migration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg import errors

#: Two-key advisory locks (``pg_locks.classid``, ``objid``): the project's key, then the lock.
NAMESPACE = 0x41544D50  # "ATMP"
IMPORT = 1  # one import at a time: tried, never waited for
CATALOGUE_WRITE = 2  # shared by admin saves, exclusive to an import

#: Who holds the import lock and since when, as ``pg_stat_activity`` shows it to this role
#: (advisory locks are per database: another catalogue on the same server is not the holder).
HOLDER_SQL = """
SELECT activity.xact_start, activity.application_name
  FROM pg_locks AS lock JOIN pg_stat_activity AS activity ON activity.pid = lock.pid
 WHERE lock.locktype = 'advisory' AND lock.granted
   AND lock.classid = %s AND lock.objid = %s AND lock.objsubid = 2
   AND lock.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


class CatalogueBusy(Exception):
    """A write refused because another writer holds the catalogue; the message is one line."""


def lock_conflict(exc: BaseException) -> str | None:
    """Why a write gave up on another writer's locks, or None when ``exc`` is something else.

    ``lock_timeout`` expired (SQLSTATE 55P03), or PostgreSQL ended a deadlock (40P01).
    """
    cause = exc.__cause__ if isinstance(exc, OperationalError) else None
    if isinstance(cause, errors.LockNotAvailable):
        seconds = settings.CATALOGUE_LOCK_TIMEOUT
        return f"another writer held the catalogue for more than {seconds:g} seconds"
    if isinstance(cause, errors.DeadlockDetected):
        return "another writer was waiting for rows this one held, and this one gave way"
    return None


def _set_lock_timeout(cursor) -> None:
    milliseconds = round(settings.CATALOGUE_LOCK_TIMEOUT * 1000)
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])


def running_import() -> str:
    """Since when and what the running import is: "since 2026-12-03 10:02:05 (EMA import of …)".

    Empty when it ended meanwhile or runs as another database role, whose sessions this one may
    not see.
    """
    with connection.cursor() as cursor:
        cursor.execute(HOLDER_SQL, [NAMESPACE, IMPORT])
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return ""
    since = timezone.localtime(row[0]).strftime("%Y-%m-%d %H:%M:%S")
    return f"since {since}" + (f" ({row[1]})" if row[1] else "")


@contextlib.contextmanager
def importing(what: str) -> Iterator[None]:
    """One transaction holding the catalogue for an import described by ``what``.

    Raises :class:`CatalogueBusy` (one line, nothing changed) when another import runs, when
    admin saves hold the catalogue longer than ``CATALOGUE_LOCK_TIMEOUT``, or when a unique row
    the import creates appeared meanwhile (which these locks leave to writers outside them).
    """
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [NAMESPACE, IMPORT])
                if not cursor.fetchone()[0]:
                    raise CatalogueBusy(
                        " ".join(["another import is running", running_import()]).strip()
                        + "; try again when it has finished"
                    )
                cursor.execute("SELECT set_config('application_name', %s, true)", [what[:63]])
                _set_lock_timeout(cursor)
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [NAMESPACE, CATALOGUE_WRITE])
            yield
    except OperationalError as exc:
        if (conflict := lock_conflict(exc)) is None:
            raise
        raise CatalogueBusy(f"{conflict}; nothing was changed; try again") from exc
    except IntegrityError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CatalogueBusy(
            f"another writer changed the catalogue meanwhile ({first_line}); "
            "nothing was changed; try again"
        ) from exc


def hold_for_edit() -> None:
    """In an admin save's transaction: share the catalogue, or refuse at once during an import."""
    if not connection.in_atomic_block:
        raise RuntimeError("hold_for_edit() needs a transaction (transaction.atomic)")
    with connection.cursor() as cursor:
        _set_lock_timeout(cursor)
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock_shared(%s, %s)", [NAMESPACE, CATALOGUE_WRITE]
        )
        if cursor.fetchone()[0]:
            return
    raise CatalogueBusy(
        " ".join(["An import is running", running_import()]).strip()
        + "; nothing was saved; save again in a minute."
    )
