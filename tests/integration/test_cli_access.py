"""The command line's access matrix (issue #8, item 5): every command that acts as a user (`--user`), run in-process
through lib.cli.main as every role. A role with the permission gets exit 0; any other gets exit 1 with one line on
stderr naming who may, and the database is left exactly as it was. Also: who the CLI acts as without --user, and
that a database made with `init-db` has no account anyone knows the password of."""
import itertools
import json
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from lib.db import Database, rows_as_dicts
from lib.domain import PERMISSIONS, ROLES
from lib.errors import NotFound
from lib.i18n import t
from lib.services import auth
from lib.services.settings import is_demo
from tests.conftest import add_user
from tests.integration.access_support import (fingerprint, order_for, other_reps_order, requested_void, restock,
                                              return_note, voided)
from tests.integration.cli_helpers import cli

_serial = itertools.count(1)


@dataclass(frozen=True)
class Command:
    action: str
    argv: object                 # (shop, user, tmp_path) -> the arguments, after arranging what they need
    hidden: bool = False         # roles without the action are told "not found", as for a missing record


def _account(shop) -> str:
    name = f"cliuser{next(_serial)}"
    add_user(shop.db, name, "ops")
    return name


def _names(argv: list[str]) -> list[str]:
    n = next(_serial)
    return argv + ["--name-en", f"Name {n}", "--name-zh", f"名称 {n}"]


def _customers_csv(tmp_path) -> str:
    path = tmp_path / f"customers{next(_serial)}.csv"
    path.write_text(f"code,name\nCLI-{next(_serial)},Command line customer\n", encoding="utf-8")
    return str(path)


COMMANDS = {
    "users list": Command("users.manage", lambda s, u, p: ["users", "list"]),
    "users add": Command("users.manage", lambda s, u, p: ["users", "add", f"cli{next(_serial)}", "--role", "ops"]),
    "users set-role": Command("users.manage", lambda s, u, p: ["users", "set-role", _account(s), "finance"]),
    "users set-email": Command("users.manage", lambda s, u, p: ["users", "set-email", _account(s),
                                                                f"cli{next(_serial)}@example.com"]),
    "users deactivate": Command("users.manage", lambda s, u, p: ["users", "deactivate", _account(s)]),
    "search": Command("order.view", lambda s, u, p: ["search"]),
    "show": Command("order.view", lambda s, u, p: ["show", order_for(s, u)]),
    "show someone else's": Command("order.view_all", lambda s, u, p: ["show", other_reps_order(s)], hidden=True),
    "void": Command("void.create", lambda s, u, p: ["void", order_for(s, u), "--reason", "customer_cancelled"]),
    "void --dry-run": Command("void.create", lambda s, u, p: ["void", order_for(s, u), "--reason",
                                                               "customer_cancelled", "--dry-run"]),
    "approve": Command("void.approve", lambda s, u, p: ["approve", requested_void(s, u)]),
    "reject": Command("void.approve", lambda s, u, p: ["reject", requested_void(s, u), "--note", "not now"]),
    "restore": Command("void.restore", lambda s, u, p: ["restore", voided(s, u), "--note", "undo"]),
    "return": Command("return.create", lambda s, u, p: ["return", order_for(s, u, "shipped"), "--line", "TOY-1:1",
                                                        "--reason", "damaged"]),
    "inspect": Command("return.inspect", lambda s, u, p: ["inspect", return_note(s, u), "--line", "TOY-1:restock"]),
    "stock": Command("stock.view", lambda s, u, p: ["stock"]),
    "stats voids": Command("analytics.view", lambda s, u, p: ["stats", "voids"]),
    "stats returns": Command("analytics.view", lambda s, u, p: ["stats", "returns", "--by", "category"]),
    "import": Command("import.run", lambda s, u, p: ["import", "customers", _customers_csv(p)]),
    "warehouses list": Command("settings.edit", lambda s, u, p: ["warehouses", "list"]),
    "warehouses add": Command("settings.edit", lambda s, u, p: _names(["warehouses", "add", f"W{next(_serial)}"])),
    "categories rename": Command("settings.edit", lambda s, u, p: _names(["categories", "rename", "toys"])),
}
# A sales rep's `void` records a request for a lead (void.request), never a void: exit 0, outcome pending_approval.
REQUESTS_INSTEAD = {("void", "sales"), ("void --dry-run", "sales")}


def _refusal_problems(command: Command, code: int, err: str, argv: list[str]) -> list[str]:
    problems = [] if code == 1 else [f"exit {code}"]
    lines = err.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return problems + [f"stderr {err!r}"]
    if command.hidden:
        wanted = NotFound("orders.not_found", order_no=argv[1]).message("en")
        return problems + ([] if wanted in lines[0] else [f"stderr {lines[0]!r}, not {wanted!r}"])
    return problems + [f"{lines[0]!r} misses {r}" for r in PERMISSIONS[command.action]
                       if t(f"role_plural.{r}", "en") not in lines[0]]


@pytest.mark.parametrize("action", sorted({c.action for c in COMMANDS.values()}))
def test_each_command_is_allowed_or_refused_per_role(shop, tmp_path, action):
    restock(shop)
    problems = []
    for name, command in ((n, c) for n, c in COMMANDS.items() if c.action == action):
        problems += _matrix_row(shop, tmp_path, name, command)
    assert not problems, "\n".join(problems)


def _matrix_row(shop, tmp_path, name: str, command: Command) -> list[str]:
    problems = []
    for role in ROLES:
        user = shop.users[role]
        argv = command.argv(shop, user, tmp_path) + ["--user", user.username, "--json"]
        before = None if role in PERMISSIONS[command.action] else fingerprint(shop.db)
        code, out, err = cli(shop.db.path, *argv)
        if (name, role) in REQUESTS_INSTEAD:
            outcomes = [row["outcome"] for row in json.loads(out)] if out else err
            found = [] if code == 0 and outcomes == ["pending_approval"] else [f"exit {code}: {outcomes}"]
        elif role in PERMISSIONS[command.action]:
            found = [] if code == 0 else [f"exit {code}: {err.strip()}"]
        else:
            found = _refusal_problems(command, code, err, argv)
            found += [] if fingerprint(shop.db) == before else ["changed the database"]
        problems += [f"{name} · {role}: {p}" for p in found]
    return problems


def test_every_permission_a_command_needs_is_in_the_table():
    assert {c.action for c in COMMANDS.values()} <= set(PERMISSIONS)


def test_an_unknown_deactivated_or_missing_user_is_refused_and_changes_nothing(shop):
    add_user(shop.db, "gone", "admin", active=False)
    before = fingerprint(shop.db)
    for who, argv in itertools.product([["--user", "ghost"], ["--user", "gone"], ["--user", "  "], []], [
            ["search"], ["users", "list"], ["void", "SO-1", "--reason", "customer_cancelled"], ["stats", "voids"],
            ["import", "customers", "missing.csv"]]):
        code, out, err = cli(shop.db.path, *argv, *who)
        assert code == 1 and not out, argv
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert ("needs --user" in err) if not who else (f"no user named '{who[1]}'" in err), err
    assert fingerprint(shop.db) == before


def test_stock_without_a_user_reads_as_an_analyst_and_with_one_checks_the_role(shop):
    code, out, _ = cli(shop.db.path, "stock", "--json")
    assert code == 0 and {r["sku"] for r in json.loads(out)} >= {"PHN-1", "TOY-1"}
    code, _, err = cli(shop.db.path, "stock", "--user", "sales")
    assert code == 1 and err.startswith("error: Only ")


def test_an_argument_that_is_not_utf8_is_refused_in_words(shop):
    """Bytes that are not UTF-8 reach Python as lone surrogates; DuckDB used to answer with a conversion error."""
    before = fingerprint(shop.db)
    code, _, err = cli(shop.db.path, "search", "--customer", "caf\udce9", "--user", "ops")
    assert (code, err) == (1, "error: An argument is not valid UTF-8 text (caf\ufffd); nothing was done.\n")
    assert fingerprint(shop.db) == before


def test_line_breaks_and_terminal_escapes_in_an_echoed_value_stay_on_one_line(shop):
    code, _, err = cli(shop.db.path, "show", "SO-1\nerror: all fine\x1b[2J", "--user", "ops")
    assert (code, err) == (1, "error: Order SO-1\\nerror: all fine\\x1b[2J was not found.\n")


def test_an_import_file_that_cannot_be_read_is_refused_in_words(shop):
    for name in ("x" * 5000, "."):          # a name too long for the file system (an OSError before); a folder
        code, _, err = cli(shop.db.path, "import", "customers", name, "--user", "ops_lead")
        assert code == 1 and err.startswith("error: Cannot read the file ") and len(err.splitlines()) == 1


# --- a database that was not seeded as a demo ---------------------------------------------------------------------

KNOWN_PASSWORDS = ("demo1234", "admin", "password")


def test_init_db_makes_no_accounts_and_the_first_admin_gets_a_generated_password(tmp_path):
    path = str(tmp_path / "fresh.duckdb")
    assert cli(path, "init-db")[0] == 0
    code, out, err = cli(path, "users", "add", "root", "--role", "ops", "--json")
    assert code == 1 and "Only administrators" in err          # with no admin yet, only an admin may be made
    code, out, err = cli(path, "users", "add", "root", "--role", "admin", "--json")
    assert code == 0, err
    created = json.loads(out)
    assert (created["username"], created["role"]) == ("root", "admin") and len(created["password"]) >= 16
    code, out, err = cli(path, "users", "add", "bob", "--role", "ops")
    assert code == 1 and "needs --user" in err                 # once there is an admin, someone must act
    db = Database(path)
    try:
        assert not is_demo(db)
        with db.read() as cur:
            accounts = rows_as_dicts(cur, "SELECT username, must_change_password FROM users")
        assert accounts == [{"username": "root", "must_change_password": True}]
        with db.read() as cur:
            stored = cur.execute("SELECT password_hash FROM users").fetchall()[0][0]
        for password in KNOWN_PASSWORDS:     # checked against the hash: sign-in would lock out after five tries
            with pytest.raises(VerificationError):
                PasswordHasher().verify(stored, password)
        user, _ = auth.login(db, "root", created["password"])
        assert user.must_change_password
    finally:
        db.close()


def test_a_password_read_from_standard_input_is_the_one_that_signs_in(tmp_path):
    path = str(tmp_path / "fresh.duckdb")
    run = cli(path, "users", "add", "root", "--role", "admin", "--password-stdin", stdin="a long password\n")
    assert run.returncode == 0, run.stderr
    db = Database(path)
    try:
        user, _ = auth.login(db, "root", "a long password")
    finally:
        db.close()
    assert not user.must_change_password
