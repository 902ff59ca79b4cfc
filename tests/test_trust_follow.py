"""Every host process trusts what the store's settings say: the carrier token and the recording hosts reach a
``host --db`` table (its follower thread) within a second, and a table loaded from the store starts with them."""

from __future__ import annotations

import time

from designer import services
from designer.context import AppContext
from designer.host import FlowTable
from designer.host.follow import table_from_store
from designer.host.overrides import follow_overrides
from designer.host.trust import DEFAULT_RECORDING_HOSTS
from designer.store import SQLiteStore


def wait_for(condition, what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def test_a_host_process_follows_the_token_and_recording_hosts_set_in_the_designer(tmp_path):
    path = str(tmp_path / "designer.sqlite")
    designer = AppContext(store=SQLiteStore(path), table=None)
    host_table = FlowTable()
    follower = follow_overrides(host_table, path, interval=0.05)  # what host --db starts in each worker
    try:
        assert not host_table.trust.required and host_table.trust.recording_hosts == DEFAULT_RECORDING_HOSTS
        trust = services.set_token_required(designer, True)
        wait_for(lambda: host_table.trust.required, "the token reached the host")
        assert host_table.trust.token == trust.token and len(trust.token) >= 24
        services.set_recording_hosts(designer, "media.example.com")
        wait_for(lambda: host_table.trust.recording_hosts == ("media.example.com",), "the hosts reached the host")
        services.set_token_required(designer, False)
        wait_for(lambda: not host_table.trust.required, "the token is no longer required")
        assert table_from_store(designer.store).trust == host_table.trust  # a fresh load starts with them
    finally:
        follower.stop()
        designer.store.close()
