"""Sign-in sessions: a random token per signed-in browser, known to the store only by its hash.

``start`` makes one (at sign-in), ``alive`` checks one (every page request and
page action), ``end`` ends one (sign-out, in every tab of that browser) and
``end_others`` all but one (after the password changed).
"""

from __future__ import annotations

import secrets
import time

from designer.context import AppContext

SESSION_SECONDS = 14 * 24 * 3600.0  # as long as the session cookie lives (Starlette's default)


def start(ctx: AppContext) -> str:
    """A new session's token; expired sessions are forgotten on the way."""
    token = secrets.token_urlsafe(32)
    ctx.store.end_all_sessions(before=time.time() - SESSION_SECONDS)
    ctx.store.add_session(token)
    return token


def alive(ctx: AppContext, token: object) -> bool:
    return isinstance(token, str) and ctx.store.session_alive(token, since=time.time() - SESSION_SECONDS)


def end(ctx: AppContext, token: str) -> None:
    ctx.store.end_session(token)


def end_others(ctx: AppContext, keep: str | None) -> None:
    ctx.store.end_all_sessions(keep=keep)
