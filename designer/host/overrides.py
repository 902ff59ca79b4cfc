"""Following the operators' switches of Hours steps, and what the host trusts, in a store, for host processes
that do not own it.

A ``host --db`` worker answers from its own ``FlowTable``; a daemon thread reads the store's
``overrides`` table (and the carrier-trust settings: the required token, the recording hosts allowed,
``designer.host.trust``) about once a second and swaps the table's switches and trust whole (immutable
values), so a flip made in the designer takes effect on the next call on every worker, and no answer ever
waits on the database: a slow or locked read only delays the next refresh.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from compiler.decisions import Override
from designer.host.table import FlowTable
from designer.host.trust import CarrierTrust, trust_from_settings
from designer.store import Store

log = logging.getLogger("flexml.host")

REFRESH_SECONDS = 1.0


def overrides_from_store(store: Store) -> dict[tuple[str, str], Override]:
    """The operators' switches of Hours steps, as a table holds them."""
    return {(o.flow_id, o.node): Override(o.state, o.until) for o in store.overrides()}


def trust_from_store(store: Store) -> CarrierTrust:
    """What a host trusts, as the store's settings say."""
    return trust_from_settings(store.get_setting)


class OverrideFollower:
    """A thread copying a store's switches (and, with ``read_trust``, its carrier trust) into ``table`` every
    ``interval`` seconds until ``stop()``."""

    def __init__(self, table: FlowTable, read: Callable[[], dict[tuple[str, str], Override]],
                 interval: float = REFRESH_SECONDS, read_trust: Callable[[], CarrierTrust] | None = None):
        self.table = table
        self.read = read
        self.read_trust = read_trust
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flexml-overrides", daemon=True)

    def start(self) -> "OverrideFollower":
        self.refresh()
        self._thread.start()
        return self

    def refresh(self) -> None:
        try:
            found = self.read()
        except Exception:  # noqa: BLE001 - a store that cannot be read keeps the last switches
            log.exception("cannot read the operators' switches; keeping the last ones")
            return
        if found != self.table.overrides:
            self.table.set_overrides(found)
        if self.read_trust is not None:
            try:
                trust = self.read_trust()
            except Exception:  # noqa: BLE001 - keep trusting what it did
                log.exception("cannot read the carrier-trust settings; keeping the last ones")
                return
            if trust != self.table.trust:
                self.table.trust = trust

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()


def follow_overrides(table: FlowTable, path: str, interval: float = REFRESH_SECONDS) -> OverrideFollower:
    """Follow the switches and carrier trust kept in the store ``path`` names (SQLite or PostgreSQL; its own
    connection)."""
    from designer.store import Store, open_store

    holder: dict[str, Store] = {}

    def store() -> Store:
        if "store" not in holder:
            holder["store"] = open_store(path)
        return holder["store"]

    return OverrideFollower(table, lambda: overrides_from_store(store()), interval,
                            read_trust=lambda: trust_from_store(store())).start()
