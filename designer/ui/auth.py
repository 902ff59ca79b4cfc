"""Sign-in for the designer's pages when it listens beyond this machine.

The password comes from ``$FLEXML_PASSWORD`` or is set on the first visit
("Set a password", only while none is set); only its scrypt hash is kept, in
the store's settings. The host's ``/flexml`` routes never need a login: the
carrier calls them.

Signing in starts a new session: the right password earns a one-time ticket,
and ``/login/complete`` trades it for a fresh session cookie (a new NiceGUI
session id) holding a random token that the store's sessions table knows.
Every page request and every page action checks that token, so a cookie from
before the sign-in signs no one in, and signing out (which deletes the token)
ends the session in every tab.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from nicegui import Client, app, core, ui
from nicegui import __version__ as nicegui_version
from nicegui.storage import RequestTrackingMiddleware
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse

from designer.context import AppContext
from designer.ui.frame import sentence
from designer.services import ServiceError

HASH_SETTING = "password_hash"
MIN_LENGTH = 8
# NiceGUI's assets and socket are open (the sign-in page needs them); its per-client routes (uploads,
# downloads under /_nicegui/client, /_nicegui/auto) are not
OPEN_PATHS = ("/login", f"/_nicegui/{nicegui_version}", "/_nicegui_ws", "/flexml", "/favicon.ico")
TOKEN_KEY = "auth"  # the session token's key in the (signed) session cookie
TICKET_SECONDS = 60.0
ALREADY_SET = "already-set"

SESSION_SECONDS = 14 * 24 * 3600.0  # as long as the session cookie lives (Starlette's default)
_N, _R, _P = 2**14, 8, 1


class PasswordAlreadySet(ServiceError):
    """The first password was set by someone else since this page was opened."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                               dklen=len(bytes.fromhex(digest)))
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def has_password(ctx: AppContext) -> bool:
    return bool(ctx.store.get_setting(HASH_SETTING))


def _checked(password: str, confirm: str | None) -> str:
    """The hash of a new password; ServiceError when it is too short or the two typed differ."""
    if len(password) < MIN_LENGTH:
        raise ServiceError(f"the password is {len(password)} characters; use at least {MIN_LENGTH}")
    if confirm is not None and confirm != password:
        raise ServiceError("the two passwords differ; type the same password twice")
    return hash_password(password)


def set_password(ctx: AppContext, password: str, confirm: str | None = None) -> None:
    """Set or replace the password (Settings, ``$FLEXML_PASSWORD``: callers that are allowed to)."""
    ctx.store.set_setting(HASH_SETTING, _checked(password, confirm))


def set_first_password(ctx: AppContext, password: str, confirm: str | None = None) -> None:
    """Set the password only if none is set yet, atomically; PasswordAlreadySet otherwise."""
    if not ctx.store.add_setting(HASH_SETTING, _checked(password, confirm)):
        raise PasswordAlreadySet("a password was already set; sign in with it")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters (tabs, newlines), backslashes


def safe_redirect(target: str | None) -> str:
    """``target`` if it is a path of this app, else "/".

    A path starts with one "/" followed by something other than "/" or "\\", also once percent-decoding
    is undone (as often as it changes anything); it has no backslash or control character
    (browsers read "/\\x" and "/\\tx" as "//x", another site), and no scheme or host.
    """
    text = target or ""
    forms = [text]
    for _ in range(5):
        decoded = unquote(text)
        if decoded == text:
            break
        forms.append(text := decoded)
    for form in forms:
        if form != "/" and not re.match(r"/[^/\\]", form) or _CONTROL.search(form):
            return "/"
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return "/"
    return target or "/"


def change_password(ctx: AppContext, current: str, new: str, confirm: str) -> None:
    if has_password(ctx) and not check_password(current, ctx.store.get_setting(HASH_SETTING)):
        raise ServiceError("the current password is not right")
    set_password(ctx, new, confirm)


def password_from_env(ctx: AppContext) -> bool:
    """Take ``$FLEXML_PASSWORD`` as the password (stored hashed); True when it was set."""
    password = os.environ.get("FLEXML_PASSWORD")
    if not password:
        return False
    stored = ctx.store.get_setting(HASH_SETTING)
    if not check_password(password, stored):
        set_password(ctx, password)
    return True


class Throttle:
    """Slows down password guessing: after ``free`` wrong passwords from one address, each further try
    waits ``base`` seconds, doubling with every miss up to ``cap``; a right password clears the record."""

    def __init__(self, free: int = 5, base: float = 30.0, cap: float = 900.0, clock=time.monotonic):
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._misses: dict[str, tuple[int, float]] = {}  # address → (wrong tries, when the last one was)

    def wait(self, who: str) -> float:
        """Seconds ``who`` must wait before the next try (0: go ahead)."""
        misses, last = self._misses.get(who, (0, 0.0))
        if misses < self.free:
            return 0.0
        delay = min(self.base * 2 ** min(misses - self.free, 32), self.cap)  # (no float overflow, ever)
        return max(0.0, last + delay - self.clock())

    def failed(self, who: str) -> None:
        misses, _ = self._misses.get(who, (0, 0.0))
        if len(self._misses) > 10_000:  # many addresses: forget the oldest records
            for key in sorted(self._misses, key=lambda k: self._misses[k][1])[:5_000]:
                del self._misses[key]
        self._misses[who] = (misses + 1, self.clock())

    def succeeded(self, who: str) -> None:
        self._misses.pop(who, None)


class _Config:
    required = False
    throttle = Throttle()
    ctx: AppContext | None = None


config = _Config()


def _address() -> str:
    """The signing-in browser's address: the connection's peer, or what a trusted proxy says it is
    (``serve --forwarded-allow-ips``); behind an untrusted proxy all tries count together."""
    request = getattr(ui.context.client, "request", None)
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


def login_required() -> bool:
    return config.required


# --- sessions ----------------------------------------------------------------------------


@dataclass
class _Ticket:
    session_id: str  # the NiceGUI session id of the browser that typed the password
    redirect_to: str
    expires: float


_tickets: dict[str, _Ticket] = {}


def _issue_ticket(session_id: str, redirect_to: str) -> str:
    """A one-time ticket for /login/complete, good for TICKET_SECONDS, for this browser only."""
    now = time.monotonic()
    for key in [k for k, t in _tickets.items() if t.expires < now]:
        del _tickets[key]
    ticket = secrets.token_urlsafe(32)
    _tickets[ticket] = _Ticket(session_id, safe_redirect(redirect_to), now + TICKET_SECONDS)
    return ticket


def session_alive(session: Any) -> bool:
    """Whether a browser session (its signed cookie's contents) holds a token of a live sign-in."""
    token = session.get(TOKEN_KEY) if session is not None else None
    return isinstance(token, str) and config.ctx is not None \
        and config.ctx.store.session_alive(token, since=time.time() - SESSION_SECONDS)


def _current_token() -> str | None:
    token = getattr(getattr(ui.context.client, "request", None), "session", {}).get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def signed_in() -> bool:
    """Whether the current page's browser is signed in (always, when no sign-in is required)."""
    if not config.required:
        return True
    request = getattr(ui.context.client, "request", None)
    return session_alive(getattr(request, "session", None))


def sign_out() -> None:
    """End this browser's session in every tab (the token is deleted), then show the sign-in page."""
    token = _current_token()
    if token is not None and config.ctx is not None:
        config.ctx.store.end_session(token)
    ui.navigate.to("/login")


def end_other_sessions(ctx: AppContext) -> None:
    """Sign out every browser but this one (after the password changed)."""
    ctx.store.end_all_sessions(keep=_current_token())


def login_url(path: str) -> str:
    return f"/login?redirect_to={quote(path)}"


async def complete_sign_in(request: Request) -> RedirectResponse:
    """Trade a ticket for a new session: a fresh session id and a fresh token, then go where the visit started."""
    ticket = _tickets.pop(request.query_params.get("ticket", ""), None)
    if ticket is None or ticket.expires < time.monotonic() or request.session.get("id") != ticket.session_id \
            or config.ctx is None:
        return RedirectResponse("/login", status_code=303)
    token = secrets.token_urlsafe(32)
    config.ctx.store.end_all_sessions(before=time.time() - SESSION_SECONDS)  # forget expired ones
    config.ctx.store.add_session(token)
    request.session.clear()  # whatever the old cookie carried (a planted id included) is left behind
    request.session["id"] = str(uuid.uuid4())
    request.session[TOKEN_KEY] = token
    return RedirectResponse(ticket.redirect_to, status_code=303)


class LoginMiddleware(BaseHTTPMiddleware):
    """Send anyone not signed in to /login, except on open paths (the host, NiceGUI's assets)."""

    async def dispatch(self, request: Request, call_next):
        path = request.url.path
        if config.required and not any(path == p or path.startswith(p + "/") for p in OPEN_PATHS) \
                and not session_alive(request.session):
            return RedirectResponse(login_url(path), status_code=303)
        return await call_next(request)


def _add_inside_session(cls) -> None:
    """Add a middleware that runs after NiceGUI's request tracking (which makes ``app.storage.user`` work)."""
    stack = app.user_middleware  # outermost first
    if any(m.cls is cls for m in stack):
        return
    at = next((i for i, m in enumerate(stack) if m.cls is RequestTrackingMiddleware), None)
    if at is None:
        app.add_middleware(cls)  # NiceGUI adds its session middleware later, around this one
    else:
        stack.insert(at + 1, Middleware(cls))


def _guard_page_actions() -> None:
    """Check the session on every page action (a click, a keystroke sent over the page's socket).

    A page action does not pass through HTTP middleware; a tab whose session has ended (signed out in
    another tab) is sent to the sign-in page instead of doing what was asked.
    """
    from nicegui.nicegui import _on_event as handle  # NiceGUI's own handler of page actions

    def guarded(sid: str, msg: dict) -> None:
        client = Client.instances.get(msg.get("client_id", "")) if isinstance(msg, dict) else None
        request = getattr(client, "request", None)
        if config.required and request is not None and not request.url.path.startswith("/login") \
                and not session_alive(request.session):
            with client:
                ui.navigate.to(login_url(request.url.path))
            return
        handle(sid, msg)

    core.sio.on("event", handler=guarded)


def install(ctx: AppContext, required: bool) -> None:
    """Turn sign-in on or off and register the /login page."""
    config.required = required
    config.throttle = Throttle()
    config.ctx = ctx
    if required:
        password_from_env(ctx)
        _add_inside_session(LoginMiddleware)
        _guard_page_actions()
    if not any(getattr(r, "path", None) == "/login/complete" for r in app.routes):
        app.add_api_route("/login/complete", complete_sign_in, methods=["GET"], include_in_schema=False)

    @ui.page("/login")
    def login_page(redirect_to: str = "/", notice: str = "") -> None:
        redirect_to = safe_redirect(redirect_to)
        if signed_in():
            ui.navigate.to(redirect_to)
            return
        from designer.ui.frame import COLORS

        ui.colors(**COLORS)
        ui.page_title("Sign in · FlexML Designer")
        ui.query("body").classes("bg-slate-50")
        first = not has_password(ctx)
        with ui.column().classes("absolute-center items-center gap-4 w-96"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("phone_in_talk", size="32px").classes("text-primary")
                ui.label("FlexML Designer").classes("text-2xl font-semibold")
            with ui.card().classes("w-full p-6 gap-3"):
                if first:
                    ui.label("Set a password").classes("text-lg font-medium")
                    ui.label("This designer is reachable from other machines. Choose the password "
                             f"everyone will sign in with (at least {MIN_LENGTH} characters).") \
                        .classes("text-sm text-slate-500")
                else:
                    ui.label("Sign in").classes("text-lg font-medium")
                    ui.label("Enter the designer's password.").classes("text-sm text-slate-500")
                    if notice == ALREADY_SET:
                        ui.label("A password was already set (by someone else, after this page was opened); "
                                 "sign in with it.").classes("text-sm text-warning").mark("login-notice")
                password = ui.input("Password", password=True, password_toggle_button=True) \
                    .classes("w-full").mark("password")
                confirm = ui.input("Type it again", password=True).classes("w-full").mark("confirm") \
                    if first else None
                error = ui.label("").classes("text-sm text-negative").mark("login-error")

                def submit() -> None:
                    who = _address()
                    try:
                        if first:
                            set_first_password(ctx, password.value or "", confirm.value or "")
                        else:
                            wait = config.throttle.wait(who)
                            if wait > 0:
                                raise ServiceError(f"too many wrong passwords; try again in {math.ceil(wait)} "
                                                   "seconds")
                            if not check_password(password.value or "", ctx.store.get_setting(HASH_SETTING)):
                                config.throttle.failed(who)
                                raise ServiceError("wrong password; try again")
                    except PasswordAlreadySet:
                        ui.navigate.to(f"{login_url(redirect_to)}&notice={ALREADY_SET}")
                        return
                    except ServiceError as exc:
                        error.text = sentence(str(exc))
                        return
                    config.throttle.succeeded(who)
                    session_id = str(getattr(ui.context.client.request, "session", {}).get("id", ""))
                    ui.navigate.to(f"/login/complete?ticket={_issue_ticket(session_id, redirect_to)}")

                password.on("keydown.enter", submit)
                if confirm is not None:
                    confirm.on("keydown.enter", submit)
                ui.button("Set password and sign in" if first else "Sign in", on_click=submit) \
                    .classes("w-full").props("unelevated no-caps color=primary").mark("sign-in")
