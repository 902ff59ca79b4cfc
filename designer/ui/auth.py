"""Sign-in for the designer's pages when it listens beyond this machine.

The password comes from ``$FLEXML_PASSWORD`` or is set on the first visit
("Set a password"); its rules and its hash live in ``designer.passwords``.
The host's ``/flexml`` routes never need a login: the carrier calls them.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from nicegui import app, ui
from nicegui.storage import RequestTrackingMiddleware
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse

from designer.context import AppContext
from designer.ui.frame import COLORS, sentence
from designer.ui.signin_state import Throttle, config, login_required, signed_in
from designer.passwords import (HASH_SETTING, MIN_LENGTH, change_password, check_password, has_password,
                                hash_password, is_password, password_from_env, set_password)
from designer.services import ServiceError

__all__ = ["HASH_SETTING", "MIN_LENGTH", "Throttle", "change_password", "check_password", "config", "has_password",
           "hash_password", "install", "login_required", "password_from_env", "set_password", "signed_in"]

OPEN_PATHS = ("/login", "/_nicegui", "/_nicegui_ws", "/flexml", "/favicon.ico")


def _address() -> str:
    """The signing-in browser's address (behind a proxy, the proxy's: then all tries count together)."""
    request = getattr(ui.context.client, "request", None)
    client = getattr(request, "client", None)
    return getattr(client, "host", None) or "unknown"


class LoginMiddleware(BaseHTTPMiddleware):
    """Send anyone not signed in to /login, except on open paths (the host, NiceGUI's assets)."""

    async def dispatch(self, request: Request, call_next):
        path = request.url.path
        if config.required and not any(path == p or path.startswith(p + "/") for p in OPEN_PATHS) \
                and not app.storage.user.get("authenticated"):
            return RedirectResponse(f"/login?redirect_to={quote(path)}", status_code=303)
        return await call_next(request)


def _add_inside_session(cls) -> None:
    """Add a middleware that runs after NiceGUI's request tracking (which makes ``app.storage.user`` work)."""
    stack = app.user_middleware  # outermost first
    at = next((i for i, m in enumerate(stack) if m.cls is RequestTrackingMiddleware), None)
    if at is None:
        app.add_middleware(cls)  # NiceGUI adds its session middleware later, around this one
    else:
        stack.insert(at + 1, Middleware(cls))


def install(ctx: AppContext, required: bool) -> None:
    """Turn sign-in on or off and register the /login page."""
    config.required = required
    config.throttle = Throttle()
    if required:
        password_from_env(ctx)
        _add_inside_session(LoginMiddleware)

    @ui.page("/login")
    def login_page(redirect_to: str = "/") -> None:
        if not redirect_to.startswith("/") or redirect_to.startswith("//"):
            redirect_to = "/"
        if not config.required or app.storage.user.get("authenticated"):
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
                password = ui.input("Password", password=True, password_toggle_button=True) \
                    .classes("w-full").mark("password")
                confirm = ui.input("Type it again", password=True).classes("w-full").mark("confirm") \
                    if first else None
                error = ui.label("").classes("text-sm text-negative").mark("login-error")

                def submit() -> None:
                    who = _address()
                    try:
                        if first:
                            set_password(ctx, password.value or "", confirm.value or "")
                        else:
                            wait = config.throttle.wait(who)
                            if wait > 0:
                                raise ServiceError(f"too many wrong passwords; try again in {math.ceil(wait)} "
                                                   "seconds")
                            if not is_password(ctx, password.value or ""):
                                config.throttle.failed(who)
                                raise ServiceError("wrong password; try again")
                    except ServiceError as exc:
                        error.text = sentence(str(exc))
                        return
                    config.throttle.succeeded(who)
                    app.storage.user["authenticated"] = True
                    ui.navigate.to(redirect_to)

                password.on("keydown.enter", submit)
                if confirm is not None:
                    confirm.on("keydown.enter", submit)
                ui.button("Set password and sign in" if first else "Sign in", on_click=submit) \
                    .classes("w-full").props("unelevated no-caps color=primary").mark("sign-in")
