"""Following URLs between the documents of an imported set.

An ``action``, ``errorAction`` or Redirect URL, relative or absolute, is
resolved against the URL of the document it is in (its path inside the set),
then matched to a document of the set:

1. the host's own shapes: ``…/flexml/{flow}/{rev}/{doc}`` and the menu routers
   ``…/flexml/{flow}/{rev}/{node}/gather[?attempt=N]`` (routers only when a
   bundle's routers table is known), the decisions ``…/{node}/decide`` and a Record's
   action ``…/{node}/recorded``;
2. the path: ``ivr/menu.xml`` (with or without ``.xml``), or the longest set
   path the URL's path ends with (``https://example.com/app/ivr/menu.xml``);
3. the file name alone, when exactly one document has it.

Anything else is outside the set.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

HOST_DOC = re.compile(r"/flexml/([^/]+)/([^/]+)/([^/]+)/?$")
HOST_ROUTER = re.compile(r"/flexml/([^/]+)/([^/]+)/([^/]+)/gather/?$")
HOST_DECIDE = re.compile(r"/flexml/([^/]+)/([^/]+)/([^/]+)/decide/?$")
HOST_RECORDED = re.compile(r"/flexml/([^/]+)/([^/]+)/([^/]+)/recorded/?$")


@dataclass(frozen=True)
class Target:
    kind: str  # "doc", "router" (a menu router of the host, known or not), "decide" (a decision the host
    # takes, known from a bundle's decisions table), "recorded" (a Record's action to the host, which answers
    # with the document after it: known from a bundle's recordings table) or "external"
    name: str  # document or router (menu node) name; the URL as written when external
    attempt: int = 1  # a router URL's ?attempt=N
    hosted: bool = False  # written in the host's URL shape, so by FlexML Designer's compiler

    @property
    def in_set(self) -> bool:
        return self.kind != "external"


class Resolver:
    def __init__(self, paths: dict[str, str], routers: set[str] | None = None,
                 host_names: dict[str, str] | None = None, decisions: set[str] | None = None):
        """``paths``: set path → document name; ``host_names``: names in host URLs → document name."""
        self.paths = {p.strip("/"): n for p, n in paths.items()}
        self.routers = set(routers or ())
        self.decisions = set(decisions or ())
        self.host_names = dict(host_names or {n: n for n in self.paths.values()})
        self._no_ext = {}
        self._by_file: dict[str, list[str]] = {}
        for p, n in self.paths.items():
            stem = p[:-4] if p.lower().endswith(".xml") else p
            self._no_ext.setdefault(stem, n)
            base = posixpath.basename(stem)
            self._by_file.setdefault(base.lower(), []).append(n)
        self.host_flows: set[tuple[str, str]] = set()  # (flow id, revision) seen in host-shaped URLs

    def resolve(self, url: str, base: str) -> Target:
        """Where ``url`` (written in the document at set path ``base``) leads."""
        raw = url.strip()
        if not raw:
            return Target("external", raw)
        parts = urlsplit(raw)
        if parts.scheme and parts.scheme.lower() not in ("http", "https"):
            return Target("external", raw)
        path = unquote(parts.path)
        if not parts.scheme and not parts.netloc and not path.startswith("/"):
            path = posixpath.normpath(posixpath.join("/" + posixpath.dirname(base.strip("/")), path))
        router = HOST_ROUTER.search(path)
        if router:  # a menu router; without a bundle's routers table its options are unknown
            self.host_flows.add((router.group(1), router.group(2)))
            attempt = re.search(r"(?:^|&)attempt=(\d{1,6})(?:&|$)", parts.query)  # (no 5,000-digit int())
            return Target("router", router.group(3), int(attempt.group(1)) if attempt else 1, True)
        decide = HOST_DECIDE.search(path)
        if decide and decide.group(3) in self.decisions:
            self.host_flows.add((decide.group(1), decide.group(2)))
            return Target("decide", decide.group(3), hosted=True)
        recorded = HOST_RECORDED.search(path)
        if recorded:
            self.host_flows.add((recorded.group(1), recorded.group(2)))
            return Target("recorded", recorded.group(3), hosted=True)
        host = HOST_DOC.search(path)
        if host and host.group(3) in self.host_names:
            self.host_flows.add((host.group(1), host.group(2)))
            return Target("doc", self.host_names[host.group(3)], hosted=True)
        name = self._match_path(path.strip("/"))
        return Target("doc", name) if name else Target("external", raw)

    def _match_path(self, path: str) -> str | None:
        if not path:
            return None
        for table in (self.paths, self._no_ext):
            if path in table:
                return table[path]
        best = None
        for table in (self.paths, self._no_ext):
            for p, n in table.items():
                if path.endswith("/" + p) and (best is None or len(p) > best[0]):
                    best = (len(p), n)
        if best:
            return best[1]
        base = posixpath.basename(path)
        stem = base[:-4] if base.lower().endswith(".xml") else base
        found = self._by_file.get(stem.lower(), [])
        return found[0] if len(found) == 1 else None
