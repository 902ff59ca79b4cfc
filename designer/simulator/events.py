"""What a simulated call produces: a stream of events and the call's result.

Event kinds: ``fetch`` (a URL the carrier requested), ``say``, ``play``,
``pause``, ``gather``, ``keys``, ``dial``, ``sms``, ``record``, ``redirect``,
``reject``, ``hangup``, ``override``, ``decision`` (a decision the built-in host took while
answering: an Hours, Split or Set step, a transfer's outcome), ``status`` (the status callback),
``error`` (the call broke; the caller hears the carrier's error message) and
``end`` (why and how the call ended). ``at`` is virtual time in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class SimEvent:
    """One thing that happened in a simulated call (a fetch, a verb played, the end); not the host's CallEvent."""

    kind: str
    text: str
    at: float = 0.0
    url: str | None = None  # the document this step came from (for fetch/status: the URL requested)
    doc: str | None = None  # host document name when the URL is a host document URL
    step: str | None = None  # the flow step (node id) this verb plays, when the compiled flow is known
    line: int | None = None  # source line of the verb in its document
    index: int | None = None  # position of the verb among the document's top-level verbs
    latency_ms: float | None = None  # fetch/status: wall-clock time the server took
    status: int | None = None  # fetch/status: HTTP status code
    method: str | None = None  # fetch/status: POST or GET
    data: dict[str, Any] = field(default_factory=dict)  # details: sent fields, digits, numbers, …

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, {}, [])}
        out.setdefault("text", self.text)
        return out

    def line_text(self, base: str = "") -> str:
        """One transcript line: time, kind and what happened."""
        text = self.text.replace(base + "/", "/") if base else self.text
        return f"[{self.at:7.1f}s] {self.kind:<8} {text}"


@dataclass
class CallResult:
    url: str
    call_sid: str
    events: list[SimEvent]
    ok: bool = True
    reason: str = ""  # plain words: why the call ended (or broke)
    status: str = "completed"  # CallStatus of the status callback: completed, busy, failed, noanswer
    duration: float = 0.0  # virtual seconds from answer to end
    answered: bool = False
    fetches: int = 0
    sms: list[dict[str, str]] = field(default_factory=list)

    @property
    def call_duration(self) -> int:
        """CallDuration as the status callback reports it: whole seconds, rounded up."""
        whole = int(self.duration)
        return whole + 1 if self.duration > whole else whole

    def said(self) -> list[str]:
        """Every text the caller heard spoken, in order (repetitions once each)."""
        return [e.data.get("speech", e.text) for e in self.events if e.kind == "say"]

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def fetched(self) -> list[str]:
        return [e.url or "" for e in self.events if e.kind == "fetch"]

    def transcript(self) -> str:
        base = origin(self.url)
        lines = [e.line_text(base) for e in self.events]
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        verdict = "OK" if self.ok else "BROKEN"
        return (f"{verdict}: status {self.status}, {self.call_duration} s, "
                f"{self.fetches} fetch{'es' if self.fetches != 1 else ''}")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""


def host_document(url: str) -> str | None:
    """The document name in a host document URL ``/flexml/{flow}/{rev}/{doc}``, else None."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 4 and parts[-4] == "flexml" and parts[-1] != "gather":
        return parts[-1]
    return None
