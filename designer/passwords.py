"""The designer's sign-in password: kept as an scrypt hash in the store's settings, never in clear.

The password comes from ``$FLEXML_PASSWORD`` or is set on the first visit
("Set a password", only while none is set). Pages (designer/ui/auth.py, the settings page) call
these functions; they raise ``ServiceError`` for a password that will not do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from designer.context import AppContext
from designer.services import ServiceError

HASH_SETTING = "password_hash"
MIN_LENGTH = 8
_N, _R, _P = 2**14, 8, 1


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


def is_password(ctx: AppContext, password: str) -> bool:
    """True when ``password`` is the designer's password."""
    return check_password(password, ctx.store.get_setting(HASH_SETTING))


class PasswordAlreadySet(ServiceError):
    """The first password was set by someone else since this page was opened."""


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
    """Set the password only while none is set, atomically; PasswordAlreadySet otherwise."""
    if not ctx.store.add_setting(HASH_SETTING, _checked(password, confirm)):
        raise PasswordAlreadySet("a password was already set; sign in with it")


def change_password(ctx: AppContext, current: str, new: str, confirm: str) -> None:
    if has_password(ctx) and not is_password(ctx, current):
        raise ServiceError("the current password is not right")
    set_password(ctx, new, confirm)


def password_from_env(ctx: AppContext) -> bool:
    """Take ``$FLEXML_PASSWORD`` as the password (stored hashed); True when it was set."""
    password = os.environ.get("FLEXML_PASSWORD")
    if not password:
        return False
    if not is_password(ctx, password):
        set_password(ctx, password)
    return True
