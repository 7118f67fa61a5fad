"""Every role × every action (issue #8, item 5), built from lib.domain.PERMISSIONS: an action without a probe, or a
guarded function no probe calls, fails. A role with the action gets through (or meets the documented business
refusal); any other role gets a PermissionDenied naming who may — in both languages — and the database is left
exactly as it was. Sessions: their lifetime, expiry and logout."""
import ast
import hashlib
import importlib
from datetime import timedelta
from pathlib import Path

import pytest

from lib import clock
from lib.config import session_hours
from lib.domain import PERMISSIONS, ROLES
from lib.errors import NotFound, PermissionDenied, VoidDeskError
from lib.i18n import t
from lib.services import auth
from tests.conftest import TEST_PASSWORD
from tests.integration.access_probes import PROBES, REACHED_VIA, Probe
from tests.integration.access_support import fingerprint, restock

ROOT = Path(__file__).resolve().parents[2]
GUARDED_PACKAGES = ("lib/services", "lib/queries", "lib/analytics", "lib/imports")


def _requested_only(result) -> bool:
    outcomes = [r["outcome"] for r in result.get("results", [result])]
    return outcomes == ["pending_approval"]


# Sales reps hold void.request instead of void.create: the same call records a request for a lead, never a void.
INSTEAD = {("void.create", "sales"): _requested_only}


def _allowed_first(action: str) -> list[str]:
    """Allowed roles first, so cached results (the dashboards) are warm when the refused roles ask."""
    return sorted(ROLES, key=lambda role: role not in PERMISSIONS[action])


def _attempt(shop, probe: Probe, user, action: str):
    arranged = probe.arrange(shop, user)
    before = None if user.role in PERMISSIONS[action] else fingerprint(shop.db)   # only refusals are compared
    try:
        return before, probe.call(shop, user, arranged), None
    except VoidDeskError as exc:
        return before, None, exc


def _problems_allowed(probe: Probe, result, exc) -> list[str]:
    if isinstance(exc, PermissionDenied):
        return [f"refused although allowed: {exc}"]
    if probe.expect:
        return [] if exc is not None and exc.key == probe.expect else [f"expected {probe.expect}, got {exc!r}"]
    return [] if exc is None else [f"refused although allowed: {exc.key}: {exc}"]


def _problems_denied(action: str, probe: Probe, exc) -> list[str]:
    wanted = NotFound if probe.hidden else PermissionDenied
    if not isinstance(exc, wanted):
        return [f"expected {wanted.__name__}, got {exc!r}"]
    if wanted is NotFound:
        return []
    roles = PERMISSIONS[probe.refused_as or action]
    problems = [] if tuple(exc.params["roles"]) == roles else [f"names {exc.params['roles']}"]
    for lang in ("en", "zh"):
        text = exc.message(lang)
        problems += [f"{lang} message {text!r} misses {r}" for r in roles if t(f"role_plural.{r}", lang) not in text]
    return problems


@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_each_role_may_or_may_not_as_the_permission_table_says(shop, action):
    restock(shop)
    problems = []
    for role in _allowed_first(action):
        user = shop.users[role]
        for probe in PROBES[action]:
            before, result, exc = _attempt(shop, probe, user, action)
            if (action, role) in INSTEAD:
                found = [] if exc is None and INSTEAD[action, role](result) else [f"got {exc or result!r}"]
            elif role in PERMISSIONS[action]:
                found = _problems_allowed(probe, result, exc)
            else:
                found = _problems_denied(action, probe, exc)
                after = fingerprint(shop.db)
                found += [f"changed {sorted(k for k in after if after[k] != before.get(k))}"] if after != before else []
            problems += [f"{role} · {probe.name}: {p}" for p in found]
    assert not problems, "\n".join(problems)


def test_every_action_has_a_probe():
    assert sorted(PROBES) == sorted(PERMISSIONS)
    assert all(PROBES[action] for action in PERMISSIONS)


def _actions(node, constants: dict[str, str]) -> set[str]:
    """The action(s) an argument names: a string, a module constant (ACTION = "…") or either side of an `if`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in constants:
        return {constants[node.id]}
    if isinstance(node, ast.IfExp):
        return _actions(node.body, constants) | _actions(node.orelse, constants)
    return {f"<unreadable: {ast.unparse(node)}>"}


def _constants(tree: ast.Module) -> dict[str, str]:
    return {a.targets[0].id: a.value.value for a in tree.body if isinstance(a, ast.Assign) and len(a.targets) == 1
            and isinstance(a.targets[0], ast.Name) and isinstance(a.value, ast.Constant)
            and isinstance(a.value.value, str)}


def guarded_functions() -> dict[str, set[str]]:
    """module.function -> the actions it checks with require() (or the dashboards' prepare()), by reading lib/."""
    found: dict[str, set[str]] = {}
    for package in GUARDED_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fn in (f for f in tree.body if isinstance(f, ast.FunctionDef)):
                for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                    name = getattr(call.func, "id", None)
                    if name == "require" and len(call.args) > 1:
                        found.setdefault(f"{module}.{fn.name}", set()).update(_actions(call.args[1], _constants(tree)))
                    elif name == "prepare":
                        found.setdefault(f"{module}.{fn.name}", set()).add("analytics.view")
    return found


def test_every_guarded_function_has_a_probe_for_each_action_it_checks():
    probed = {(p.name, action) for action, probes in PROBES.items() for p in probes}
    missing = [f"{name} ({action})" for name, actions in guarded_functions().items() for action in sorted(actions)
               if (REACHED_VIA.get(name, name), action) not in probed]
    assert not missing, f"add probes to tests/integration/access_probes.py for: {missing}"


def test_every_probe_names_a_real_function():
    for name in {p.name for probes in PROBES.values() for p in probes}:
        module, _, function = name.rpartition(".")
        assert callable(getattr(importlib.import_module(module), function, None)), name


# --- sessions ---------------------------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()   # how sessions store a token


def _session(db, token: str) -> dict:
    with db.read() as cur:
        created, expires, revoked = cur.execute(
            "SELECT created_at, expires_at, revoked_at FROM sessions WHERE token_hash = ?",
            [_hash(token)]).fetchall()[0]
    return {"created": created, "expires": expires, "revoked": revoked}


def test_a_session_lasts_the_configured_hours_then_no_longer_resumes(shop, monkeypatch):
    monkeypatch.setenv("VOIDDESK_SESSION_HOURS", "2")
    user, token = auth.login(shop.db, "ops", TEST_PASSWORD)
    session = _session(shop.db, token)
    assert session["expires"] - session["created"] == timedelta(hours=2)
    assert auth.resume(shop.db, token) == user
    with shop.db.transaction() as cur:   # two hours later
        cur.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                    [clock.now() - timedelta(seconds=1), _hash(token)])
    assert auth.resume(shop.db, token) is None


@pytest.mark.parametrize("value", ["abc", "12h", "", "nan", "inf", "-1", "0", "1e12"])
def test_an_unusable_session_length_means_12_hours(monkeypatch, value):
    monkeypatch.setenv("VOIDDESK_SESSION_HOURS", value)
    assert session_hours() == 12


def test_a_mistyped_session_length_neither_breaks_sign_in_nor_ends_sessions_at_once(shop, monkeypatch):
    for value in ("12h", "-1"):
        monkeypatch.setenv("VOIDDESK_SESSION_HOURS", value)
        user, token = auth.login(shop.db, "ops", TEST_PASSWORD)
        session = _session(shop.db, token)
        assert session["expires"] - session["created"] == timedelta(hours=12)
        assert auth.resume(shop.db, token) == user


def test_logout_ends_that_session_only_and_a_used_token_stays_dead(shop):
    user, laptop = auth.login(shop.db, "ops", TEST_PASSWORD)
    _, phone = auth.login(shop.db, "ops", TEST_PASSWORD)
    auth.logout(shop.db, laptop)
    assert auth.resume(shop.db, laptop) is None
    assert auth.resume(shop.db, phone) == user
    assert _session(shop.db, laptop)["revoked"] is not None
    before = fingerprint(shop.db)
    for token in (laptop, None, "", "not-a-token"):   # again, or nonsense: nothing happens
        auth.logout(shop.db, token)
    assert fingerprint(shop.db) == before
    assert auth.resume(shop.db, laptop) is None
