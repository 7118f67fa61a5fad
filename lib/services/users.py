"""User accounts: create, list, set role, deactivate (SPEC §9). Only admins manage users."""
import re
from datetime import datetime

from lib.db import Database, rows_as_dicts, scalar
from lib.domain import ROLES, User, require
from lib.errors import InvalidInput, NotFound, RuleViolation
from lib.services import audit
from lib.services.auth import check_password_rules, hash_password

USERNAME_RE = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")


def has_admin(db: Database) -> bool:
    with db.read() as cur:
        return bool(scalar(cur, "SELECT count(*) FROM users WHERE role = 'admin' AND active"))


def list_users(db: Database, actor: User | None) -> list[dict]:
    require(actor, "users.manage")
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT id, username, display_name, role, email, active,"
                                  " must_change_password, created_at FROM users ORDER BY username")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput("users.unknown_role", role=role, roles=", ".join(ROLES))


def add_user(db: Database, actor: User | None, username: str, role: str, password: str, *,
             display_name: str | None = None, email: str | None = None,
             must_change_password: bool = False) -> dict:
    """Create an account. With no active admin yet, anyone may create the first admin (bootstrap)."""
    username = (username or "").strip().lower()
    bootstrap = actor is None and role == "admin" and not has_admin(db)
    if not bootstrap:
        require(actor, "users.manage")
    if not USERNAME_RE.match(username):
        raise InvalidInput("users.bad_username")
    _check_role(role)
    check_password_rules(password)
    password_hash = hash_password(password)
    with db.transaction() as cur:
        if scalar(cur, "SELECT count(*) FROM users WHERE username = ?", [username]):
            raise RuleViolation("users.exists", username=username)
        user_id = scalar(
            cur,
            "INSERT INTO users (username, display_name, role, email, password_hash, must_change_password)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            [username, (display_name or username).strip(), role, email, password_hash, must_change_password])
        audit.record(cur, actor, "user.create", "user", user_id,
                     after={"username": username, "role": role})
    return {"id": user_id, "username": username, "role": role, "active": True}


def _get(cur, username: str) -> dict:
    rows = rows_as_dicts(cur, "SELECT id, username, role, active FROM users WHERE username = ?",
                         [(username or "").strip().lower()])
    if not rows:
        raise NotFound("users.not_found", username=username)
    return rows[0]


def _refuse_last_admin(cur, target: dict) -> None:
    others = scalar(cur, "SELECT count(*) FROM users WHERE role = 'admin' AND active AND id <> ?",
                    [target["id"]])
    if target["role"] == "admin" and target["active"] and not others:
        raise RuleViolation("users.last_admin")


def set_role(db: Database, actor: User, username: str, role: str) -> dict:
    require(actor, "users.manage")
    _check_role(role)
    with db.transaction() as cur:
        target = _get(cur, username)
        if target["role"] == role:
            return {**target, "role": role}
        if role != "admin":
            _refuse_last_admin(cur, target)
        cur.execute("UPDATE users SET role = ? WHERE id = ?", [role, target["id"]])
        audit.record(cur, actor, "user.set_role", "user", target["id"],
                     before={"role": target["role"]}, after={"role": role})
    return {**target, "role": role}


def deactivate(db: Database, actor: User, username: str) -> dict:
    """Deactivate an account and end its open sessions."""
    require(actor, "users.manage")
    with db.transaction() as cur:
        target = _get(cur, username)
        if not target["active"]:
            return target
        _refuse_last_admin(cur, target)
        cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [target["id"]])
        cur.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    [datetime.now(), target["id"]])
        audit.record(cur, actor, "user.deactivate", "user", target["id"],
                     before={"active": True}, after={"active": False})
    return {**target, "active": False}


def user_choices(db: Database, roles: tuple[str, ...] | None = None) -> list[dict]:
    """Active users (id, username, display name, role), e.g. for an assignee picker."""
    with db.read() as cur:
        rows = rows_as_dicts(cur, "SELECT id, username, display_name, role FROM users WHERE active"
                                  " ORDER BY display_name")
    return [r for r in rows if roles is None or r["role"] in roles]
