"""Users, roles and passwords for the review service.

Users live in a YAML file the operator manages (``civicwatch review add-user``): a name, a role and a
scrypt hash, never a password. scrypt is in the standard library, memory-hard, and its parameters
travel in the hash string, so they can be raised later without invalidating existing users. The
file is re-read when it changes, so adding a user needs no restart.

Roles and what they may do (least privilege; private information per clause 5.7.9):

==========  ===========================================================
moderator   queue, decisions, unredacted text, dashboard
analyst     queue read-only and redacted, dashboard, CSV export
admin       everything, plus the audit trail
==========  ===========================================================
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from review import UsersFileError

Role = Literal["moderator", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("moderator", "analyst", "admin")
Permission = Literal["queue.view", "queue.decide", "dashboard.view", "aggregates.export", "audit.view"]
PERMISSIONS: dict[str, frozenset[Permission]] = {
    "moderator": frozenset({"queue.view", "queue.decide", "dashboard.view"}),
    "analyst": frozenset({"queue.view", "dashboard.view", "aggregates.export"}),
    "admin": frozenset({"queue.view", "queue.decide", "dashboard.view", "aggregates.export", "audit.view"}),
}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
"""OWASP's recommended scrypt cost (Password Storage Cheat Sheet): 128 MiB and ~0.3 s per check,
costly for an offline guesser, bearable for a log-in. The service runs at most two checks at once
(``ReviewService.password_checks``), so sign-ins cannot exhaust its memory."""
MIN_PASSWORD = 12


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), salted per user."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def needs_rehash(encoded: str) -> bool:
    """A hash made at a lower cost than today's (it is upgraded at the user's next sign-in)."""
    try:
        _, n, r, p, _, _ = encoded.split("$")
        return (int(n), int(r), int(p)) < (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    except ValueError:
        return True


@functools.cache
def dummy_hash() -> str:
    """What an unknown name is checked against: the same cost as a real hash, or the time a
    sign-in takes would tell which names exist."""
    return hash_password(secrets.token_hex(8))


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    @property
    def credential(self) -> str:
        """A fingerprint of the password hash, kept with each session: a new password (or the
        upgrade of its hash) ends the sessions opened with the old one."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:32]


def parse_users(text: str, source: str) -> dict[str, User]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsersFileError(f"{source}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise UsersFileError(f"{source}: expected a 'users:' mapping of name -> {{role, password_hash}}")
    users: dict[str, User] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not USERNAME.match(name):
            raise UsersFileError(f"{source}: user {name!r}: names are lower case letters, digits, '.', '_', '-'")
        if not isinstance(entry, dict) or entry.get("role") not in ROLES:
            raise UsersFileError(f"{source}: user {name!r}: role must be one of {', '.join(ROLES)}")
        if "password" in entry:
            raise UsersFileError(
                f"{source}: user {name!r}: plaintext 'password' is refused; set it with civicwatch review add-user"
            )
        hashed = entry.get("password_hash")
        if not isinstance(hashed, str) or not hashed.startswith("scrypt$") or hashed.count("$") != 5:
            raise UsersFileError(f"{source}: user {name!r}: password_hash must be a scrypt hash from add-user")
        users[name] = User(name, entry["role"], hashed)
    return users


class UserDirectory:
    """The users file, re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._users: dict[str, User] = {}
        self._version: tuple[int, int, int] | None = None
        self.reload()

    def reload(self) -> None:
        try:
            stat = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsersFileError(
                f"{self.path}: cannot read the users file ({exc.strerror}); create users with "
                "civicwatch review add-user NAME --role moderator|analyst|admin"
            ) from None
        self._users = parse_users(text, str(self.path))
        self._version = self._stamp(stat)

    @staticmethod
    def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
        # add-user replaces the file, so the inode changes even within one clock tick.
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def get(self, name: str) -> User | None:
        try:
            if self._stamp(self.path.stat()) != self._version:
                self.reload()
        except (OSError, UsersFileError):
            pass  # keep the last good list; the operator sees the error at the next start
        return self._users.get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, or ``None``; unknown names cost the same as wrong passwords (no user probing)."""
        user = self.get(name)
        if user is None:
            verify_password(password, dummy_hash())
            return None
        if not verify_password(password, user.password_hash):
            return None
        if needs_rehash(user.password_hash):
            user = self._upgrade(user, password)
        return user

    def _upgrade(self, user: User, password: str) -> User:
        """Re-hash a right password made at an older cost, so that every user costs what an
        unknown name costs; the file is left alone if it changed meanwhile."""
        upgraded = User(user.name, user.role, hash_password(password))
        try:
            current = UserDirectory(self.path)._users
            if current.get(user.name) != user:
                return user
            _write_users(self.path, {**current, user.name: upgraded})
            self.reload()
        except (OSError, UsersFileError):
            return user
        return self._users.get(user.name, user)


def add_user(path: Path, name: str, role: str, password: str) -> None:
    """Create or update one user in the file (mode 0600), keeping the others."""
    if not USERNAME.match(name):
        raise UsersFileError(f"user {name!r}: names are lower case letters, digits, '.', '_', '-'")
    if role not in ROLES:
        raise UsersFileError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UsersFileError(f"passwords need at least {MIN_PASSWORD} characters")
    existing = UserDirectory(path)._users if path.exists() else {}
    _write_users(path, {**existing, name: User(name, role, hash_password(password))})


def _write_users(path: Path, users: dict[str, User]) -> None:
    """Replace the users file at once (mode 0600): a reader sees the old file or the new one."""
    entries = {u.name: {"role": u.role, "password_hash": u.password_hash} for u in users.values()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# civicwatch review users: scrypt hashes only; manage with `civicwatch review add-user`\n")
        yaml.safe_dump({"users": entries}, f, sort_keys=True)
    os.replace(tmp, path)


class LoginThrottle:
    """Failed sign-ins, counted per name and address, and per address, in bounded memory.

    - An attempt counts as a failure from the moment it starts (``attempt``) and is forgiven when
      the password turns out right (``succeeded``): twenty guesses sent at once cannot all pass the
      lock while the first are still being hashed.
    - The lock is on a name *from one address*: a stranger cannot lock a moderator out from
      elsewhere. An address failing across many names (password spraying) is locked on its own.
    - At most ``max_keys`` entries: expired ones are dropped first, then the least recently used,
      so trying endless names costs no memory.
    """

    def __init__(self, limit: int = 5, window: float = 900.0, address_limit: int = 20, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.address_limit = address_limit
        self.max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        times = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def _prune(self, now: float) -> None:
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if now - max(times) < self.window and len(self._failures) + 2 <= self.max_keys:
                return
            del self._failures[key]

    def locked(self, name: str, address: str, now: float | None = None) -> bool:
        now = now if now is not None else time.monotonic()
        return (
            len(self._recent((name, address), now)) >= self.limit
            or len(self._recent(("", address), now)) >= self.address_limit
        )

    def attempt(self, name: str, address: str, now: float | None = None) -> float | None:
        """Count an attempt before its password is checked; ``None`` if the name or address is locked,
        else a stamp to hand to ``succeeded``."""
        now = now if now is not None else time.monotonic()
        if self.locked(name, address, now):
            return None
        self._prune(now)
        for key in ((name, address), ("", address)):
            self._failures.setdefault(key, []).append(now)
            self._failures.move_to_end(key)
        return now

    def succeeded(self, name: str, address: str, stamp: float) -> None:
        """The password was right: forget this name's failures from the address and this attempt."""
        self._failures.pop((name, address), None)
        times = self._failures.get(("", address))
        if times and stamp in times:
            times.remove(stamp)
