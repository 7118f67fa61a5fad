"""The real entry point, `python -m lib.cli`, in a few subprocess runs (the other CLI tests call lib.cli.main
in-process): help, seeding, a JSON search, the exit codes of a refusal and of a usage error, a password on stdin."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.db import Database
from lib.services import auth

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("init-db", "seed", "check", "mail", "users", "warehouses", "categories", "search", "show", "stock",
            "void", "approve", "reject", "restore", "return", "inspect", "import", "stats", "bench")


def python_m_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lib.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A demo database seeded by `python -m lib.cli seed`, and the counts it printed."""
    path = str(tmp_path_factory.mktemp("entry") / "demo.duckdb")
    run = python_m_cli("seed", "--orders", "1000", "--json", "--db", path)
    assert run.returncode == 0, run.stderr
    return path, json.loads(run.stdout)


def test_help_names_every_command():
    run = python_m_cli("--help")
    assert run.returncode == 0 and run.stdout.startswith("usage: python -m lib.cli")
    assert all(f"\n    {command}" in run.stdout for command in COMMANDS), run.stdout


def test_seed_then_a_json_search(seeded):
    path, counts = seeded
    assert counts["orders"] == 1000 and counts["seconds"] > 0   # a timed command's JSON has its elapsed time
    run = python_m_cli("search", "--user", "admin", "--limit", "5", "--json", "--db", path)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["total"] == 1000 and len(found["orders"]) == 5


def test_a_refusal_exits_1_and_a_usage_error_2(seeded):
    path, _ = seeded
    missing = python_m_cli("show", "SO-NOPE", "--user", "admin", "--db", path)
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "error: Order SO-NOPE was not found.\n")
    nobody = python_m_cli("search", "--db", path)
    assert (nobody.returncode, nobody.stderr) == (1, "error: this command needs --user USERNAME\n")
    usage = python_m_cli("void", "--db", path)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python -m lib.cli void")


def test_a_password_is_read_from_standard_input(seeded):
    path, _ = seeded
    run = python_m_cli("users", "add", "carol", "--role", "ops", "--password-stdin", "--user", "admin", "--json",
                       "--db", path, stdin="a long password\n")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"username": "carol", "role": "ops", "active": True}
    db = Database(path)
    try:
        user, _ = auth.login(db, "carol", "a long password")
    finally:
        db.close()
    assert (user.username, user.must_change_password) == ("carol", False)
