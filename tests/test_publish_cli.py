"""``flexml-designer publish`` and ``unbind`` into a store (a SQLite file here; PostgreSQL in
test_store_hosts.py), and ``host --db`` serving what they put there."""

from __future__ import annotations

import json
from pathlib import Path

from compiler import compile_flow, dumps, load, write_zip

from designer.cli import main
from designer.store import SQLiteStore

EXAMPLES = Path(__file__).resolve().parents[1] / "compiler" / "examples"
NUMBER = "15162065337"


def test_publish_prints_the_revision_and_urls_and_host_db_serves_it(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", db, "--did", "+1 516 206 5337",
                 "--note", "ci 1234"]) == 0
    out = capsys.readouterr().out
    assert "Published flow main-menu revision 1 (ci 1234)" in out
    assert "/flexml/main-menu" in out and "+15162065337 → main-menu" in out
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", f"sqlite://{db}"]) == 0
    assert "no changes since revision 1" in capsys.readouterr().out  # a pipeline run again: no new revision
    changed = load(EXAMPLES / "main-menu.json")
    welcome = changed.graph["start"]
    changed.nodes[welcome]["text"] = "Thanks for calling the new line."
    (tmp_path / "main-menu.json").write_text(dumps(changed))
    assert main(["publish", str(tmp_path / "main-menu.json"), "--db", f"sqlite://{db}"]) == 0
    assert "revision 2" in capsys.readouterr().out
    assert main(["host", "--db", db, "--get", f"/flexml?To={NUMBER}"]) == 0
    assert "/flexml/main-menu/2/menu/gather" in capsys.readouterr().out
    store = SQLiteStore(db)
    assert [r.note for r in store.list_revisions("main-menu")] == ["", "ci 1234"]
    store.close()


def test_a_bundle_publishes_too(tmp_path, capsys):
    graph = load(EXAMPLES / "pin-check.json")
    bundle = tmp_path / "pin-check-r7.zip"
    bundle.write_bytes(write_zip(compile_flow(graph, revision="7"), graph))
    assert main(["publish", str(bundle), "--db", str(tmp_path / "s.sqlite")]) == 0
    assert "Published flow pin-check revision 1" in capsys.readouterr().out


def test_an_invalid_flow_is_not_published_and_its_problems_are_printed(tmp_path, capsys):
    data = json.loads((EXAMPLES / "main-menu.json").read_text())
    data["nodes"] = [n for n in data["nodes"] if n["id"] != "sales"]  # a menu choice that goes nowhere
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    db = tmp_path / "s.sqlite"
    assert main(["publish", str(bad), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "not published" in err and "sales" in err
    store = SQLiteStore(db) if db.exists() else None
    assert store is None or store.published_revisions() == []


def test_unbind_stops_a_number_and_an_unknown_one_is_one_clear_line(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", db, "--did", "+" + NUMBER]) == 0
    assert main(["unbind", "+" + NUMBER, "--db", db]) == 0
    assert "Unbound +15162065337 (it rang flow main-menu)" in capsys.readouterr().out
    assert main(["host", "--db", db, "--get", f"/flexml?To={NUMBER}"]) == 0
    assert "Sorry" in capsys.readouterr().out
    assert main(["unbind", "+" + NUMBER, "--db", db]) == 1
    assert "is not bound to any flow" in capsys.readouterr().err


def test_a_bad_number_or_a_missing_db_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FLEXML_DB", raising=False)
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", str(tmp_path / "s.sqlite"),
                 "--did", "12"]) == 1
    assert "--did 12:" in capsys.readouterr().err
    assert main(["publish", str(EXAMPLES / "main-menu.json")]) == 1
    assert "--db URL is needed" in capsys.readouterr().err
    assert main(["host"]) == 1
    assert "--db URL" in capsys.readouterr().err


def test_an_unreachable_postgres_is_one_clear_line_without_the_password(capsys):
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db",
                 "postgresql://flexml:s3cret@127.0.0.1:1/flexml"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the database postgresql://flexml:***@127.0.0.1:1/flexml" in err and "s3cret" not in err


def test_rollback_lists_revisions_and_serves_an_earlier_one_to_new_calls(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", db, "--note", "first"]) == 0
    changed = load(EXAMPLES / "main-menu.json")
    changed.nodes[changed.graph["start"]]["text"] = "Thanks for calling the new line."
    (tmp_path / "main-menu.json").write_text(dumps(changed))
    assert main(["publish", str(tmp_path / "main-menu.json"), "--db", db, "--note", "second"]) == 0
    capsys.readouterr()

    assert main(["rollback", "main-menu", "--db", db]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "revision 2" in listing[0] and "second" in listing[0] and "new calls get this one" in listing[0]
    assert "revision 1" in listing[1] and "first" in listing[1] and "new calls" not in listing[1]

    assert main(["rollback", "main-menu", "1", "--db", db]) == 0
    assert "new calls get revision 1 (was 2)" in capsys.readouterr().out
    assert main(["host", "--db", db, "--get", "/flexml/main-menu"]) == 0
    served = capsys.readouterr().out
    assert "/flexml/main-menu/1/" in served and "new line" not in served
    assert main(["rollback", "main-menu", "1", "--db", db]) == 0
    assert "already serves revision 1" in capsys.readouterr().out
    store = SQLiteStore(db)
    assert "new line" in store.get_flow("main-menu").graph_json  # the draft is left as it was
    store.close()


def test_rollback_to_a_revision_or_flow_that_is_not_there_says_so_in_one_line(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", db]) == 0
    capsys.readouterr()
    assert main(["rollback", "main-menu", "9", "--db", db]) == 1
    assert "has no revision 9 (it has 1–1)" in capsys.readouterr().err
    assert main(["rollback", "nope", "1", "--db", db]) == 1
    assert "there is no flow 'nope'" in capsys.readouterr().err
    assert main(["rollback", "main-menu", "x" * 5000, "--db", db]) == 1
    err = capsys.readouterr().err
    assert "a revision number" in err and len(err) < 200
