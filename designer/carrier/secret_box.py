"""Secrets kept in the store encrypted, with the key in a file beside the database.

The carrier password must be sent to the carrier, so it cannot be hashed like
the sign-in password. It is stored as ``fernet:<token>`` (Fernet: AES-128-CBC
with an HMAC) under a key kept in ``<database>.key``, created with mode 0600 on
first use. A copy of the database alone (a backup, a file attached to a bug
report) does not reveal it. An in-memory database keeps its key in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"


class SecretBox:
    """``seal(text) -> str`` for the store; ``open(stored) -> str | None`` (None: it cannot be read)."""

    def __init__(self, key_path: str | Path | None):
        self.key_path = None if key_path is None else Path(key_path)
        self._fernet: Fernet | None = None

    @classmethod
    def beside(cls, db_path: str) -> "SecretBox":
        """The box whose key file sits next to the SQLite database ``db_path``."""
        return cls(None if db_path == ":memory:" else Path(str(db_path) + ".key"))

    def _key(self, create: bool) -> Fernet | None:
        if self._fernet is not None:
            return self._fernet
        if self.key_path is None:
            self._fernet = Fernet(Fernet.generate_key())
            return self._fernet
        try:
            key = self.key_path.read_bytes().strip()
        except FileNotFoundError:
            if not create:
                return None
            key = Fernet.generate_key()
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return self._key(create=False)
            with os.fdopen(fd, "wb") as out:
                out.write(key + b"\n")
        try:
            self._fernet = Fernet(key)
        except ValueError:
            return None  # not a key: what is sealed with it cannot be read
        return self._fernet

    def seal(self, text: str) -> str:
        box = self._key(create=True)
        if box is None:
            raise ValueError(f"{self.key_path} is not a key file; move it away to start a new one")
        return PREFIX + box.encrypt(text.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The secret, or None when there is none or it cannot be read (key file missing or changed).

        A value without the prefix was stored before secrets were sealed, and is returned as it is.
        """
        if not stored:
            return None
        if not stored.startswith(PREFIX):
            return stored
        box = self._key(create=False)
        if box is None:
            return None
        try:
            return box.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            return None
