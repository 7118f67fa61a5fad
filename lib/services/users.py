"""User accounts: create, list, set role or e-mail, reset password, deactivate and re-activate (SPEC §9).

Only admins manage users. Passwords are stored only as Argon2 hashes; a generated password is returned once and
must be changed at the next sign-in. An admin can neither lock themselves out nor remove the last active admin.
"""
import re
import secrets

from lib import clock
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import ROLES, User, require
from lib.errors import InvalidInput, NotFound, RuleViolation
from lib.services import audit
from lib.services.auth import check_password_rules, end_sessions, hash_password

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_DISPLAY_NAME = 80
MAX_EMAIL = 254
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_admin(db: Database) -> bool:
    with db.read() as cur:
        return bool(scalar(cur, "SELECT count(*) FROM users WHERE role = 'admin' AND active"))


def list_users(db: Database, actor: User | None) -> list[dict]:
    """Every account with its last sign-in (None when never recorded), by username."""
    require(actor, "users.manage")
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT u.id, u.username, u.display_name, u.role, u.email, u.language, u.active,"
                                  " u.must_change_password, s.last_login, u.created_at FROM users u"
                                  " LEFT JOIN (SELECT user_id, max(created_at) AS last_login FROM sessions"
                                  " GROUP BY user_id) s ON s.user_id = u.id ORDER BY u.username")


def generate_password() -> str:
    """A random temporary password (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("users.unknown_role", role=role, roles=", ".join(ROLES))


def add_user(db: Database, actor: User | None, username: str, role: str, password: str | None = None, *,
             display_name: str | None = None, email: str | None = None,
             must_change_password: bool = False) -> dict:
    """Create an account. With no active admin yet, anyone may create the first admin (bootstrap).

    Without a password one is generated, returned once as "password", and must be changed at first sign-in.
    """
    username = (username or "").strip().lower()
    bootstrap = actor is None and role == "admin" and not has_admin(db)
    if not bootstrap:
        require(actor, "users.manage")
    if not USERNAME_RE.match(username):
        raise InvalidInput("users.bad_username")
    _check_role(role)
    display_name, email = _clean_display_name(display_name, username), _clean_email(email)
    generated = generate_password() if password is None else None
    check_password_rules(generated or password)
    password_hash = hash_password(generated or password)
    must_change_password = bool(must_change_password or generated)
    with db.transaction() as cur:
        if scalar(cur, "SELECT count(*) FROM users WHERE username = ?", [username]):
            raise RuleViolation("users.exists", username=username)
        _refuse_taken_email(cur, email, None)
        user_id = scalar(
            cur,
            "INSERT INTO users (username, display_name, role, email, password_hash, must_change_password)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [username, display_name, role, email, password_hash, must_change_password])
        audit.record(cur, actor, "user.create", "user", user_id,
                     after={"username": username, "role": role, "display_name": display_name, "email": email,
                            "must_change_password": must_change_password})
    created = {"id": user_id, "username": username, "role": role, "active": True}
    return {**created, "password": generated} if generated else created


def _clean_display_name(text, username: str) -> str:
    text = str(text or "").strip() or username
    if len(text) > MAX_DISPLAY_NAME or _CONTROL.search(text):
        raise InvalidInput("users.bad_display_name", n=MAX_DISPLAY_NAME)
    return text


def _clean_email(text) -> str | None:
    text = str(text or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not EMAIL_RE.match(text):
        raise InvalidInput("users.bad_email")
    return text


def _refuse_taken_email(cur, email: str | None, user_id: int | None) -> None:
    """One e-mail, one account: the company sign-in (lib.services.sso) finds the account by it, letter case aside."""
    if email is None:
        return
    owner = scalar(cur, "SELECT min(username) FROM users WHERE lower(email) = lower(?) AND id <> ?",
                   [email, -1 if user_id is None else user_id])
    if owner is not None:
        raise RuleViolation("users.email_taken", email=email, username=owner)


def _get(cur, username: str) -> dict:
    rows = rows_as_dicts(cur, "SELECT id, username, role, email, active, must_change_password FROM users"
                              " WHERE username = ?",
                         [(username or "").strip().lower()])
    if not rows:
        raise NotFound("users.not_found", username=username)
    return rows[0]


def _refuse_last_admin(cur, target: dict) -> None:
    others = scalar(cur, "SELECT count(*) FROM users WHERE role = 'admin' AND active AND id <> ?",
                    [target["id"]])
    if target["role"] == "admin" and target["active"] and not others:
        raise RuleViolation("users.last_admin")


def _refuse_self(actor: User, target: dict, key: str) -> None:
    if actor is not None and actor.id == target["id"]:
        raise RuleViolation(key)


def set_role(db: Database, actor: User, username: str, role: str) -> dict:
    """Give an account another role; an admin cannot demote themselves or the last active admin."""
    require(actor, "users.manage")
    _check_role(role)
    with db.transaction() as cur:
        target = _get(cur, username)
        if target["role"] == role:
            return {**target, "role": role}
        if role != "admin":
            if target["role"] == "admin":
                _refuse_self(actor, target, "users.cannot_demote_self")
            _refuse_last_admin(cur, target)
        cur.execute("UPDATE users SET role = ? WHERE id = ?", [role, target["id"]])
        audit.record(cur, actor, "user.set_role", "user", target["id"],
                     before={"role": target["role"]}, after={"role": role})
    return {**target, "role": role}


def set_email(db: Database, actor: User, username: str, email: str | None) -> dict:
    """Give an account its e-mail, or none (empty): notification mail goes there, and signing in with the company
    account finds the account by it — so no two accounts may share one."""
    require(actor, "users.manage")
    email = _clean_email(email)
    with db.transaction() as cur:
        target = _get(cur, username)
        if target["email"] == email:
            return target
        _refuse_taken_email(cur, email, target["id"])
        cur.execute("UPDATE users SET email = ? WHERE id = ?", [email, target["id"]])
        audit.record(cur, actor, "user.set_email", "user", target["id"],
                     before={"email": target["email"]}, after={"email": email})
    return {**target, "email": email}


def deactivate(db: Database, actor: User, username: str) -> dict:
    """Deactivate an account and end its open sessions; not one's own, nor the last active admin."""
    require(actor, "users.manage")
    with db.transaction() as cur:
        target = _get(cur, username)
        if not target["active"]:
            return target
        _refuse_self(actor, target, "users.cannot_deactivate_self")
        _refuse_last_admin(cur, target)
        cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [target["id"]])
        end_sessions(cur, target["id"], clock.now())
        audit.record(cur, actor, "user.deactivate", "user", target["id"],
                     before={"active": True}, after={"active": False})
    return {**target, "active": False}


def reactivate(db: Database, actor: User, username: str) -> dict:
    """Let a deactivated account sign in again (with its old password)."""
    require(actor, "users.manage")
    with db.transaction() as cur:
        target = _get(cur, username)
        if target["active"]:
            return target
        cur.execute("UPDATE users SET active = TRUE WHERE id = ?", [target["id"]])
        audit.record(cur, actor, "user.reactivate", "user", target["id"],
                     before={"active": False}, after={"active": True})
    return {**target, "active": True}


def reset_password(db: Database, actor: User, username: str) -> str:
    """Give an account a generated temporary password (returned once, to be passed on), to be changed at the
    next sign-in; its open sessions end. One's own password is changed on the account page instead."""
    require(actor, "users.manage")
    password = generate_password()
    password_hash = hash_password(password)
    with db.transaction() as cur:
        target = _get(cur, username)
        _refuse_self(actor, target, "users.reset_own_password")
        cur.execute("UPDATE users SET password_hash = ?, must_change_password = TRUE WHERE id = ?",
                    [password_hash, target["id"]])
        end_sessions(cur, target["id"], clock.now())
        audit.record(cur, actor, "user.reset_password", "user", target["id"],
                     before={"must_change_password": target["must_change_password"]},
                     after={"must_change_password": True})
    return password


def user_choices(db: Database, roles: tuple[str, ...] | None = None) -> list[dict]:
    """Active users (id, username, display name, role), e.g. for an assignee picker."""
    with db.read() as cur:
        rows = rows_as_dicts(cur, "SELECT id, username, display_name, role FROM users WHERE active"
                                  " ORDER BY display_name")
    return [r for r in rows if roles is None or r["role"] in roles]
