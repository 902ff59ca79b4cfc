"""Shared fixtures: a designer context over a real SQLite file, a real PostgreSQL cluster (one per session,
a fresh database per test), and ``any_store`` over both. Random flows: tests/strategies.py."""

import os

import pytest

from tests import pgcluster

from designer.context import AppContext
from designer.store import SQLiteStore

# The examples' business-hours steps would otherwise decide by the wall clock, so a test calling them would
# hear the menu or "we are closed" depending on when it runs. Every host in the tests (and the processes they
# start, which inherit the environment) decides as on a Tuesday at 10:00 in New York: open. Tests of the
# Hours step itself choose their own times (FlowTable(now=…), simulate --at).
TEST_CLOCK = "2026-12-01T10:00-05:00"
os.environ.setdefault("FLEXML_CLOCK", TEST_CLOCK)

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


@pytest.fixture(autouse=True)
def patient_should_see(monkeypatch):
    """NiceGUI's User.should_see gives up after 0.3 s, should_not_see after 0.15 s; pages that wait on a
    server (the sandbox, the host, the simulator) can take longer on a loaded 2-core machine, the more so
    with the test files run in parallel. Allow up to 5 s for both; a passing check is as fast as before."""
    from nicegui.testing import User

    see, not_see = User.should_see, User.should_not_see

    async def should_see(self, *args, retries: int = 3, **kwargs):
        return await see(self, *args, retries=max(retries, 50), **kwargs)  # 0.1 s apart

    async def should_not_see(self, *args, retries: int = 3, **kwargs):
        return await not_see(self, *args, retries=max(retries, 100), **kwargs)  # 0.05 s apart

    monkeypatch.setattr(User, "should_see", should_see)
    monkeypatch.setattr(User, "should_not_see", should_not_see)


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL server for the whole session (Debian's packages; ``.ci/do test`` installs them)."""
    if not pgcluster.available():
        if os.environ.get("FLEXML_SKIP_POSTGRES"):
            pytest.skip("PostgreSQL is not installed (FLEXML_SKIP_POSTGRES is set)")
        pytest.fail("PostgreSQL is not installed: run the tests with `bash .ci/do test`, which installs it")
    cluster = pgcluster.Cluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster, tmp_path, monkeypatch):
    """A fresh, empty PostgreSQL database; this machine's files for it (key, spool) under tmp_path."""
    monkeypatch.setenv("FLEXML_STATE_DIR", str(tmp_path / "state"))
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request, tmp_path):
    """The same contract on both backends: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        store = SQLiteStore(tmp_path / "designer.sqlite")
    else:
        from designer.store.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("pg_url"))
    yield store
    store.close()
