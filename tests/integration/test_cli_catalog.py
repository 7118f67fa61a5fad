"""`python -m lib.cli warehouses|categories list|add|rename` (SPEC §11), run in-process on a database made with
init-db only, the way a team scripts its setup."""
import json

import pytest

from tests.conftest import add_user
from tests.integration.cli_helpers import cli


@pytest.fixture
def db_file(db):
    add_user(db, "lead", "ops_lead")
    add_user(db, "ops", "ops")
    return db.path


def test_a_team_adds_warehouses_and_categories_from_a_script(db_file):
    run = cli(db_file, "warehouses", "add", "HZ", "--name-en", "Hangzhou", "--name-zh", "杭州仓", "--user", "lead",
              "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"code": "HZ", "name_en": "Hangzhou", "name_zh": "杭州仓"}
    for code, en, zh in (("phones", "Phones", "手机"), ("toys", "Toys", "玩具")):
        run = cli(db_file, "categories", "add", code, "--name-en", en, "--name-zh", zh, "--user", "lead")
        assert (run.returncode, run.stdout.strip()) == (0, f"category {code} added: {en} / {zh}")
    run = cli(db_file, "categories", "rename", "toys", "--name-en", "Toys & games", "--name-zh", "玩具游戏",
              "--user", "lead")
    assert run.returncode == 0, run.stderr
    listed = json.loads(cli(db_file, "categories", "list", "--user", "lead", "--json").stdout)
    assert listed == [{"code": "phones", "name_en": "Phones", "name_zh": "手机", "sort_order": 10, "products": 0},
                      {"code": "toys", "name_en": "Toys & games", "name_zh": "玩具游戏", "sort_order": 20,
                       "products": 0}]
    text = cli(db_file, "warehouses", "list", "--user", "lead").stdout.splitlines()
    assert text[0].split() == ["CODE", "SKUS", "NAME", "(EN", "/", "ZH)"] and text[1].split() == [
        "HZ", "0", "Hangzhou", "/", "杭州仓"]


def test_refusals_exit_1_with_one_line_and_change_nothing(db_file):
    refusals = [(("warehouses", "add", "hz", "--name-en", "X", "--name-zh", "X", "--user", "lead"),
                 "upper-case letters, digits and underscores"),
                (("categories", "add", "toys", "--name-en", "", "--name-zh", "玩具", "--user", "lead"),
                 "The English name is required."),
                (("categories", "add", "toys", "--name-en", "Toys", "--name-zh", "玩具", "--user", "ops"),
                 "operations leads"),
                (("warehouses", "rename", "XX", "--name-en", "X", "--name-zh", "X", "--user", "lead"),
                 "There is no warehouse with the code XX.")]
    for args, message in refusals:
        run = cli(db_file, *args)
        assert run.returncode == 1 and run.stderr.startswith("error: ") and message in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
    assert cli(db_file, "categories", "list", "--user", "lead").stdout.strip() == "no categories yet"
    assert cli(db_file, "warehouses", "list", "--user", "lead").stdout.strip() == "no warehouses yet"
