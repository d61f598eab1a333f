"""An encrypted file of exchange API keys, unlocked by a passphrase.

The file is JSON. Its header holds the scrypt parameters and a random salt (new for every file); the
key scrypt derives from the passphrase encrypts each entry's API key, secret and password with
AES-256-GCM under a fresh 96-bit nonce. GCM authenticates as well as encrypts: the entry's name and
exchange are bound in as associated data, so swapping, renaming or editing an entry fails the
integrity check instead of handing out someone else's keys. A small known value sealed with the
same key (`check`) tells a wrong passphrase apart from a damaged entry.

Names and exchange ids stay readable (listing entries needs no passphrase-derived secrets shown);
everything else is ciphertext. Writes go to a temporary file that replaces the old one, so a crash
leaves either the old or the new keystore, never half of one, and the file is created with mode
0600. A file other users can read is refused rather than used.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botcore.errors import BotcoreError

__all__ = [
    "PASSPHRASE_ENV",
    "ExchangeKeys",
    "Keystore",
    "KeystoreError",
    "resolve_passphrase",
]

PASSPHRASE_ENV = "TRADECHAT_KEYSTORE_PASSPHRASE"  # noqa: S105 (a variable name, not a password)

_FORMAT = "tradechat-keystore"
_VERSION = 1
# scrypt cost: 2**17 x 8 x 128 bytes = 128 MiB and about 0.2 s per unlock, the OWASP
# recommendation; stored per file so it can grow later without breaking old files.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**17, 8, 1
# What an opened file may ask for: a tampered header must not make us allocate gigabytes.
_MAX_SCRYPT_N, _MIN_SCRYPT_N = 2**20, 2**14
_SALT_BYTES = 16
_NONCE_BYTES = 12
_CHECK_VALUE = b"tradechat keystore: passphrase check"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeystoreError(BotcoreError):
    """The keystore is missing, locked with another passphrase, altered, or lacks an entry."""


@dataclass(frozen=True)
class ExchangeKeys:
    """One exchange account's credentials, decrypted; its repr never shows them.

    Attributes:
        name: The keystore entry's name.
        exchange: ccxt exchange id the keys belong to.
        api_key: The API key (ccxt `apiKey`).
        secret: The API secret (ccxt `secret`).
        password: The API passphrase some exchanges add (ccxt `password`), if any.
    """

    name: str
    exchange: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        extra = ", password=<hidden>" if self.password else ""
        return (
            f"ExchangeKeys(name={self.name!r}, exchange={self.exchange!r}, "
            f"api_key=<hidden>, secret=<hidden>{extra})"
        )

    __str__ = __repr__


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str, path: Path) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise KeystoreError(f"keystore {path} is damaged: {what} is not base64") from None


def _entry_aad(name: str, exchange: str) -> bytes:
    return json.dumps({"format": _FORMAT, "name": name, "exchange": exchange}).encode()


def _check_aad(kdf: Mapping[str, Any]) -> bytes:
    return json.dumps({"format": _FORMAT, "kdf": dict(kdf)}, sort_keys=True).encode()


def _derive_key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _check_permissions(path: Path) -> None:
    """Refuse a keystore that other users may read or write (POSIX only)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeystoreError(
            f"keystore {path} is accessible to other users (mode {mode:04o}); "
            f"restrict it with `chmod 600 {path}` and try again"
        )


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a 0600 temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o600)  # mkstemp already uses 0600; said again so it never depends on that
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name == "posix":
        # The rename itself must reach the disk, or a power cut can bring the old file back.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def resolve_passphrase(prompt: Callable[[], str], environ: Mapping[str, str] | None = None) -> str:
    """The keystore passphrase from `$TRADECHAT_KEYSTORE_PASSPHRASE`, else from `prompt()`.

    Args:
        prompt: Asks the user (hidden input); only called when the variable is unset or empty.
        environ: The environment to read; `os.environ` by default.
    """
    env = os.environ if environ is None else environ
    return env.get(PASSPHRASE_ENV) or prompt()


class Keystore:
    """An opened keystore file: entries are decrypted on `get`, changes are saved at once.

    Build one with `Keystore.create` or `Keystore.open`; the constructor is internal.
    """

    def __init__(
        self,
        path: Path,
        key: bytes,
        kdf: dict[str, Any],
        check: dict[str, str],
        entries: dict[str, dict[str, str]],
    ) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._path = path
        self._aead = AESGCM(key)
        self._kdf = kdf
        self._check = check
        self._entries = entries

    @property
    def path(self) -> Path:
        """The keystore file."""
        return self._path

    @classmethod
    def create(cls, path: Path, passphrase: str) -> Keystore:
        """Create an empty keystore file at `path` (mode 0600), locked with `passphrase`.

        Raises:
            KeystoreError: the file already exists, or the passphrase is empty.
        """
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not passphrase:
            raise KeystoreError("a keystore needs a non-empty passphrase")
        if path.exists():
            raise KeystoreError(f"a keystore already exists at {path}; open it instead")
        salt = os.urandom(_SALT_BYTES)
        kdf = {"name": "scrypt", "salt": _b64(salt), "n": _SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P}
        key = _derive_key(passphrase, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, _CHECK_VALUE, _check_aad(kdf))
        store = cls(path, key, kdf, {"nonce": _b64(nonce), "ciphertext": _b64(sealed)}, {})
        store._save()
        return store

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Keystore:
        """Open the keystore at `path` with `passphrase`.

        Raises:
            KeystoreError: no such file, other users can access it, it is not a keystore or is
                damaged, or the passphrase is wrong (or the header was altered).
        """
        from cryptography.exceptions import InvalidTag

        if not path.is_file():
            raise KeystoreError(f"no keystore at {path}")
        _check_permissions(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != _FORMAT:
                raise ValueError("not a tradechat keystore")
            if raw.get("version") != _VERSION:
                raise ValueError(f"unsupported version {raw.get('version')!r}")
            kdf, check, entries = dict(raw["kdf"]), dict(raw["check"]), dict(raw["entries"])
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeystoreError(f"{path} is not a readable tradechat keystore ({exc})") from None
        if kdf.get("name") != "scrypt" or not _MIN_SCRYPT_N <= n <= _MAX_SCRYPT_N:
            raise KeystoreError(f"keystore {path} asks for unsupported key derivation settings")
        if n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise KeystoreError(f"keystore {path} asks for unsupported key derivation settings")
        key = _derive_key(passphrase, _unb64(kdf.get("salt"), "the salt", path), n, r, p)
        store = cls(path, key, kdf, check, entries)
        try:
            value = store._aead.decrypt(
                _unb64(check.get("nonce"), "the check nonce", path),
                _unb64(check.get("ciphertext"), "the check value", path),
                _check_aad(kdf),
            )
        except InvalidTag:
            value = b""
        if value != _CHECK_VALUE:
            raise KeystoreError(f"wrong passphrase for keystore {path} (or its header was altered)")
        return store

    def names(self) -> list[str]:
        """Entry names, sorted."""
        return sorted(self._entries)

    def exchange_of(self, name: str) -> str:
        """The exchange id an entry belongs to (readable without decrypting anything)."""
        return str(self._entry(name)["exchange"])

    def add(
        self, name: str, exchange: str, api_key: str, secret: str, password: str | None = None
    ) -> None:
        """Encrypt and save a new entry.

        Raises:
            KeystoreError: the name is taken or malformed, or a field is empty.
        """
        if not _NAME.match(name):
            raise KeystoreError(
                f"'{name}' cannot name a key: use up to 64 letters, digits, '.', '_' or '-'"
            )
        if name in self._entries:
            raise KeystoreError(f"the keystore already has an entry '{name}'; remove it first")
        if not exchange.strip():
            raise KeystoreError("an entry needs the exchange id its keys belong to")
        if not api_key or not secret:
            raise KeystoreError("an entry needs both an API key and a secret")
        plain = json.dumps({"api_key": api_key, "secret": secret, "password": password or None})
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), _entry_aad(name, exchange))
        self._entries[name] = {
            "exchange": exchange,
            "nonce": _b64(nonce),
            "ciphertext": _b64(sealed),
        }
        try:
            self._save()
        except BaseException:
            del self._entries[name]
            raise

    def get(self, name: str) -> ExchangeKeys:
        """Decrypt one entry.

        Raises:
            KeystoreError: no such entry (close names are suggested), or it fails its integrity
                check (the file was altered).
        """
        from cryptography.exceptions import InvalidTag

        entry = self._entry(name)
        exchange = str(entry.get("exchange", ""))
        try:
            plain = self._aead.decrypt(
                _unb64(entry.get("nonce"), f"the nonce of '{name}'", self._path),
                _unb64(entry.get("ciphertext"), f"the ciphertext of '{name}'", self._path),
                _entry_aad(name, exchange),
            )
            fields = json.loads(plain)
        except (InvalidTag, ValueError):
            raise KeystoreError(
                f"entry '{name}' in keystore {self._path} failed its integrity check: the file "
                "was altered or damaged; remove the entry and add the keys again"
            ) from None
        return ExchangeKeys(
            name=name,
            exchange=exchange,
            api_key=fields["api_key"],
            secret=fields["secret"],
            password=fields.get("password"),
        )

    def remove(self, name: str) -> None:
        """Delete an entry and save.

        Raises:
            KeystoreError: no such entry.
        """
        entry = self._entry(name)
        del self._entries[name]
        try:
            self._save()
        except BaseException:
            self._entries[name] = entry
            raise

    def _entry(self, name: str) -> dict[str, str]:
        entry = self._entries.get(name)
        if entry is None:
            close = difflib.get_close_matches(name, list(self._entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = f" (it has: {', '.join(self.names())})" if self._entries and not close else ""
            raise KeystoreError(f"the keystore has no entry '{name}'{hint}{known}")
        return entry

    def _save(self) -> None:
        body = {
            "format": _FORMAT,
            "version": _VERSION,
            "kdf": self._kdf,
            "check": self._check,
            "entries": self._entries,
        }
        _write_atomic(self._path, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode())
