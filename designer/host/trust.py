"""Who may write the call list and the voicemail inbox: the host's routes are public, the carrier is trusted.

Two settings, kept in the store and followed by every host process (``designer.host.overrides``):

- **the recording hosts allowed** (``recording_hosts``): a recording is kept as a voicemail only when its
  ``RecordingUrl`` is on one of them (the host itself or a subdomain: ``carrierx.com`` allows
  ``api.carrierx.com``). By default the carrier API's domain and the local sandbox's address. Any other
  URL is answered normally (the caller hears the rest of the flow) and not kept, so a forged request
  cannot plant a voicemail whose player loads an address of the forger's choosing.
- **a secret token in every carrier URL** (``carrier_token``, switched on by ``carrier_token_required``):
  a path segment ``~TOKEN`` right after ``/flexml`` (``https://ivr.example.com/flexml/~TOKEN/main-menu``).
  A path segment, not a query parameter: the carrier joins a relative URL inside a document with the
  document's own URL, which keeps the path's directories but drops its query. The host also writes the
  segment into every action and Redirect URL of the documents it answers a request carrying the right
  token with, so a whole call stays authenticated. When the token is required, a request without it
  (or with a wrong one: compared in constant time) is still answered with valid FlexML, but nothing of
  it is recorded (no call, status or message) and its answer carries no token.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_SETTING = "carrier_token"
REQUIRE_TOKEN_SETTING = "carrier_token_required"
RECORDING_HOSTS_SETTING = "recording_hosts"

CARRIER_DOMAIN = "carrierx.com"  # the carrier API's domain (https://api.carrierx.com/… in the reference)
SANDBOX_HOSTS = ("127.0.0.1", "localhost")  # where the local carrier sandbox serves its recordings
DEFAULT_RECORDING_HOSTS = (CARRIER_DOMAIN, *SANDBOX_HOSTS)
TOKEN_MARK = "~"  # a path segment that starts with it is the token, not a flow
MAX_TOKEN_CHARS = 128
MAX_HOSTS = 50
MAX_URL_CHARS = 512  # what the host keeps of a parameter; a longer recording URL would be cut, so it is refused
REASON_HOST_CHARS = 80  # how much of a refused host an event quotes

_HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_IPV6 = re.compile(r"^[0-9a-f:]{2,39}$")
_BAD_URL_CHAR = re.compile(r"[\x00-\x20\x7f<>\"\\]")
# scheme, user info, host (a name, an IPv4 address or a bracketed IPv6 one), port, then the path/query or the end
_HTTP_URL = re.compile(r"(?i)^(https?)://(?:[^/?#@]*@)?(\[[0-9a-f:.]+\]|[^/?#:@\[\]]+)(?::\d{1,5})?(?:[/?#]|$)")
_HEADS: dict[str, re.Pattern] = {}


def new_token() -> str:
    """A fresh secret for carrier URLs (URL-safe: letters, digits, - and _)."""
    return secrets.token_urlsafe(24)


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``host`` is one of ``allowed`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == a or host.endswith("." + a) for a in allowed)


def parse_hosts(text: str) -> tuple[str, ...]:
    """Recording hosts typed by a user (comma, space or line separated); ValueError naming a bad one."""
    found: list[str] = []
    for raw in re.split(r"[\s,]+", str(text or "").strip()):
        if not raw:
            continue
        host = raw.lower().rstrip(".")
        if not (_HOST_NAME.match(host) or _IPV6.match(host)):
            raise ValueError(f"recording host {raw[:REASON_HOST_CHARS]!r} is not a host name like "
                             f"{CARRIER_DOMAIN} or 127.0.0.1 (no scheme, path or port)")
        if host not in found:
            found.append(host)
    if len(found) > MAX_HOSTS:
        raise ValueError(f"{len(found)} recording hosts: at most {MAX_HOSTS}")
    return tuple(found)


@dataclass(frozen=True)
class CarrierTrust:
    """What a host trusts: the token carrier URLs carry (``required`` or not) and the recording hosts allowed."""

    token: str = ""
    required: bool = False
    recording_hosts: tuple[str, ...] = DEFAULT_RECORDING_HOSTS

    def authentic(self, given: str | None) -> bool:
        """Whether a request's token segment is the secret (constant time)."""
        if not self.token or given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))

    def records(self, given: str | None) -> bool:
        """Whether a request with this token segment (None: none) is recorded as part of a call."""
        return not self.required or self.authentic(given)

    def recording_refused(self, url: str) -> str | None:
        """Why a recording at ``url`` is not kept as a voicemail, or None when it is kept."""
        if not url:
            return "no RecordingUrl in the request: nothing stored"
        if len(url) > MAX_URL_CHARS:
            return f"recording URL of {len(url):,} characters (at most {MAX_URL_CHARS}): not stored"
        match = _HTTP_URL.match(url)
        if match is None or _BAD_URL_CHAR.search(url):
            return f"recording URL that is not an http(s) address: {url[:REASON_HOST_CHARS]!r}, not stored"
        host = match.group(2).lower().strip("[]")
        if not host_allowed(host, self.recording_hosts):
            return f"recording from a host not allowed: {host[:REASON_HOST_CHARS]}"
        return None


def trust_from_settings(get: Callable[[str], str | None]) -> CarrierTrust:
    """The trust the settings in a store give (``get(key)`` reads one; None when unset)."""
    hosts_text = get(RECORDING_HOSTS_SETTING)
    try:
        hosts = DEFAULT_RECORDING_HOSTS if hosts_text is None else parse_hosts(hosts_text)
    except ValueError:
        hosts = DEFAULT_RECORDING_HOSTS
    return CarrierTrust(token=get(TOKEN_SETTING) or "", required=get(REQUIRE_TOKEN_SETTING) == "1",
                        recording_hosts=hosts)


def token_segment(token: str) -> str:
    """The path segment carrier URLs carry the token in (``~TOKEN``)."""
    return TOKEN_MARK + token


def with_token(body: bytes, token: str, base_url: str = "") -> bytes:
    """The answer with the token segment after ``/flexml/`` in every URL on this host a call may follow from
    it (action, errorAction, Redirect text starting with ``base_url``/flexml/; a Redirect to another
    server never gets the token)."""
    pattern = _HEADS.get(base_url)
    if pattern is None:
        head = re.escape(base_url.rstrip("/").encode()) + rb"/flexml/"
        pattern = re.compile(rb'((?:action|errorAction)="|<Redirect[^>]*>)(' + head + rb')(?!~)')
        if len(_HEADS) < 64:
            _HEADS[base_url] = pattern
    segment = token_segment(token).encode() + b"/"
    return pattern.sub(lambda m: m.group(1) + m.group(2) + segment, body)
