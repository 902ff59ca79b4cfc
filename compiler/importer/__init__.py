"""The importer: existing FlexML (or TwiML) documents to a flow the designer can edit.

API (used by ``flexml-designer import`` and the designer's import dialog)::

    import_documents(files: dict[str, bytes | str], entry=None, *, flow_id=None, name=None) -> ImportResult
    import_path(path, entry=None, *, flow_id=None, name=None) -> ImportResult
    import_document(data, name="document.xml") -> ImportResult        # one pasted document

``files`` maps a path inside the set (``"menu.xml"``, ``"ivr/main.xml"``) to
the document's bytes (or text). ``import_path`` takes a single ``.xml``, a
folder of ``.xml`` files (read recursively) or an exported bundle ``.zip``.
A set holding a ``manifest.json`` (a bundle, or a folder written by
``compile --out``) is read as a bundle. ``entry`` names the document calls
start at (document name, path or file name); by default the bundle's start,
else the one document no other links to (preferring index/main/start/welcome).

``ImportResult`` holds ``graph`` (a flow, format 1 of docs/flow-format.md, with canvas
positions), ``notes`` (``Note``: document, line, node, message, severity
``warning`` or ``info``), ``start``, ``documents`` (path → node id of its
first step), ``revision`` and ``base_url`` (a bundle's, so recompiling with
them gives the same documents). Refused input raises ``ImportRefused`` (a
``ValueError``) with one line naming the file and line: not XML, a DOCTYPE
with entities, too large, a zip entry escaping its folder, …

How documents become steps:

- Verbs and attributes map through the step catalogue (``verbs``): any
  letter case, TwiML's common subset, harmless value normalisation. What the
  catalogue lacks is kept and reported: ``unknown_attrs`` / ``unknown_children``
  / ``unknown_text`` on the step, unknown verbs in ``graph["unknown_verbs"]``
  (document, line, the step they followed, their XML).
- URLs are followed between the documents of the set (``links``). The
  first verb of a document gets the document's name as its step id, so
  recompiling names the documents as before.
- A Gather's action: a bundle's router gives the menu's options, no-input and
  invalid paths, retries and retry text. In a plain set the action is a
  document, which cannot tell keys apart, so every key leads there: the menu
  gets an ``invalid`` connection to it (the designer's "any other key") and no
  digit options, with a note. The verbs after a Gather are its ``timeout`` path.
- Play/Record ``errorAction`` → the ``error`` connection. An ``action`` on
  Play, Record, Dial or Sms is where the call continues (FlexML skips the verbs
  after it; those are kept, unconnected, with a note). Redirects and actions to
  URLs outside the set become Redirect steps.
- A Redirect to a document of the set is a connection, or a Go to step where
  a connection would close a loop (flows are DAGs). In documents written by
  this tool's compiler (host-shaped URLs) a Redirect to a short document is a
  Go to step: the compiler copies short documents rather than redirecting.
- The compiler copies short documents inline into their predecessors; a tail
  of a document equal to another (short) document is recognised as such a copy
  and becomes a connection to it. In a bundle the manifest's step lists say
  exactly which step each verb is, so compile → import → compile gives the
  same documents byte for byte.
- A bundle is read from its documents, manifest (step ids) and routers: the
  documents are what the carrier runs. Its flow.json is not read (it may have
  been edited after export; open it as a flow file to get it as it was).
  Compiled documents without their manifest come back too, except the menus'
  options (they live in the routers table) and what follows a Record whose action is the host's
  ``recorded`` route (the manifest's recordings table names it): a note says to import the bundle.
  The flow id and revision are then read from the host-shaped URLs.
- Text is kept as written in a bundle; in pasted documents outer whitespace
  that spans lines (pretty-printing) is trimmed from Say and Sms text.
- The flow id is ``flow_id``, else the bundle's, else the one the URLs name,
  else made from the folder or file name.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import networkx as nx

from compiler import bundle
from compiler.catalogue import STEPS, Step
from compiler.compile import RETRY_SUFFIX, Router
from compiler.decisions import Decision
from compiler.emit import Urls
from compiler.flow import FORMAT, add_branch, edge_branches, out_branches
from compiler.layout import apply_layout
from compiler.importer.links import Resolver, Target
from compiler.importer.outside import Outside
from compiler.importer.twiml import DIALECTS, Dialect, dialect, explicit_defaults
from compiler.importer.verbs import Verb, read_verb
from compiler.importer.parse import MAX_DOCUMENT_BYTES, ImportRefused, ParsedDocument, local_name, parse_document
from compiler.phones import DEFAULT_REGION
from compiler.plan import COPY_LIMIT
from compiler.validate import FLOW_ID, NODE_ID, only_errors, validate

__all__ = ["ImportRefused", "ImportResult", "Note", "import_document", "import_documents", "import_path",
           "MAX_DOCUMENT_BYTES", "MAX_SET_BYTES", "MAX_DOCUMENTS"]

MAX_SET_BYTES = 64 * 1024 * 1024
MAX_DOCUMENTS = 20_000  # as many as a bundle may hold
MAX_ZIP_BYTES = 32 * 1024 * 1024
_RETRY_DOC = re.compile(r"^(.+)" + re.escape(RETRY_SUFFIX) + r"[0-9]+\.xml$")
PREFERRED_ENTRIES = ("index", "main", "start", "entry", "welcome", "incoming", "answer", "voice")
_PLAIN = Step("", "", "", "")  # what an unknown verb is taken for


def _spec(type_: str | None) -> Step:
    """The catalogue's entry for a step or verb type; an unknown type behaves as a plain step."""
    return STEPS.get(type_ or "") or _PLAIN


@dataclass(frozen=True)
class Note:
    message: str
    document: str | None = None
    line: int | None = None
    node: str | None = None
    severity: str = "warning"  # "warning": something was changed, left out or needs fixing; "info"

    def __str__(self) -> str:
        where = [w for w in (self.document, f"line {self.line}" if self.line else None) if w]
        if not where and self.node:
            where = [f"node {self.node}"]
        head = " ".join(where)
        return f"{head}: {self.message}" if head else self.message


@dataclass
class ImportResult:
    graph: nx.DiGraph
    notes: list[Note]
    start: str
    documents: dict[str, str]  # path in the set → id of the step the document starts with
    revision: str | None = None
    base_url: str = ""

    @property
    def problems(self) -> list[Note]:
        return self.notes

    @property
    def warnings(self) -> list[Note]:
        return [n for n in self.notes if n.severity == "warning"]


# --- entry points ------------------------------------------------------------------------


def import_document(data: bytes | str, name: str = "document.xml", **options: Any) -> ImportResult:
    """One pasted or uploaded document (``options``: as for ``import_documents``)."""
    return import_documents({name: data}, **options)


def import_path(path: str | Path, entry: str | None = None, *, flow_id: str | None = None,
                name: str | None = None, server_url: str | None = None, dialect: str | None = None,
                region: str = DEFAULT_REGION) -> ImportResult:
    """A ``.xml`` file, a folder of them, or a bundle ``.zip``."""
    p = Path(path)
    try:
        if p.is_dir():
            files = _read_folder(p)
            default_name = p.resolve().name
        else:
            size = p.stat().st_size
            is_zip = p.suffix.lower() == ".zip" or _starts_with(p, b"PK\x03\x04")
            limit = MAX_ZIP_BYTES if is_zip else MAX_DOCUMENT_BYTES
            if size > limit:
                what = "a bundle" if is_zip else "a document"
                raise ImportRefused(f"{p}: the file is {size:,} bytes; {what} may be at most {limit:,}")
            data = _read_limited(p, limit)
            if is_zip:
                try:
                    files = bundle.open_zip(data, str(p))
                except bundle.BundleError as exc:
                    raise ImportRefused(str(exc)) from None
            else:
                files = {p.name: data}
            default_name = p.stem
    except FileNotFoundError:
        raise ImportRefused(f"{p}: no such file or folder") from None
    except PermissionError:
        raise ImportRefused(f"{p}: permission denied") from None
    except IsADirectoryError:
        raise ImportRefused(f"{p}: is a folder") from None
    return import_documents(files, entry, flow_id=flow_id, name=name, default_name=default_name,
                            server_url=server_url, dialect=dialect, region=region)


def import_documents(files: Mapping[str, bytes | str], entry: str | None = None, *, flow_id: str | None = None,
                     name: str | None = None, default_name: str | None = None, server_url: str | None = None,
                     dialect: str | None = None, region: str = DEFAULT_REGION) -> ImportResult:
    """A set of documents (path → bytes) to one flow; see the module docstring.

    ``server_url``: the address of the server the documents came from (``https://ivr.example.com/app/``),
    against which their paths (``/completed``) and relative URLs to documents outside the set are read.
    ``dialect``: "twiml" or "flexml" to say how to read every document (by default each is read as TwiML
    when it uses something only TwiML has). ``region``: the country national phone numbers are read in.
    """
    if dialect is not None and dialect not in DIALECTS:
        raise ImportRefused(f"dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    importer = _Importer(files, flow_id=flow_id, name=name, default_name=default_name)
    importer.dialect = dialect
    importer.region = region
    importer.outside = Outside(server_url, importer.note)
    return importer.run(entry)


def _starts_with(p: Path, magic: bytes) -> bool:
    with p.open("rb") as fh:
        return fh.read(len(magic)) == magic


def _read_limited(p: Path, limit: int) -> bytes:
    with p.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ImportRefused(f"{p}: the file is larger than {limit:,} bytes")
    return data


def _read_folder(folder: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.is_symlink():
            continue
        if p.suffix.lower() != ".xml" and p.name != "manifest.json":
            continue
        rel = p.relative_to(folder).as_posix()
        if len(files) >= MAX_DOCUMENTS:
            raise ImportRefused(f"{folder}: more than {MAX_DOCUMENTS} documents; import at most {MAX_DOCUMENTS}")
        size = p.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ImportRefused(f"{p}: the file is {size:,} bytes; a document may be at most "
                                f"{MAX_DOCUMENT_BYTES:,}")
        total += size
        if total > MAX_SET_BYTES:
            raise ImportRefused(f"{folder}: the documents add up to more than {MAX_SET_BYTES:,} bytes")
        files[rel] = _read_limited(p, MAX_DOCUMENT_BYTES)
    if not files:
        raise ImportRefused(f"{folder}: no .xml documents in this folder")
    return files


# --- the importer ------------------------------------------------------------------------


@dataclass
class _Doc:
    name: str  # document name = id of its first step
    path: str  # path inside the set
    parsed: ParsedDocument
    verbs: list[Verb]
    steps: list[str] | None = None  # a bundle's step ids for these verbs
    targets: list[dict[str, Target]] = field(default_factory=list)
    dialect: Dialect = field(default_factory=lambda: Dialect("flexml", None, ""))


class _Importer:
    def __init__(self, files: Mapping[str, bytes | str], *, flow_id: str | None, name: str | None,
                 default_name: str | None):
        self.files = {str(PurePosixPath(str(k).replace("\\", "/"))): v for k, v in files.items()}
        self.flow_id = flow_id
        self.flow_name = name
        self.default_name = default_name
        self.notes: list[Note] = []
        self.graph = nx.DiGraph()
        self.manifest: dict[str, Any] | None = None
        self.routers: dict[str, Router] = {}
        self.decisions: dict[str, Decision] = {}  # a bundle's decision steps, by node
        self.recordings: dict[str, str | None] = {}  # a bundle's Record steps → the document after each
        self.recorded: dict[str, str] = {}  # steps built from them → the document after each
        self.decided: dict[str, Decision] = {}  # steps built from them (a Transfer's outcome too)
        self.docs: dict[str, _Doc] = {}  # by name, in set order
        self.used_ids: set[str] = set()
        self.pending: list[tuple[str, str, str, str | None]] = []  # source, branch, target, Go to id
        self.menus: dict[str, str] = {}  # Gather node → router name
        self.unknown_verbs: list[dict[str, Any]] = []
        self.urls: Urls | None = None
        self.manifest_prefix = ""
        self._served: set[str] = set()
        self._goto_docs: dict[str, list[str]] = {}
        self._goto_targets: set[str] = set()
        self._suffixes: dict[str, int] = {}
        self.dialect: str | None = None  # "twiml"/"flexml" for every document; None: read each
        self.region = DEFAULT_REGION
        self.outside = Outside(None, self.note)

    # -- reading ---------------------------------------------------------------------------

    def note(self, message: str, doc: str | None = None, line: int | None = None, node: str | None = None,
             severity: str = "warning") -> None:
        self.notes.append(Note(message, doc, line, node, severity))

    def run(self, entry: str | None) -> ImportResult:
        if not self.files:
            raise ImportRefused("nothing to import: no documents given")
        if len(self.files) > MAX_DOCUMENTS:
            raise ImportRefused(f"{len(self.files)} files; import at most {MAX_DOCUMENTS} documents at once")
        total = sum(len(v) for v in self.files.values())
        if total > MAX_SET_BYTES:
            raise ImportRefused(f"the documents add up to {total:,} bytes; at most {MAX_SET_BYTES:,}")
        sources = self._sources()
        for path, doc_name, steps in sources:
            parsed = parse_document(path, self.files[path])
            for line, message in parsed.notes:
                self.note(message, path, line, severity="info")
            verbs = []
            which = dialect(parsed, self.dialect) if steps is None else Dialect("flexml", None, "", given=True)
            for el in parsed.root:
                if not isinstance(el.tag, str):
                    continue
                verb = read_verb(el, parsed.line, exact=steps is not None, region=self.region,
                                 twiml=which.name == "twiml")
                for line, message, severity in verb.notes:
                    self.note(message, path, line, severity=severity)
                if steps is None and verb.known:
                    for message in explicit_defaults(verb.fields, which):
                        self.note(message, path, verb.line, severity="warning" if which.name == "twiml" else "info")
                verbs.append(verb)
            stray = [(parsed.root.text, parsed.root)] + [(el.tail, el) for el in parsed.root]
            for text, el in stray:
                if text and text.strip():
                    where = "directly inside <Response>" if el is parsed.root else f"after <{local_name(el)}>"
                    self.note(f"text {text.strip()[:40]!r} {where} is not part of any verb; left out", path,
                              parsed.line(el))
            if steps is not None and not self._steps_fit(steps, verbs):
                self.note("the manifest's step list does not match this document; steps get new ids", path,
                          severity="info")
                steps = None
            self.docs[doc_name] = _Doc(doc_name, path, parsed, verbs, steps, dialect=which)
        if not self.docs:
            raise ImportRefused("no FlexML documents (.xml) among the files")
        self.used_ids = set(self.docs) | {s for d in self.docs.values() for s in d.steps or ()}
        self._resolve()
        start = self._entry(entry)
        for doc in self._doc_order(start):
            self._build(doc)
        self.graph.graph["start"] = start
        self._finish_links()
        self._apply_routers()
        return self._result(start)

    def _sources(self) -> list[tuple[str, str, list[str] | None]]:
        """(path, document name, manifest steps) for every document to read."""
        manifests = sorted((p for p in self.files if posixpath.basename(p) == "manifest.json"),
                           key=lambda p: (p.count("/"), p))
        out: list[tuple[str, str, list[str] | None]] = []
        listed: set[str] = set()
        if manifests:
            mpath = manifests[0]
            prefix = posixpath.dirname(mpath)
            manifest = self._read_manifest(mpath)
            self.manifest = manifest
            self.manifest_prefix = prefix
            retry_docs = {d for r in self.routers.values() for d in r.retry_docs}
            for doc_name, info in sorted(manifest["documents"].items()):
                path = posixpath.join(prefix, info["path"]) if prefix else info["path"]
                if path not in self.files:
                    raise ImportRefused(f"{mpath}: lists {info['path']}, which is not among the files")
                listed.add(path)
                if doc_name in retry_docs:
                    continue  # the compiler's "asked again" copies of a menu; the router says how
                if not NODE_ID.match(doc_name):
                    raise ImportRefused(f"{mpath}: document name {doc_name!r} is not a step id")
                steps = info.get("steps")
                out.append((path, doc_name, [str(s) for s in steps] if isinstance(steps, list) else None))
        taken = {n for _, n, _ in out}
        for path in sorted(self.files):
            if path in listed or path.lower().endswith(".json"):
                if posixpath.basename(path) == "flow.json" and manifests:
                    self.note("not read: the bundle's documents and manifest are what the carrier runs (open "
                              "flow.json as a flow file to get the flow as it was saved)", path, severity="info")
                elif path.lower().endswith(".json") and path not in manifests[:1]:
                    self.note("not a FlexML document; not read", path, severity="info")
                continue
            retry = _RETRY_DOC.match(posixpath.basename(path))
            if retry and posixpath.join(posixpath.dirname(path), retry.group(1) + ".xml") in self.files:
                self.note("a menu's 'asked again' copy made by the compiler; not imported (the menu is)", path,
                          severity="info")
                continue
            doc_name = _fresh(_slug(PurePosixPath(path).stem) or "document", taken)
            if doc_name != PurePosixPath(path).stem:
                self.note(f"document named {doc_name!r} (step ids use letters, digits, - and _)", path,
                          severity="info")
            out.append((path, doc_name, None))
        return out

    def _read_manifest(self, mpath: str) -> dict[str, Any]:
        try:
            manifest = json.loads(self.files[mpath])
            if not isinstance(manifest, dict) or not isinstance(manifest.get("documents"), dict):
                raise ValueError("no documents table")
            for node, data in (manifest.get("routers") or {}).items():
                self.routers[str(node)] = Router.from_json(data)
            for node, data in (manifest.get("decisions") or {}).items():
                self.decisions[str(node)] = Decision.from_json(str(node), dict(data))
            for node, doc in dict(manifest.get("recordings") or {}).items():
                self.recordings[str(node)] = None if doc is None else str(doc)
            self.urls = Urls(str(manifest["flow"]), str(manifest.get("revision", "1")),
                             str(manifest.get("base_url", "") or ""))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ImportRefused(f"{mpath}: not a readable bundle manifest: {exc}") from None
        except RecursionError:  # what Python's json raises for [[[[…]]]] nested thousands deep
            raise ImportRefused(f"{mpath}: not a readable bundle manifest: it is nested too deeply") from None
        return manifest

    @staticmethod
    def _steps_fit(steps: list[str], verbs: list[Verb]) -> bool:
        if not all(isinstance(s, str) and NODE_ID.match(s) for s in steps) or len(set(steps)) != len(steps):
            return False
        if len(verbs) == len(steps):
            return bool(steps)
        return len(verbs) == len(steps) + 1 and bool(steps) and _spec(verbs[-1].type).redirects

    def _resolve(self) -> None:
        paths = {d.path: d.name for d in self.docs.values()}
        # host URLs name documents as the bundle does; retry copies of a menu are the menu
        host_names = {d.name: d.name for d in self.docs.values()}
        self.resolver = Resolver(paths, set(self.routers), host_names, set(self.decisions))
        for doc in self.docs.values():
            doc.targets = [{k: self.resolver.resolve(url, doc.path) for k, url in v.links.items()}
                           for v in doc.verbs]
        self._fingerprints()

    def _fingerprints(self) -> None:
        def fp(verb: Verb, targets: dict[str, Target]) -> str:
            return json.dumps([verb.fields if verb.known else verb.xml, verb.methods,
                               {k: [t.kind, t.name, t.attempt] for k, t in targets.items()}],
                              sort_keys=True, default=str)

        self.fps: dict[str, list[str]] = {}
        self.copy_of: dict[tuple[str, ...], str] = {}
        for doc in self.docs.values():
            self.fps[doc.name] = [fp(v, t) for v, t in zip(doc.verbs, doc.targets)]
            if 0 < len(doc.verbs) <= COPY_LIMIT:
                self.copy_of.setdefault(tuple(self.fps[doc.name]), doc.name)

    def _copy_at(self, doc: _Doc, i: int) -> str | None:
        """The document whose copy the verbs from ``i`` on are, if any."""
        if doc.steps is not None:
            if i < len(doc.steps) and doc.steps[i] in self.docs and doc.steps[i] != doc.name:
                return doc.steps[i]
            return None
        if len(doc.verbs) - i > COPY_LIMIT:  # only short documents are copied
            return None
        found = self.copy_of.get(tuple(self.fps[doc.name][i:]))
        return found if found != doc.name else None

    def _links_of(self, doc: _Doc) -> list[str]:
        out: list[str] = []
        for targets in doc.targets:
            for t in targets.values():
                if t.kind == "doc":
                    out.append(t.name)
                elif t.kind == "router" and t.name in self.routers:
                    r = self.routers[t.name]
                    out += [*r.branches.values(), *(x for x in (r.timeout, r.invalid) if x)]
                elif t.kind == "decide":
                    out += [d for d in self.decisions[t.name].branches.values() if d]
                elif t.kind == "recorded" and self.recordings.get(t.name):
                    out.append(str(self.recordings[t.name]))
        return [n for n in out if n in self.docs]

    def _entry(self, entry: str | None) -> str:
        names = list(self.docs)
        if entry is not None:
            for doc in self.docs.values():
                stem = PurePosixPath(doc.path).stem
                if entry in (doc.name, doc.path, PurePosixPath(doc.path).name, stem):
                    return doc.name
            raise ImportRefused(f"entry {entry!r} is not one of the documents: {', '.join(names)}")
        if self.manifest is not None and self.manifest.get("start") in self.docs:
            return str(self.manifest["start"])
        if len(names) == 1:
            return names[0]
        linked = {t for doc in self.docs.values() for t in self._links_of(doc) if t != doc.name}
        copied = {self._copy_at(doc, i) for doc in self.docs.values() for i in range(1, len(doc.verbs))}
        candidates = [n for n in names if n not in linked and n not in copied] or names
        ranked = sorted(candidates, key=lambda n: (
            _rank(PurePosixPath(self.docs[n].path).stem), self.docs[n].path.count("/"), self.docs[n].path))
        chosen = ranked[0]
        if len(candidates) > 1:
            self.note(f"calls start at {self.docs[chosen].path}; {len(candidates) - 1} other document(s) are not "
                      f"linked from any other either ({', '.join(self.docs[n].path for n in ranked[1:4])}"
                      f"{', …' if len(ranked) > 4 else ''}); choose the entry to change it", severity="info")
        return chosen

    def _doc_order(self, start: str) -> list[_Doc]:
        order: list[str] = []
        seen: set[str] = set()
        todo = [start]
        while todo:  # breadth first from the entry
            nxt: list[str] = []
            for n in todo:
                if n in seen:
                    continue
                seen.add(n)
                order.append(n)
                nxt += self._links_of(self.docs[n])
                for i in range(1, len(self.docs[n].verbs)):
                    c = self._copy_at(self.docs[n], i)
                    if c:
                        nxt.append(c)
                        break
            todo = nxt
        order += [n for n in self.docs if n not in seen]
        return [self.docs[n] for n in order]

    # -- building --------------------------------------------------------------------------

    def fresh(self, base: str) -> str:
        base = _slug(base)[:56] or "step"
        out = _fresh(base, self.used_ids, self._suffixes)
        self.used_ids.add(out)
        return out

    def _node_id(self, doc: _Doc, i: int) -> str:
        if doc.steps is not None and i < len(doc.steps):
            return doc.steps[i]
        if doc.steps is None and doc.name not in self.graph:
            return doc.name
        return self.fresh(f"{doc.name}-{(doc.verbs[i].type or 'step').lower()}")

    def _cont(self, node: str) -> str:
        """The branch a step continues on: next, or a menu's no-input path."""
        return _spec(self.graph.nodes[node].get("type")).default_branch or "next"

    def _build(self, doc: _Doc) -> None:
        prev: str | None = None
        ended_by: Verb | None = None  # the verb that moved the call on; later verbs are never played
        reported = False
        for i, verb in enumerate(doc.verbs):
            if i > 0 and ended_by is None:
                copy = self._copy_at(doc, i)
                if copy is not None:
                    if prev is not None:
                        self.pending.append((prev, self._cont(prev), copy, None))
                    break
            if not verb.known:
                self.unknown_verbs.append({"document": doc.path, "line": verb.line, "after": prev, "xml": verb.xml})
                continue
            targets = doc.targets[i]
            redirect = targets.get("redirect")
            if redirect is not None and redirect.kind == "decide" and ended_by is None:
                self._decision_step(redirect.name, prev, doc, verb)  # the host's decision: the path ends
                ended_by, prev = verb, None
                continue
            to_doc = redirect is not None and redirect.kind == "doc"
            if to_doc and ended_by is None and prev is not None:
                if doc.steps is not None and i == len(doc.steps):  # the compiler's Redirect to the next document
                    self.pending.append((prev, self._cont(prev), redirect.name, None))
                    break
                if doc.steps is None and (not redirect.hosted or len(self.docs[redirect.name].verbs) > COPY_LIMIT):
                    # a connection (a Go to where it would close a loop); but the compiler copies a
                    # short document instead of redirecting to it, so its Redirect to one is a jump
                    if verb.fields.get("attrs"):
                        self.note("the Redirect's method does not matter between documents of a flow; not kept",
                                  doc.path, verb.line, severity="info")
                    self.pending.append((prev, self._cont(prev), redirect.name, self._node_id(doc, i)))
                    ended_by, prev = verb, None
                    continue
            if to_doc and (doc.steps is None or self._is_goto(verb, redirect.name)):
                data: dict[str, Any] = {"type": "Goto", "target": redirect.name}
            else:
                data = dict(verb.fields)
                if doc.steps is None:
                    self.outside.absolute_fields(data, redirect, doc.path, verb.line)
            node = self._node_id(doc, i)
            if not self._add_node(node, data, doc, verb):
                break
            if prev is not None:
                self._connect(prev, self._cont(prev), node)
            elif ended_by is not None and not reported:
                reported = True
                self.note(f"<{verb.tag}> and what follows are never played: <{ended_by.tag}> on line "
                          f"{ended_by.line} moves the call on first; kept as unconnected steps",
                          doc.path, verb.line, node)
            spec = _spec(data["type"])
            ends = spec.ends_path
            if not spec.jumps:
                ends = self._links(node, verb, targets, doc) or ends
            if ends and ended_by is None:
                ended_by = verb
            prev = None if ends else node
        first = doc.steps[0] if doc.steps else doc.name
        if first not in self.graph:
            self.graph.add_node(first, type="Hangup")
            self.note("the document has no verbs FlexML knows, so the call ends there: shown as a Hang up step",
                      doc.path, doc.parsed.line(doc.parsed.root), first)

    def _decision_step(self, node: str, prev: str | None, doc: _Doc, verb: Verb) -> None:
        """A decision step (Hours, Split, Set) from the bundle's decisions table; its branches are linked
        like a menu's (past Go to steps), once every step exists."""
        decision = self.decisions[node]
        if self._add_node(node, {"type": decision.type, **decision.spec}, doc, verb):
            self.decided[node] = decision
        if prev is not None:
            self._connect(prev, self._cont(prev), node)

    def _is_goto(self, verb: Verb, target: str) -> bool:
        return self.urls is not None and not verb.fields.get("attrs") and \
            verb.fields.get("text") == self.urls.document(target)

    def _add_node(self, node: str, data: dict[str, Any], doc: _Doc, verb: Verb) -> bool:
        if node in self.graph and self.graph.nodes[node]:
            self.note(f"step id {node!r} appears twice; the second copy is left out", doc.path, verb.line, node)
            return False
        self.graph.add_node(node, **data)
        return True

    def _links(self, node: str, verb: Verb, targets: dict[str, Target], doc: _Doc) -> bool:
        """Connect a verb's action URLs; True when the call does not go on to the next verb."""
        action = targets.get("action")
        spec = _spec(verb.type)
        if spec.is_menu:
            if action is None and doc.dialect.name == "twiml" and spec.twiml_reasks:
                self.pending.append((node, "invalid", doc.name, None))
                self.note(f"<{verb.tag}> without action: {doc.dialect.describe()}, where the keys pressed request "
                          "this same document again; here any key goes back to its start (the menu's 'invalid' "
                          "path, a Go to step) and no input goes on to the next step; add options in the designer",
                          doc.path, verb.line, node)
            elif action is None:
                self.note(f"<{verb.tag}> has no action, so the keys pressed are not used: the flow treats every key "
                          "as a wrong key (asked again, then the no-input path); connect its options in the designer",
                          doc.path, verb.line, node)
            elif action.kind == "router" and action.name in self.routers:
                self.menus[node] = action.name
            elif action.kind == "router":
                self.note(f"the action {verb.links['action']!r} is a FlexML Designer menu router, whose options are "
                          "in the bundle: import the bundle (.zip) to keep them; the menu has no options here",
                          doc.path, verb.line, node)
            elif action.kind == "doc":
                self.pending.append((node, "invalid", action.name, None))
                self.note(f"any key the caller presses leads to {self.docs[action.name].path} (a FlexML document "
                          "cannot tell keys apart): connected as the menu's 'invalid' (any other key) path; add "
                          "options in the designer", doc.path, verb.line, node, "info")
            else:
                self._keys_away(node, action.name, verb, doc)
            return False
        error = targets.get("errorAction")
        if error is not None and spec.has_error_branch:
            if error.kind == "doc":
                self.pending.append((node, "error", error.name, None))
            else:
                self._external(node, "error", error.name, verb.methods.get("errorAction"), doc, verb)
        if action is None and doc.dialect.name == "twiml" and spec.twiml_reasks and doc.steps is None:
            self.pending.append((node, "next", doc.name, None))
            self.note(f"<{verb.tag}> without action: {doc.dialect.describe()}, where the call then requests this "
                      f"same document again; here the call goes back to its start after {spec.label.lower()} "
                      "(a Go to step); set where the call goes next in the designer", doc.path, verb.line, node)
            return True
        if action is None:
            return False
        if action.kind == "decide" and spec.outcome_branch:  # a Transfer whose outcome picks its path
            self.decided[node] = self.decisions[action.name]
            return True
        if action.kind == "recorded":  # the host keeps the recording and answers with the document after it
            if action.name in self.recordings:
                after = self.recordings[action.name]
                if after is not None:
                    self.recorded[node] = after  # linked like a menu's options, past Go to steps
            else:
                self.note(f"the action {verb.links['action']!r} is FlexML Designer's recording route, which "
                          "answers with the step after the recording as the bundle's manifest says: import the "
                          "bundle (.zip) to keep it; here the call ends after the recording",
                          doc.path, verb.line, node)
            return True
        if action.kind == "doc":
            self.pending.append((node, "next", action.name, None))
        elif action.kind == "router":
            self.note(f"action {verb.links['action']!r} is a menu router; the call ends here instead",
                      doc.path, verb.line, node)
        else:
            lost = f"the Redirect does not pass on {spec.reports}" if spec.reports else None
            self._external(node, "next", action.name, verb.methods.get("action"), doc, verb, lost)
        return True

    def _keys_away(self, node: str, url: str, verb: Verb, doc: _Doc) -> None:
        """A menu whose action is outside the set keeps sending its keys there (its ``attrs.action``)."""
        url = self.outside.absolute(url, doc.path, verb.line, node)
        data = self.graph.nodes[node]
        attrs = dict(data.get("attrs") or {})
        attrs["action"] = url
        method = verb.methods.get("action")
        if method:
            attrs["method"] = method
        data["attrs"] = attrs
        self.note(f"<{verb.tag}> action {url!r} is outside the imported documents: the menu sends the keys pressed "
                  "there, as the original did ('Next URL' on the menu), so it has no options in this flow; what follows it is "
                  "the no-input path", doc.path, verb.line, node, "info")

    def _external(self, node: str, branch: str, url: str, method: str | None, doc: _Doc, verb: Verb,
                  lost: str | None = None) -> None:
        url = self.outside.absolute(url, doc.path, verb.line, node) if doc.steps is None else url
        step = self.fresh(f"{node}-{branch}-redirect")
        data: dict[str, Any] = {"type": "Redirect", "text": url}
        if method == "GET":
            data["attrs"] = {"method": "GET"}
        self.graph.add_node(step, **data)
        self._connect(node, branch, step)
        tail = f"; {lost}" if lost else ""
        self.note(f"{url!r} is outside the imported documents: a Redirect step {step!r} goes there{tail}",
                  doc.path, verb.line, node, "warning" if lost else "info")

    def _connect(self, source: str, branch: str, target: str) -> bool:
        current = out_branches(self.graph, source).get(branch)
        if current is not None:
            if current != target:
                self.note(f"output {branch!r} already leads to {current!r}; a second path to {target!r} is left "
                          "out", node=source)
            return current == target
        add_branch(self.graph, source, target, branch)
        return True

    def _finish_links(self) -> None:
        """Connect documents: plain links first, then menu and error links (which skip Go to steps)."""
        later = []
        for source, branch, target, goto_id in self.pending:
            if branch == "error":
                later.append((source, branch, target))
            else:
                self._link(source, branch, target, goto_id)
        for node, router_name in self.menus.items():
            router = self.routers[router_name]
            later += [(node, str(d), t) for d, t in router.branches.items()]
            later += [(node, b, t) for b, t in (("timeout", router.timeout), ("invalid", router.invalid)) if t]
        for node, decision in self.decided.items():
            later += [(node, b, t) for b, t in decision.branches.items() if t and t in self.docs]
        later += [(node, "next", t) for node, t in self.recorded.items() if t in self.docs]
        self._goto_docs = {}  # final target → Go to steps with their own document
        for d in sorted(self.docs):
            if d in self.graph and _spec(self.graph.nodes[d].get("type")).jumps:
                self._goto_docs.setdefault(self._final(d), []).append(d)
        self._goto_targets = {str(d.get("target")) for _, d in self.graph.nodes(data=True)
                              if _spec(d.get("type")).jumps}
        for source, branch, target in later:
            self._link_skipping_gotos(source, branch, target)

    def _link(self, source: str, branch: str, target: str, goto_id: str | None = None) -> None:
        if target not in self.graph or not self.graph.nodes[target]:
            self.note(f"links to {target!r}, which has no steps; not connected", node=source)
            return
        if out_branches(self.graph, source).get(branch) == target:
            return
        if target == source or nx.has_path(self.graph, target, source):
            goto = goto_id if goto_id and goto_id not in self.graph else self.fresh(f"{source}-goto-{target}")
            self.used_ids.add(goto)
            self.graph.add_node(goto, type="Goto", target=target)
            self._goto_targets.add(target)
            self._connect(source, branch, goto)
            return
        self._connect(source, branch, target)

    def _final(self, node: str) -> str:
        seen = set()
        while _spec(self.graph.nodes[node].get("type")).jumps and node not in seen:
            seen.add(node)
            node = str(self.graph.nodes[node].get("target"))
            if node not in self.graph:
                break
        return node

    def _link_skipping_gotos(self, source: str, branch: str, target: str) -> None:
        """A router's or errorAction's link, which the compiler points past Go to steps.

        A Go to step with its own document is there because a menu option or an
        error path led to it: such links go to it again (unused ones first), so
        recompiling gives the same documents.
        """
        current = out_branches(self.graph, source).get(branch)
        if current is not None and self._final(current) == target:
            return
        gotos = sorted((d for d in self._goto_docs.get(target, ()) if d != target),
                       key=lambda d: (d in self._served or self._rooted(d), d))
        if gotos:
            self._served.add(gotos[0])
            self._connect(source, branch, gotos[0])
            return
        self._link(source, branch, target)

    def _rooted(self, node: str) -> bool:
        """Whether the compiler gives ``node`` a document without a menu or error link to it."""
        g = self.graph
        return node == g.graph.get("start") or g.in_degree(node) >= 2 or node in self._goto_targets or any(
            b != "next" for _, _, d in g.in_edges(node, data=True) for b in edge_branches(d))

    def _apply_routers(self) -> None:
        for node, router_name in self.menus.items():
            router = self.routers[router_name]
            data = self.graph.nodes[node]
            data["options"] = [str(d) for d in router.branches]
            if router.invalid is None:
                data["retries"] = router.retries
                text = self._retry_text(router)
                if text is not None and text != STEPS[data["type"]].default("retryText"):
                    data["retryText"] = text

    def _retry_text(self, router: Router) -> str | None:
        if not router.retry_docs or self.manifest is None:
            return None
        info = self.manifest["documents"].get(router.retry_docs[0])
        if not isinstance(info, dict):
            return None
        path = posixpath.join(self.manifest_prefix, info["path"]) if self.manifest_prefix else info["path"]
        parsed = parse_document(path, self.files[path])
        verbs = [el for el in parsed.root if isinstance(el.tag, str)]
        if len(verbs) > 1 and _spec(verbs[1].tag).is_menu and _spec(verbs[0].tag).text == "speech":
            return verbs[0].text or ""  # the compiler's retry copy: the retry text, then the menu again
        return ""

    # -- the result ------------------------------------------------------------------------

    def _result(self, start: str) -> ImportResult:
        g = self.graph
        # documents served by a FlexML Designer host name their flow and revision in every URL
        hosted = self.resolver.host_flows if len(self.resolver.host_flows) == 1 else set()
        host_flow, host_revision = next(iter(hosted)) if hosted else (None, None)
        if host_flow is not None and not FLOW_ID.match(host_flow):
            host_flow = None
        fid = self.flow_id or (str(self.manifest["flow"]) if self.manifest else None) or host_flow or \
            _flow_slug(self.default_name or start)
        g.graph.update({"id": fid, "start": start, "format": FORMAT,
                        "name": self.flow_name or (str(self.manifest.get("name") or fid) if self.manifest
                                                   else (self.default_name or start))})
        if self.unknown_verbs:
            g.graph["unknown_verbs"] = self.unknown_verbs
        apply_layout(g, start)
        for problem in only_errors(validate(g)):
            self.note(f"to fix before publishing: {problem.field}: {problem.message}", node=problem.node)
        documents = {d.path: d.name for d in self.docs.values()}
        revision = str(self.manifest.get("revision")) if self.manifest else host_revision
        base_url = str(self.manifest.get("base_url") or "") if self.manifest else ""
        return ImportResult(graph=g, notes=self.notes, start=start, documents=documents, revision=revision,
                            base_url=base_url)


def _slug(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_-]", "-", text)).strip("-")[:64]


def _flow_slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9-]", "-", text.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:63] or "imported"
    return slug if FLOW_ID.match(slug) and slug != "status" else "imported"


def _fresh(base: str, taken: set[str], counters: dict[str, int] | None = None) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever is free; ``counters`` remembers where to go on."""
    if base not in taken:
        taken.add(base)
        return base
    k = (counters or {}).get(base, 2)
    while f"{base}-{k}" in taken:
        k += 1
    if counters is not None:
        counters[base] = k + 1
    taken.add(f"{base}-{k}")
    return f"{base}-{k}"


def _rank(stem: str) -> int:
    low = stem.lower()
    return PREFERRED_ENTRIES.index(low) if low in PREFERRED_ENTRIES else len(PREFERRED_ENTRIES)
