"""Passwords, logins and browser sessions (SPEC §9 users)."""
import hashlib
import secrets
from datetime import datetime, timedelta

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from lib import clock
from lib.config import session_hours
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User
from lib.errors import AuthFailed, InvalidInput
from lib.services import audit, login_throttle

# Argon2id with the library's recommended (slow, ~0.14 s here) parameters. The test suite alone sets
# VOIDDESK_FAST_PASSWORD_HASHING_FOR_TESTS=1 (tests/conftest.py): the same Argon2id code path with argon2-cffi's
# CHEAPEST parameters, so a thousand sign-ins do not cost minutes. Never set it anywhere else.
FAST_HASHING_ENV = "VOIDDESK_FAST_PASSWORD_HASHING_FOR_TESTS"
_hasher = (PasswordHasher.from_parameters(profiles.CHEAPEST) if os.environ.get(FAST_HASHING_ENV) == "1"
           else PasswordHasher())
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 8

_USER_COLUMNS = "id, username, display_name, role, language, must_change_password"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput("auth.password_too_short", n=MIN_PASSWORD_LENGTH)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def user_from_row(row: dict) -> User:
    return User(**{k: row[k] for k in ("id", "username", "display_name", "role", "language",
                                       "must_change_password")})


def login(db: Database, username: str, password: str, address: str | None = None) -> tuple[User, str]:
    """Check the password and open a session; return the user and the browser token. `address` is the client's
    (None from the command line): guessing is slowed down per account and address (lib.services.login_throttle)."""
    username = (username or "").strip().lower()
    address = login_throttle.address_key(address)
    now = clock.now()
    login_throttle.reserve(db, username, address, now)   # counted before the slow check, or TooManyAttempts
    with db.read() as cur:
        rows = rows_as_dicts(cur, f"SELECT {_USER_COLUMNS}, password_hash, active FROM users"
                                  " WHERE username = ?", [username])
    row = rows[0] if rows else None
    if not _verify(row["password_hash"] if row else _DUMMY_HASH, password or ""):
        raise AuthFailed()
    if not row["active"]:
        raise AuthFailed("auth.deactivated")
    user = user_from_row(row)
    token = open_session(db, user, "password")
    login_throttle.signed_in(db, username, address, now)
    return user, token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Database, user: User, method: str = "password", **detail) -> str:
    """A new session for `user`, whatever proved who they are: the audit entry says how ("password", or "oidc"
    with the provider and e-mail), the session itself is the same, so sign-out, expiry and revocation are too."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with db.transaction() as cur:
        cur.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)",
                    [_token_hash(token), user.id, now, now + timedelta(hours=session_hours())])
        audit.record(cur, user, "auth.login", "user", user.id, after={"method": method, **detail})
    return token


def resume(db: Database, token: str | None) -> User | None:
    """The user of a live session token, or None when it is unknown, expired, revoked or deactivated."""
    if not token:
        return None
    with db.read() as cur:
        rows = rows_as_dicts(
            cur,
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} FROM sessions s"
            " JOIN users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.active",
            [_token_hash(token), clock.now()])
    return user_from_row(rows[0]) if rows else None


def logout(db: Database, token: str | None) -> None:
    if not token:
        return
    with db.transaction() as cur:
        rows = rows_as_dicts(cur, f"SELECT {_USER_COLUMNS} FROM users WHERE id ="
                                  " (SELECT user_id FROM sessions WHERE token_hash = ? AND revoked_at IS NULL)",
                             [_token_hash(token)])
        if not rows:
            return
        cur.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                    [clock.now(), _token_hash(token)])
        user = user_from_row(rows[0])
        audit.record(cur, user, "auth.logout", "user", user.id)


def end_sessions(cur, user_id: int, now: datetime, keep: str | None = None) -> None:
    """Revoke the user's open sessions but the one of token `keep`: the next page they load asks them to sign in
    again."""
    cur.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND token_hash <> ?",
                [now, user_id, _token_hash(keep) if keep else ""])


def change_password(db: Database, user: User, old: str, new: str, keep: str | None = None) -> None:
    """Change one's own password after checking the old one. The user's other sessions end, as at an admin's reset
    (anyone who signed in with the old password is out); the one of token `keep`, making the change, stays."""
    check_password_rules(new)
    with db.transaction() as cur:
        current = scalar(cur, "SELECT password_hash FROM users WHERE id = ?", [user.id])
        if current is None or not _verify(current, old or ""):
            raise AuthFailed("auth.wrong_old_password")
        cur.execute("UPDATE users SET password_hash = ?, must_change_password = FALSE WHERE id = ?",
                    [hash_password(new), user.id])
        end_sessions(cur, user.id, clock.now(), keep=keep)
        audit.record(cur, user, "user.change_password", "user", user.id)


def set_language(db: Database, user: User, lang: str) -> None:
    """Remember the user's language for the next login."""
    with db.transaction() as cur:
        before = scalar(cur, "SELECT language FROM users WHERE id = ?", [user.id])
        if before == lang:
            return
        cur.execute("UPDATE users SET language = ? WHERE id = ?", [lang, user.id])
        audit.record(cur, user, "user.set_language", "user", user.id,
                     before={"language": before}, after={"language": lang})
