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

import math
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from nicegui import Client, app, core, events, ui
from nicegui import __version__ as nicegui_version
from nicegui.storage import RequestTrackingMiddleware
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from designer import sessions
from designer.context import AppContext
from designer.passwords import (HASH_SETTING, MIN_LENGTH, PasswordAlreadySet, change_password, check_password,
                                has_password, hash_password, is_password, password_from_env, set_first_password,
                                set_password)
from designer.services import ServiceError
from designer.ui.frame import COLORS, sentence
from designer.ui.signin_state import (TOKEN_KEY, Throttle, config, current_token, login_required, session_alive,
                                      sign_out, signed_in)

__all__ = ["HASH_SETTING", "MIN_LENGTH", "PasswordAlreadySet", "Throttle", "change_password", "check_password",
           "config", "end_other_sessions", "has_password", "hash_password", "install", "login_required",
           "password_from_env", "safe_redirect", "set_first_password", "set_password", "sign_out", "signed_in"]

# NiceGUI's assets and socket are open (the sign-in page needs them); its per-client routes (uploads,
# downloads under /_nicegui/client, /_nicegui/auto) are not
OPEN_PATHS = ("/login", f"/_nicegui/{nicegui_version}", "/_nicegui_ws", "/flexml", "/favicon.ico")
TICKET_SECONDS = 60.0
ALREADY_SET = "already-set"

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


def _address() -> str:
    """The signing-in browser's address: the connection's peer, or what a trusted proxy says it is
    (``serve --forwarded-allow-ips``); behind an untrusted proxy all tries count together."""
    request = getattr(ui.context.client, "request", None)
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


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


def end_other_sessions(ctx: AppContext) -> None:
    """Sign out every browser but this one (after the password changed)."""
    sessions.end_others(ctx, keep=current_token())


def login_url(path: str) -> str:
    return f"/login?redirect_to={quote(path)}"


async def complete_sign_in(request: Request) -> RedirectResponse:
    """Trade a ticket for a new session: a fresh session id and a fresh token, then go where the visit started."""
    ticket = _tickets.pop(request.query_params.get("ticket", ""), None)
    if ticket is None or ticket.expires < time.monotonic() or request.session.get("id") != ticket.session_id \
            or config.ctx is None:
        return RedirectResponse("/login", status_code=303)
    token = sessions.start(config.ctx)
    request.session.clear()  # whatever the old cookie carried (a planted id included) is left behind
    request.session["id"] = str(uuid.uuid4())
    request.session[TOKEN_KEY] = token
    return RedirectResponse(ticket.redirect_to, status_code=303)


class LoginMiddleware:
    """Send anyone not signed in to /login, except on open paths (the host, NiceGUI's assets).

    Plain ASGI (see headers.SecurityHeaders); the session is the one NiceGUI's session middleware,
    around this one, put in the request's scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and config.required:
            path = scope.get("path", "")
            if not any(path == p or path.startswith(p + "/") for p in OPEN_PATHS) \
                    and not session_alive(scope.get("session")):
                await RedirectResponse(login_url(path), status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


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

                def submit(e: events.GenericEventArguments) -> None:
                    # what was typed comes with the click (or Enter): before the page is connected, a quick
                    # click could reach the server before the fields' own updates, and a right password
                    # was then judged wrong (and counted as a wrong try)
                    typed = e.args if isinstance(e.args, dict) else {}
                    given = typed.get("password") if isinstance(typed.get("password"), str) else password.value
                    again = typed.get("confirm") if isinstance(typed.get("confirm"), str) else \
                        (confirm.value if confirm is not None else "")
                    who = _address()
                    try:
                        if first:
                            set_first_password(ctx, given or "", again or "")
                        else:
                            wait = config.throttle.wait(who)
                            if wait > 0:
                                raise ServiceError(f"too many wrong passwords; try again in {math.ceil(wait)} "
                                                   "seconds")
                            if not is_password(ctx, given or ""):
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

                # the field's element is its native input (Quasar gives it the id) or holds it
                value_of = "((el) => (el?.matches('input') ? el : el?.querySelector('input'))?.value ?? null)" \
                    "(getHtmlElement({}))"
                send_typed = "() => emit({password: %s, confirm: %s})" % (
                    value_of.format(password.id), value_of.format(confirm.id) if confirm is not None else "null")
                password.on("keydown.enter", submit, js_handler=send_typed)
                if confirm is not None:
                    confirm.on("keydown.enter", submit, js_handler=send_typed)
                ui.button("Set password and sign in" if first else "Sign in") \
                    .on("click", submit, js_handler=send_typed) \
                    .classes("w-full").props("unelevated no-caps color=primary").mark("sign-in")
