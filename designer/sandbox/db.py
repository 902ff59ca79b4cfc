"""The sandbox's own SQLite file: one account (the endpoint), its DIDs, and calls.

Calls keep their scheduling state (``scheduled`` until played, then
``playing`` and ``done``) and, once played, what happened (the transcript), so
the sandbox-only routes can show it; the reference's routes see scheduled calls
only.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from designer.sandbox.query import Query
from designer.sandbox.schema import CALL, ApiError, Kind, national_formats
from designer.store import make_private

BUSY_WAIT_SECONDS = 30  # how long a write waits for another connection's lock before SQLite gives up
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_sid TEXT PRIMARY KEY, date_created TEXT NOT NULL, error_handler TEXT NOT NULL DEFAULT 'basic',
    login TEXT NOT NULL, password TEXT NOT NULL, method TEXT NOT NULL DEFAULT 'POST', name TEXT NOT NULL,
    url TEXT
);
CREATE TABLE IF NOT EXISTS dids (
    did_sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, country_code TEXT, in_country_format TEXT,
    international_format TEXT, method TEXT NOT NULL DEFAULT 'POST', phonenumber TEXT NOT NULL UNIQUE,
    status_callback_method TEXT NOT NULL DEFAULT 'POST', status_callback_url TEXT, url TEXT
);
CREATE TABLE IF NOT EXISTS calls (
    call_sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, attributes TEXT NOT NULL DEFAULT '{}',
    called_did TEXT NOT NULL, calling_did TEXT NOT NULL, date_created TEXT NOT NULL, run_at REAL NOT NULL,
    method TEXT NOT NULL DEFAULT 'POST', status_callback_method TEXT NOT NULL DEFAULT 'POST',
    status_callback_url TEXT, url TEXT,
    state TEXT NOT NULL DEFAULT 'scheduled', result TEXT
);
CREATE INDEX IF NOT EXISTS calls_state ON calls (state, run_at);
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_sid() -> str:
    return str(uuid.uuid4())


class SandboxDB:
    """Thread-safe (one connection behind a lock); every method is short."""

    def __init__(self, path: str | Path, clock=time.time):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            make_private(self.path)  # it holds the sandbox account's password
        self.clock = clock
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=BUSY_WAIT_SECONDS)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _exec(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    # --- set-up ------------------------------------------------------------------------

    def ensure_account(self, login: str | None, password: str | None, name: str = "sandbox") -> dict[str, Any]:
        """The endpoint's account, created on first start; new credentials replace the stored ones."""
        with self._lock:
            row = self._exec("SELECT * FROM accounts ORDER BY rowid LIMIT 1").fetchone()
            if row is None:
                sid = new_sid()
                self._exec("INSERT INTO accounts (account_sid, date_created, login, password, name) "
                           "VALUES (?, ?, ?, ?, ?)",
                           (sid, now_iso(), login or f"sandbox_{sid[:6]}", password or uuid.uuid4().hex[:16], name))
            elif login or password:
                self._exec("UPDATE accounts SET login = COALESCE(?, login), password = COALESCE(?, password) "
                           "WHERE account_sid = ?", (login, password, row["account_sid"]))
            return dict(self._exec("SELECT * FROM accounts ORDER BY rowid LIMIT 1").fetchone())

    def account_by_login(self, login: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM accounts WHERE login = ?", (login,)).fetchone()
        return None if row is None else dict(row)

    def add_did(self, account_sid: str, number: str) -> dict[str, Any]:
        with self._lock:
            row = self._exec("SELECT * FROM dids WHERE phonenumber = ?", (number,)).fetchone()
            if row is not None:
                return dict(row)
            country, national, international = national_formats(number)
            self._exec("INSERT INTO dids (did_sid, account_sid, country_code, in_country_format, "
                       "international_format, phonenumber) VALUES (?, ?, ?, ?, ?, ?)",
                       (new_sid(), account_sid, country, national, international, number))
            return dict(self._exec("SELECT * FROM dids WHERE phonenumber = ?", (number,)).fetchone())

    def list_all_dids(self) -> list[str]:
        return [r[0] for r in self._exec("SELECT phonenumber FROM dids ORDER BY rowid")]

    # --- generic reads -----------------------------------------------------------------

    def _scope(self, kind: Kind) -> str:
        return "account_sid = :account AND state = 'scheduled'" if kind is CALL else "account_sid = :account"

    def list(self, kind: Kind, account_sid: str, q: Query) -> tuple[list[dict[str, Any]], int]:
        params = dict(q.params, account=account_sid, now=self.clock())
        where = f"{self._scope(kind)} AND ({q.where})"
        order = f"{q.order + ', ' if q.order else ''}rowid ASC"
        with self._lock:
            total = self._exec(f"SELECT COUNT(*) FROM {kind.table} WHERE {where}", params).fetchone()[0]
            rows = self._exec(f"SELECT * FROM {kind.table} WHERE {where} ORDER BY {order} "
                              f"LIMIT :limit OFFSET :offset", dict(params, limit=q.limit, offset=q.offset))
            return [self.public(kind, r) for r in rows], total

    def get(self, kind: Kind, account_sid: str, sid: str) -> dict[str, Any]:
        row = self._exec(f"SELECT * FROM {kind.table} WHERE {kind.sid} = :sid AND {self._scope(kind)}",
                         {"sid": sid, "account": account_sid}).fetchone()
        if row is None:
            extra = " (calls expire once they have been played)" if kind is CALL else ""
            raise ApiError(404, f"Cannot find {kind.label} by SID",
                           [(kind.sid, f"no {kind.name} has the SID {sid!r}{extra}")])
        return self.public(kind, row)

    def public(self, kind: Kind, row: sqlite3.Row) -> dict[str, Any]:
        """The object as the reference's JSON shows it."""
        data = dict(row)
        if kind is CALL:
            data["attributes"] = json.loads(data["attributes"])
            data["delay"] = max(0, int(-(-(data["run_at"] - self.clock()) // 1)))
        return {name: data.get(name) for name in kind.names}

    # --- writes ------------------------------------------------------------------------

    def update(self, kind: Kind, sid: str, values: dict[str, Any]) -> None:
        if not values:
            return
        cols = dict(values)
        if kind is CALL:
            if "attributes" in cols:
                cols["attributes"] = json.dumps(cols["attributes"])
            if "delay" in cols:
                cols["run_at"] = self.clock() + cols.pop("delay")
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        try:
            self._exec(f"UPDATE {kind.table} SET {sets} WHERE {kind.sid} = :_sid", dict(cols, _sid=sid))
        except sqlite3.IntegrityError:
            raise ApiError(400, "Object validation error",
                           [(next(iter(values)), "another object already has this value")]) from None

    def create_call(self, account_sid: str, values: dict[str, Any]) -> dict[str, Any]:
        sid = new_sid()
        self._exec("INSERT INTO calls (call_sid, account_sid, attributes, called_did, calling_did, date_created, "
                   "run_at, method, status_callback_method, status_callback_url, url) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (sid, account_sid, json.dumps(values.get("attributes") or {}), values["called_did"],
                    values["calling_did"], now_iso(), self.clock() + values.get("delay", 0),
                    values.get("method", "POST"), values.get("status_callback_method", "POST"),
                    values.get("status_callback_url"), values.get("url")))
        return self.public(CALL, self._exec("SELECT * FROM calls WHERE call_sid = ?", (sid,)).fetchone())

    def delete_call(self, account_sid: str, sid: str) -> None:
        self.get(CALL, account_sid, sid)
        self._exec("DELETE FROM calls WHERE call_sid = ?", (sid,))

    # --- the player's side -------------------------------------------------------------

    def take_due_calls(self) -> list[dict[str, Any]]:
        """Scheduled calls whose time has come, marked ``playing`` (each is taken once)."""
        with self._lock:
            rows = self._exec("SELECT * FROM calls WHERE state = 'scheduled' AND run_at <= ? ORDER BY run_at",
                              (self.clock(),)).fetchall()
            for r in rows:
                self._exec("UPDATE calls SET state = 'playing' WHERE call_sid = ?", (r["call_sid"],))
            return [dict(r, attributes=json.loads(r["attributes"])) for r in rows]

    def recover_interrupted(self) -> int:
        """Calls left ``playing`` by a sandbox that stopped mid-call end as failed (they are not replayed)."""
        result = json.dumps({"ok": False, "status": "failed", "duration": 0, "transcript": "", "events": [],
                             "reason": "the sandbox stopped while the call was playing"})
        return self._exec("UPDATE calls SET state = 'done', result = ? WHERE state = 'playing'", (result,)).rowcount

    def next_run_at(self) -> float | None:
        row = self._exec("SELECT MIN(run_at) FROM calls WHERE state = 'scheduled'").fetchone()
        return row[0]

    def finish_call(self, sid: str, result: dict[str, Any]) -> None:
        self._exec("UPDATE calls SET state = 'done', result = ? WHERE call_sid = ?", (json.dumps(result), sid))

    def call_record(self, account_sid: str, sid: str) -> dict[str, Any] | None:
        """Any call of the account, played or not, with its state and result (sandbox-only view)."""
        row = self._exec("SELECT * FROM calls WHERE call_sid = ? AND account_sid = ?", (sid, account_sid)).fetchone()
        if row is None:
            return None
        out = self.public(CALL, row)
        out["state"] = row["state"]
        out["result"] = json.loads(row["result"]) if row["result"] else None
        return out

    def did_by_number(self, account_sid: str, number: str) -> dict[str, Any] | None:
        row = self._exec("SELECT * FROM dids WHERE phonenumber = ? AND account_sid = ?",
                         (number, account_sid)).fetchone()
        return None if row is None else dict(row)

    def account(self, account_sid: str) -> dict[str, Any]:
        return dict(self._exec("SELECT * FROM accounts WHERE account_sid = ?", (account_sid,)).fetchone())
