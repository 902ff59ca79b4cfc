"""Validation rules from the FlexML reference that look past one attribute's own value.

Play's protocols and formats and what streaming turns off, Override's place at the
top of a document, menus that send their keys to another server, call variables that
only a Record's or a menu's request carries, placeholders left from a template and
relative URLs. ``compiler.validate`` calls these; each returns ``Found`` tuples (node, field, message,
severity) that it turns into ``Problem``s, or a message.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlsplit

import networkx as nx

from compiler import templating
from compiler.catalogue import MEDIA_FORMATS, STEPS, STREAM_SCHEMES, Step
from compiler.flow import edge_branches, reached_from, start_of

# call variables only some steps' requests carry → those steps' types
_PROVIDED: dict[str, tuple[str, ...]] = {}
for _spec in STEPS.values():
    for _name in _spec.provides:
        _PROVIDED.setdefault(_name, ())
        _PROVIDED[_name] += (_spec.type,)


Found = tuple[str, str, str, str]  # (node, field, message, severity): ``compiler.validate`` makes it a Problem


def _problem(node: str, field: str, message: str, severity: str = "error") -> Found:
    return (node, field, message, severity)


def _on(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


# --- Play: protocols, formats, streaming -----------------------------------------------


def media_problems(node: str, spec: Step, data: dict) -> list[Found]:
    """Play's URL against the reference's protocols and formats, and the keys streaming disables."""
    out = []
    if spec.media:
        out += _one_media(node, spec, data.get("text"), data.get("attrs"), "")
    if spec.is_menu and isinstance(data.get("prompt"), list):
        for i, child in enumerate(data["prompt"]):
            child_spec = STEPS.get(child.get("type", "")) if isinstance(child, dict) else None
            if child_spec is not None and child_spec.media:
                out += _one_media(node, child_spec, child.get("text"), child.get("attrs"), f"prompt[{i}].")
    return out


def _one_media(node: str, spec: Step, text: Any, attrs: Any, where: str) -> list[Found]:
    if not isinstance(text, str) or not text.strip():
        return []
    attrs = attrs if isinstance(attrs, dict) else {}
    url = text.strip()
    streaming = _on(attrs.get("streaming"))
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    out = []
    if scheme in STREAM_SCHEMES and not streaming:
        out.append(_problem(node, f"{where}attrs.streaming",
                            f"{url!r} is a {scheme}:// live stream: the carrier plays {' and '.join(STREAM_SCHEMES)} "
                            "only with streaming on; turn on 'Live stream' (streaming=true)"))
    if scheme in ("http", "https") and not streaming:
        ext = _extension(url)
        if ext and ext not in MEDIA_FORMATS:
            out.append(_problem(node, f"{where}text",
                                f"{url!r} ends in .{ext}, which is not an audio format Play can play; use a file "
                                f"in one of {', '.join(MEDIA_FORMATS)}"))
    if streaming:
        for a in spec.attrs:
            if a.not_streaming and attrs.get(a.name) not in (None, ""):
                out.append(_problem(node, f"{where}attrs.{a.name}",
                                    f"{a.label or a.name} does nothing while streaming is on (the carrier turns "
                                    "forward and rewind off for streams); clear it or turn streaming off",
                                    "warning"))
    return out


def _extension(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    base = posixpath.basename(path)
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


# --- Override: at the top ---------------------------------------------------------------


def top_problems(graph: nx.DiGraph, node: str, spec: Step) -> list[Found]:
    """A step that goes only at the top of a document (Override): the flow's first step, nothing leading in."""
    if not spec.at_top:
        return []
    if start_of(graph) != node:
        return [_problem(node, "type", f"{spec.label} ({spec.type}) goes at the top of the call's first "
                                       "document (the reference: it \"is added to the top\"); make it the "
                                       "flow's start step")]
    sources = sorted(graph.predecessors(node))
    if sources:
        return [_problem(sources[0], "connections",
                         f"connects back to the start step {node!r} ({spec.type}), which must stay at the top "
                         f"of the call's first document; connect to the step after it instead")]
    return []


# --- a menu whose keys go to another server ----------------------------------------------


def menu_away_problems(graph: nx.DiGraph, node: str, spec: Step, data: dict) -> list[Found]:
    """A menu with its own ``action``: the keys go to that server; only its no-input path stays in the flow."""
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    url = str(attrs.get("action") or "").strip()
    if not spec.is_menu or not url:
        return []
    out = [_problem(node, "attrs.action", f"the keys the caller presses go to {url!r}, which answers the call from "
                                          "then on; only the no-input path stays in this flow", "warning")]
    for target, edata in sorted(graph._succ[node].items()):
        for branch in edge_branches(edata):
            if branch != spec.default_branch:
                out.append(_problem(node, f"branch {branch}",
                                    f"connects to {target!r}, but the menu sends its keys to {url!r}; remove the "
                                    "connection, or clear 'Next URL' to answer the keys in this flow"))
    if data.get("options"):
        out.append(_problem(node, "options", f"options {data['options']!r} are answered by {url!r}, not by this "
                                             "flow; remove them, or clear 'Next URL' and connect them"))
    return out


# --- call variables only some requests carry ---------------------------------------------


class ProvidedBefore:
    """Which steps a call may reach after a step of a given type: one forward walk per type, on first use."""

    def __init__(self, graph: nx.DiGraph):
        self.graph = graph
        self._after: dict[str, set[str]] = {}
        self._jumps: dict[str, list[str]] | None = None

    def reached_after(self, type_: str) -> set[str]:
        if type_ not in self._after:
            self._after[type_] = self._walk([n for n, d in self.graph.nodes(data=True) if d.get("type") == type_])
        return self._after[type_]

    def _walk(self, sources: list[str]) -> set[str]:
        """Steps reached from ``sources`` by connections, and by Go to steps to their targets."""
        return reached_from(self.graph, [t for s in sources for t in self.graph.successors(s)])


def path_variable_problems(graph: nx.DiGraph, node: str, spec: Step, data: dict,
                           before: ProvidedBefore | None = None) -> list[Found]:
    """Texts using a variable (``{{ RecordingUrl }}``, ``{{ Digits }}``) no earlier step can have set."""
    wanted = _provided_wanted(spec, data)
    if not wanted:
        return []
    before = before or ProvidedBefore(graph)
    out = []
    for field, name in wanted:
        if not any(node in before.reached_after(t) for t in _PROVIDED[name]):
            steps = " or ".join(STEPS[t].label for t in _PROVIDED[name])
            out.append(_problem(node, field, f"{{{{ {name} }}}} is always empty here: no {steps} step comes before "
                                             "this one on any path, so the call has no value for it", "warning"))
    return out


def reads_provided(spec: Step, data: dict) -> bool:
    """Whether a step's texts use a variable only some earlier steps' requests carry."""
    return bool(_provided_wanted(spec, data))


def _provided_wanted(spec: Step, data: dict) -> list[tuple[str, str]]:
    """(field, variable) for each use of a variable only some requests carry in a step's texts."""
    texts: list[tuple[str, Any]] = []
    if spec.can_template:
        texts.append(("text", data.get("text")))
    if spec.is_menu and isinstance(data.get("prompt"), list):
        texts += [(f"prompt[{i}].text", c.get("text")) for i, c in enumerate(data["prompt"])
                  if isinstance(c, dict) and STEPS.get(c.get("type", "")) is not None
                  and STEPS[c["type"]].can_template]
    return [(field, name) for field, text in texts if isinstance(text, str) and templating.is_template(text)
            for name in sorted(templating.variables(text)) if name in _PROVIDED]


# --- text that is not a value ------------------------------------------------------------


def placeholder_problem(value: str) -> str | None:
    """A template placeholder (``{{ container_sid }}``) in a field the carrier receives as written."""
    if not templating.is_template(value):
        return None
    names = sorted(templating.variables(value))
    shown = ", ".join(names) if names else value.strip()[:40]
    return (f"{value.strip()[:60]!r} holds a placeholder ({shown}) from a template: the carrier would get it as "
            "written, because call variables are filled in only in spoken and texted messages and in Send "
            "text's numbers; write the real value")


def relative_url_problem(value: str) -> str | None:
    """What to write instead of a relative URL (``next.xml``) or a stream protocol outside Play."""
    text = value.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in STREAM_SCHEMES:
        return (f"{text!r} uses {scheme}://, a streaming protocol only Play takes; use an http:// or https:// "
                "address")
    if scheme or not text or any(c.isspace() for c in text) or text.startswith("/"):
        return None
    return (f"{text!r} is not a URL the carrier can use here: a relative address, which the carrier would read against this flow's own address on the "
            f"host, where no such document is; write the full address (like https://your-server.example.com/"
            f"{text.lstrip('./')}) or a path on the host starting with / (like /{text.lstrip('./')})")
