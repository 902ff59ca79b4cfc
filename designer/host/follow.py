"""Hosts that serve the store: a thread keeps the host's table equal to what the store holds.

``StoreFollower(open_store_fn, table)`` opens the store (retrying while the database cannot be reached,
and saying so), loads every published revision and number binding into ``table``, then waits for the
store's change counter to move (PostgreSQL: ``LISTEN/NOTIFY`` on a connection of its own; SQLite: a
cheap poll) and reloads the whole table each time it does. While the database is away the host keeps
answering from what it has; once it is back (after a reconnect, when notifications may have been
missed) the table is reloaded in full.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from compiler import BundleError, read_zip

from designer.host.overrides import overrides_from_store, trust_from_store
from designer.host.table import FlowTable, number_key
from designer.store import Store, StoreError
from designer.store.migrations import SchemaTooNew

log = logging.getLogger("flexml.host")

WAIT_SECONDS = 5.0  # longest wait for a notification before looking at the counter anyway
RETRY_SECONDS = 1.0  # pause between attempts while the database cannot be reached


def table_from_store(store: Store, previous: FlowTable | None = None) -> FlowTable:
    """A table holding every stored revision, the published one current, and the store's numbers.

    A revision whose bundle cannot be read is skipped (and logged): the others keep answering. Revisions
    ``previous`` already holds are taken from it as they are (revisions never change), so a reload after
    a publish reads only the new bundle.
    """
    table = FlowTable()
    known = previous.snapshot if previous is not None else None
    for rev in store.published_revisions():
        served = known.revision(rev.flow_id, str(rev.rev)) if known is not None else None
        if served is not None:
            table.serve_prepared(served, current=False)
            continue
        try:
            compiled = read_zip(rev.bundle, f"flow {rev.flow_id} revision {rev.rev}")
        except BundleError as exc:
            log.error("not serving %s", exc)
            continue
        table.serve_revision(compiled, current=False)
    for record in store.list_flows():
        if record.published_rev is not None and str(record.published_rev) in table.revisions(record.id):
            table.set_current(record.id, str(record.published_rev))
    for number, flow in store.dids().items():
        if number_key(number):
            table.bind(number, flow)
    table.set_overrides(overrides_from_store(store))
    table.trust = trust_from_store(store)
    return table


class StoreFollower:
    """``start()`` a daemon thread that keeps ``table`` loaded from the store; ``stop()``; ``loaded`` is set
    after the first full load; ``reloads`` counts them."""

    def __init__(self, open_store: Callable[[], Store], table: FlowTable, *, store: Store | None = None,
                 where: str = "the database", wait: float = WAIT_SECONDS, retry: float = RETRY_SECONDS):
        self._open = open_store
        self.table = table
        self.store = store
        self.where = where
        self.wait = wait
        self.retry = retry
        self.loaded = threading.Event()
        self.reloads = 0
        self.fatal: str | None = None  # why the thread gave up (a database newer than this code)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "StoreFollower":
        self._thread = threading.Thread(target=self._run, name="flexml-store-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def reload(self) -> None:
        """Load everything the store holds into the table, in one swap."""
        self.table.replace_with(table_from_store(self.store, self.table))
        self.reloads += 1
        self.loaded.set()

    def _run(self) -> None:
        seen: int | None = None  # None: reload in full as soon as the database answers
        down = False
        while not self._stop.is_set():
            try:
                if self.store is None:
                    self.store = self._open()
                now = self.store.wait_for_changes(-1 if seen is None else seen, 0.0 if seen is None else self.wait)
                if now != seen:
                    self.reload()
                    seen = now
                if down:
                    log.warning("host: %s is reachable again; serving what it holds", self.where)
                    down = False
            except SchemaTooNew as exc:
                self.fatal = str(exc)
                log.error("host: %s", exc)
                return
            except (StoreError, OSError, Exception) as exc:  # noqa: BLE001 - any database failure: keep answering
                if not down:
                    log.error("host: cannot reach %s (%s); answering from what this host has, retrying every %g s",
                              self.where, exc, self.retry)
                    down = True
                seen = None
                self._stop.wait(self.retry)
