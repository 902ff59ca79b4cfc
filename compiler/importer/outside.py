"""URLs of imported documents that lead outside the set: read against the original server's address.

A document written for another server names its pages by path (``/completed``) or relative to itself
(``next.php``). On the designer's host those would be requested from the host and fail, so with the
original server's address (``server_url``) they become full addresses, and without it a note says
what to give. Full addresses (``https://…``) stay as written.
"""

from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urljoin, urlsplit

from compiler.catalogue import STEPS
from compiler.importer.links import Target
from compiler.importer.parse import ImportRefused

_SERVER = re.compile(r"^https?://[^\s/?#]+[^\s?#]*$")


class Outside:
    def __init__(self, server_url: str | None, note: Callable[..., None]):
        if server_url is not None and not _SERVER.match(server_url.strip()):
            raise ImportRefused(f"server URL {server_url!r}: give the original server's address, like "
                                "https://ivr.example.com/app/ (http:// or https://, no query)")
        self.server_url = server_url.strip() if server_url else None
        self.note = note

    def absolute(self, url: str, doc_path: str, line: int | None, node: str | None = None) -> str:
        """``url`` read against the server the document at ``doc_path`` came from, when it is not absolute."""
        text = url.strip()
        if not text or urlsplit(text).scheme:
            return url
        if self.server_url is None:
            what = "a path" if text.startswith("/") else "an address relative to the document"
            self.note(f"{text!r} is {what} on the server this document came from; the carrier would request it "
                      "from the designer's host, where it fails: import again with that server's address "
                      "(flexml-designer import --server-url https://…), or write the full address in the designer",
                      doc_path, line, node)
            return url
        base = urljoin(self.server_url.rstrip("/") + "/", doc_path.lstrip("/"))
        full = urljoin(base, text)
        self.note(f"{text!r} read as {full!r}, on the original server ({self.server_url})", doc_path, line, node,
                  "info")
        return full

    def absolute_fields(self, data: dict[str, Any], redirect: Target | None, doc_path: str,
                        line: int | None) -> None:
        """A step's Redirect URL (when it leads outside the set) and URL attributes, made absolute."""
        if redirect is not None and redirect.kind == "external" and isinstance(data.get("text"), str):
            data["text"] = self.absolute(data["text"], doc_path, line)
        spec = STEPS.get(data.get("type", ""))
        attrs = data.get("attrs")
        if spec is None or not isinstance(attrs, dict):
            return
        for a in spec.attrs:
            if a.kind == "url" and not a.managed and isinstance(attrs.get(a.name), str):
                fixed = self.absolute(attrs[a.name], doc_path, line)
                if fixed != attrs[a.name]:
                    data["attrs"] = attrs = {**attrs, a.name: fixed}
