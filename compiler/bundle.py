"""Export bundles: a zip with the flow file, every document and a manifest.

Layout::

    manifest.json          start document, documents (with their steps), routers, decisions, recordings
    flow.json              the flow, as saved by the designer
    documents/<name>.xml   one FlexML document each

A host serves a flow from the manifest and documents alone. Zips are
byte-stable (sorted entries, fixed timestamps). Reading checks sizes and
names, so a hostile zip cannot exhaust memory or escape a folder.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import networkx as nx

from compiler import flow as flowfile
from compiler.catalogue import STEPS
from compiler.compile import CompiledFlow, Router
from compiler.decisions import Decision
from compiler.errors import CompilerError
from compiler.grammar import GrammarError, check_document

_EPOCH = (1980, 1, 1, 0, 0, 0)
MAX_ENTRY_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_ENTRIES = 20_000


class BundleError(CompilerError):
    """A bundle that cannot be read; the message names the entry."""


def write_zip(compiled: CompiledFlow, graph: nx.DiGraph) -> bytes:
    entries = {
        "manifest.json": (json.dumps(compiled.manifest(), indent=2, sort_keys=True) + "\n").encode(),
        "flow.json": flowfile.dumps(graph).encode(),
        **{f"documents/{name}.xml": data for name, data in compiled.documents.items()},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[name])
    return buf.getvalue()


def write_dir(compiled: CompiledFlow, graph: nx.DiGraph, out: str | Path) -> list[Path]:
    """Write the bundle's files into a folder; documents an earlier compile there listed, and this one
    does not, are removed (a step deleted since must not leave its document behind)."""
    out = Path(out)
    (out / "documents").mkdir(parents=True, exist_ok=True)
    for name in _listed_documents(out / "manifest.json") - set(compiled.documents):
        (out / "documents" / f"{name}.xml").unlink(missing_ok=True)
    written = []
    for name, data in sorted(compiled.documents.items()):
        p = out / "documents" / f"{name}.xml"
        p.write_bytes(data)
        written.append(p)
    (out / "manifest.json").write_text(json.dumps(compiled.manifest(), indent=2, sort_keys=True) + "\n")
    flowfile.save(graph, out / "flow.json")
    return written + [out / "manifest.json", out / "flow.json"]


def _listed_documents(manifest: Path) -> set[str]:
    """Document names an earlier manifest in the folder lists (only plain names; nothing else is touched)."""
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8")).get("documents", {})
    except (OSError, ValueError, AttributeError, RecursionError):
        return set()
    if not isinstance(listed, dict):
        return set()
    return {name for name in listed if isinstance(name, str) and name == PurePosixPath(name).name
            and name not in ("", ".", "..") and "\\" not in name}


def safe_entries(zf: zipfile.ZipFile, where: str) -> dict[str, bytes]:
    """Every file entry of a zip, refusing path escapes, too many or too large entries."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"{where}: {len(infos):,} entries; at most {MAX_ENTRIES:,} are read")
    total = 0
    out: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or info.filename.startswith(("/", "\\")) or ":" in path.parts[0]:
            raise BundleError(f"{where}: entry {info.filename!r} points outside the bundle")
        if info.file_size > MAX_ENTRY_BYTES:
            raise BundleError(f"{where}: entry {info.filename!r} is {info.file_size:,} bytes; "
                              f"at most {MAX_ENTRY_BYTES:,}")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise BundleError(f"{where}: the bundle unpacks to more than {MAX_TOTAL_BYTES:,} bytes")
        if info.flag_bits & 0x1:
            raise BundleError(f"{where}: entry {info.filename!r} is encrypted; use a zip without a password")
        try:
            with zf.open(info) as fh:
                data = fh.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
            raise BundleError(f"{where}: entry {info.filename!r} cannot be unpacked (a damaged zip?): "
                              f"{exc}") from None
        if len(data) > MAX_ENTRY_BYTES:
            raise BundleError(f"{where}: entry {info.filename!r} is larger than it claims")
        out[str(path)] = data
    return out


def open_zip(data: bytes, where: str = "bundle") -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return safe_entries(zf, where)
    except zipfile.BadZipFile:
        raise BundleError(f"{where}: not a zip file") from None


def read_manifest(data: bytes, where: str = "bundle") -> dict:
    """A bundle's manifest.json as a JSON object; BundleError (one line) for anything else."""
    try:
        manifest = json.loads(data)
    except RecursionError:
        raise BundleError(f"{where}: manifest.json is nested too deeply to be a manifest") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{where}: manifest.json is not readable JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: manifest.json must be a JSON object, not {type(manifest).__name__}")
    return manifest


def read_zip(data: bytes, where: str = "bundle") -> CompiledFlow:
    """A compiled flow from a bundle, every document checked against the grammar and its Say/Sms texts
    checked as call-variable text (the host renders them)."""
    entries = open_zip(data, where)
    if "manifest.json" not in entries:
        raise BundleError(f"{where}: no manifest.json; is this a bundle exported by FlexML Designer?")
    try:
        manifest = read_manifest(entries["manifest.json"], where)
        documents = {}
        steps = {}
        templated = set()
        for name, info in manifest["documents"].items():
            path = info["path"]
            if path not in entries:
                raise BundleError(f"{where}: manifest lists {path}, which is not in the bundle")
            check_document(entries[path], f"{where}: {path}")
            documents[name] = entries[path]
            steps[name] = list(info.get("steps", []))
            if info.get("templated"):
                templated.add(name)
        if manifest["start"] not in documents:
            raise BundleError(f"{where}: the start document {manifest['start']!r} is missing")
        return CompiledFlow(
            flow=str(manifest["flow"]), name=str(manifest.get("name", manifest["flow"])),
            revision=str(manifest["revision"]), start=str(manifest["start"]),
            base_url=str(manifest.get("base_url", "")), documents=documents, steps=steps,
            routers={k: Router.from_json(v) for k, v in manifest.get("routers", {}).items()},
            templated=templated, decisions=_decisions(manifest.get("decisions") or {}, documents, where),
            recordings=_recordings(manifest.get("recordings") or {}, documents, where),
        )
    except BundleError:
        raise
    except GrammarError as exc:  # names the bundle and the document already
        raise BundleError(str(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleError(f"{where}: manifest.json is not readable: {exc!r}") from None
    except Exception as exc:  # noqa: BLE001 - grammar errors and the like, with their message
        raise BundleError(f"{where}: {exc}") from None


def _decisions(table: dict, documents: dict[str, bytes], where: str) -> dict[str, Decision]:
    """The manifest's decisions (absent in bundles made before decision steps); each branch names a document."""
    out = {}
    for node, data in dict(table).items():
        decision = Decision.from_json(str(node), dict(data))
        spec = STEPS.get(decision.type)
        if spec is None or not (spec.host_decides or spec.outcome_branch):
            raise BundleError(f"{where}: manifest decision {node!r} has type {decision.type!r}, which the host "
                              "cannot decide")
        for branch, doc in decision.branches.items():
            if doc is not None and doc not in documents:
                raise BundleError(f"{where}: decision {node!r} branch {branch!r} names document {doc!r}, which "
                                  "is not in the bundle")
        out[decision.node] = decision
    return out


def _recordings(table: dict, documents: dict[str, bytes], where: str) -> dict[str, str | None]:
    """The manifest's Record steps answered by the host's recorded route (absent in bundles made before it):
    node → the document that follows (None: the call ends)."""
    out: dict[str, str | None] = {}
    for node, doc in dict(table).items():
        if doc is not None and str(doc) not in documents:
            raise BundleError(f"{where}: manifest recording {node!r} names document {doc!r}, which is not in "
                              "the bundle")
        out[str(node)] = None if doc is None else str(doc)
    return out


def flow_from_zip(data: bytes, where: str = "bundle") -> nx.DiGraph:
    entries = open_zip(data, where)
    if "flow.json" not in entries:
        raise BundleError(f"{where}: no flow.json in the bundle")
    return flowfile.loads(entries["flow.json"], f"{where}: flow.json")
