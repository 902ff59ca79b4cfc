"""The simulator's HTTP side: one request as the carrier makes it, failures in plain words."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx

from designer.errors import DesignerError

MAX_ANSWER_BYTES = 1024 * 1024  # a FlexML document is small; a bigger answer is refused


class AnswerTooLarge(DesignerError):
    """An answer longer than ``MAX_ANSWER_BYTES``: no FlexML document is that big."""


@dataclass
class Answer:
    status_code: int
    reason: str
    url: str  # after any HTTP redirects
    headers: httpx.Headers
    body: bytes


class Sent(NamedTuple):
    answer: Answer | None  # None when nothing usable came back
    latency_ms: float
    problem: str  # plain words when answer is None


class Fetcher:
    def __init__(self, client: httpx.AsyncClient, timeout: float):
        self.client = client
        self.timeout = timeout

    async def send(self, url: str, method: str, fields: dict[str, Any]) -> Sent:
        """POST ``fields`` as JSON, or GET with them as query parameters (kept beside the URL's own)."""
        try:
            parts = urlsplit(url)
            scheme, _ = parts.scheme, parts.port  # an unclosed [ or a port past 65535 fail here, not in the socket
        except ValueError as exc:
            return Sent(None, 0.0, f"cannot request {url!r}: {exc}")
        if scheme not in ("http", "https"):
            return Sent(None, 0.0, f"cannot request {url!r}: only http:// and https:// URLs can be fetched")
        started = time.perf_counter()
        try:
            if method == "GET":
                params = {k: str(v) for k, v in fields.items()}
                request = self.client.build_request("GET", httpx.URL(url).copy_merge_params(params))
            else:
                request = self.client.build_request("POST", url, json=fields)
            answer = await asyncio.wait_for(self._receive(request), timeout=self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            problem = f"{url} did not answer within {self.timeout:g} s"
        except httpx.ConnectError as exc:
            problem = f"could not connect to {url}: {connect_problem(exc)}"
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            problem = f"cannot request {url!r}: {exc}"
        except httpx.HTTPError as exc:
            problem = f"the request to {url} failed: {exc or type(exc).__name__}"
        except AnswerTooLarge:
            problem = f"the answer from {url} is larger than {MAX_ANSWER_BYTES // 1024} KB"
        else:
            return Sent(answer, _ms(started), "")
        return Sent(None, _ms(started), problem)

    async def _receive(self, request: httpx.Request) -> Answer:
        response = await self.client.send(request, stream=True)
        try:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise AnswerTooLarge()
                chunks.append(chunk)
        finally:
            await response.aclose()
        return Answer(response.status_code, response.reason_phrase, str(response.url), response.headers,
                      b"".join(chunks))


def connect_problem(exc: BaseException) -> str:
    """Plain words for a failed connection, from the cause chain (refused, unknown host, …)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "the host name is unknown"
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
