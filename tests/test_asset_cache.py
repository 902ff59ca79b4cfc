"""NiceGUI's versioned files answered from memory (designer.ui.asset_cache), in front of a small ASGI app
that counts how often it is really asked."""

from __future__ import annotations

import asyncio

from nicegui import __version__ as nicegui_version

from designer.ui import asset_cache
from designer.ui.asset_cache import AssetCache

QUASAR = f"/_nicegui/{nicegui_version}/static/quasar.umd.prod.js"


class Files:
    """Answers every path with its name as the body, a fresh session cookie each time, and counts."""

    def __init__(self, status: int = 200, body: bytes | None = None) -> None:
        self.asked = 0
        self.status = status
        self.body = body

    async def __call__(self, scope, receive, send):
        self.asked += 1
        body = self.body if self.body is not None else scope["path"].encode()
        await send({"type": "http.response.start", "status": self.status, "headers": [
            (b"content-type", b"text/javascript"), (b"content-encoding", b"gzip"),
            (b"set-cookie", f"session=visitor-{self.asked}".encode())]})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})


def get(app, path: str = QUASAR, method: str = "GET", query: bytes = b"", **headers: str) -> tuple[int, dict, bytes]:
    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in
                         ({"accept_encoding": "gzip, deflate"} | headers).items()]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, \
        b"".join(m.get("body", b"") for m in sent[1:])


def test_a_versioned_file_is_fetched_once_and_given_again_without_the_first_visitors_cookie():
    files = Files()
    cache = AssetCache(files)
    first, again = get(cache), get(cache)
    for n in range(50):  # another query is the same file: it neither asks again nor fills memory
        get(cache, query=f"v={n}".encode())
    assert files.asked == 1 and len(cache.kept) == 1
    assert first[0] == again[0] == 200 and first[2] == again[2] == QUASAR.encode()  # whole, from its chunks
    assert first[1]["set-cookie"] == "session=visitor-1"  # the first visitor's own answer, as it was
    assert "set-cookie" not in again[1] and again[1]["content-encoding"] == "gzip"


def test_what_is_not_a_versioned_file_or_not_a_plain_gzip_get_always_goes_through():
    files = Files()
    cache = AssetCache(files)
    for _ in range(2):
        get(cache, "/flows/main")  # a page
        get(cache, "/_nicegui/0.0.1/static/quasar.umd.prod.js")  # another NiceGUI's (not this version's)
        get(cache, accept_encoding="identity")
        get(cache, range="bytes=0-10")
        get(cache, method="HEAD")
    assert files.asked == 10 and not cache.kept


def test_failures_and_large_files_are_not_kept(monkeypatch):
    missing = Files(status=404)
    cache = AssetCache(missing)
    get(cache), get(cache)
    assert missing.asked == 2
    monkeypatch.setattr(asset_cache, "MAX_ONE", 100)
    large = Files(body=b"x" * 101)
    cache = AssetCache(large)
    get(cache), get(cache)
    assert large.asked == 2 and cache.size == 0
