"""Shared fixtures: a designer context over a real SQLite file. Random flows: tests/strategies.py."""

import pytest

from designer.context import AppContext
from designer.store import SQLiteStore

pytest_plugins = ["nicegui.testing.user_plugin"]  # the `user` fixture (pages registered by each test)


@pytest.fixture
def ctx(tmp_path):
    """The designer's shared state over a fresh SQLite file; the host table is built when the app is."""
    store = SQLiteStore(tmp_path / "designer.sqlite")
    ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
    yield ctx
    if ctx.recorder is not None:
        ctx.recorder.close()
    store.close()
