"""`python -m lib.cli return`, `inspect` and `stock` (SPEC §11), run in-process on a database file."""
import json

import pytest

from tests.integration.cli_helpers import cli
from tests.integration.returns_fixture import shipped_order


@pytest.fixture
def db_file(shop):
    """A paid and an unpaid shipped order, in a file."""
    paid, unpaid = shipped_order(shop), shipped_order(shop, paid=False)
    return shop.db.path, paid, unpaid


def test_return_then_inspect_prints_the_documented_shapes(db_file):
    path, paid, _ = db_file
    run = cli(path, "return", paid, "--line", "PHN-1:1", "--line", "TOY-1:2", "--reason", "other",
              "--note", "<b>box</b> '; --", "--refund", "3000", "--user", "ops", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert list(data) == ["return_no", "refund", "lines"]
    assert data["refund"] == 3000.0
    assert data["lines"] == [{"sku": "PHN-1", "qty": 1, "unit_price": 2999.0},
                             {"sku": "TOY-1", "qty": 2, "unit_price": 99.5}]
    run = cli(path, "inspect", data["return_no"], "--line", "PHN-1:restock", "--line", "TOY-1:scrap",
              "--user", "warehouse", "--json")
    assert run.returncode == 0, run.stderr
    note = json.loads(run.stdout)
    assert (note["return_no"], note["status"], note["note"]) == (data["return_no"], "inspected", "<b>box</b> '; --")
    assert [(ln["sku"], ln["qty"], ln["disposition"]) for ln in note["lines"]] == [("PHN-1", 1, "restock"),
                                                                                 ("TOY-1", 2, "scrap")]
    assert [(r["amount"], r["status"]) for r in note["refunds"]] == [(3000.0, "pending")]
    run = cli(path, "stock", "--sku", "PHN-1", "--warehouse", "SH", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [{"warehouse": "SH", "sku": "PHN-1", "on_hand": 7, "reserved": 0,
                                       "available": 7, "quarantine": 0}]
    run = cli(path, "check", "--json")
    assert run.returncode == 0 and json.loads(run.stdout) == {"ok": True, "problems": []}


def test_return_and_inspect_print_readable_text(db_file):
    path, _, unpaid = db_file
    run = cli(path, "return", unpaid, "--line", "TOY-1:3", "--reason", "damaged", "--warehouse", "GZ", "--user", "ops")
    assert run.returncode == 0, run.stderr
    return_no = run.stdout.split()[0]
    assert return_no.startswith("RT-") and "refund 0.00" in run.stdout and "TOY-1" in run.stdout
    run = cli(path, "inspect", return_no, "--line", "TOY-1:repair", "--user", "ops_lead")
    assert run.returncode == 0, run.stderr
    assert f"{return_no}  closed" in run.stdout and "repair" in run.stdout
    run = cli(path, "stock", "--warehouse", "GZ")
    assert run.returncode == 0 and "QUARANTINE" in run.stdout
    assert [ln.split() for ln in run.stdout.splitlines()[1:]] == [["GZ", "PHN-1", "3", "0", "3", "0"],
                                                                  ["GZ", "TOY-1", "0", "0", "0", "3"]]


def test_a_refusal_exits_1_with_one_line_on_stderr(db_file):
    path, paid, _ = db_file
    run = cli(path, "return", paid, "--line", "PHN-1:3", "--reason", "quality", "--user", "ops")
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == "error: Cannot return 3 of PHN-1: only 2 shipped and not yet returned.\n"


@pytest.mark.parametrize("args, words", [
    (["return", "{paid}", "--line", "PHN-1", "--reason", "quality", "--user", "ops"], "not in the form SKU:QTY"),
    (["return", "{paid}", "--line", "PHN-1:1", "--reason", "lost", "--user", "ops"], "Unknown or retired"),
    (["return", "{paid}", "--line", "PHN-1:1", "--reason", "quality", "--refund", "5000", "--user", "ops"],
     "above the most allowed"),
    (["return", "{paid}", "--line", "PHN-1:1", "--reason", "quality", "--user", "warehouse"],
     "Only operations staff"),
    (["return", "{paid}", "--line", "PHN-1:1", "--reason", "quality", "--user", "nobody"], "nobody"),
    (["return", "{paid}", "--line", "PHN-1:1", "--reason", "quality"], "needs --user"),
    (["inspect", "RT-NOPE", "--line", "PHN-1:restock", "--user", "warehouse"], "RT-NOPE was not found"),
    (["inspect", "RT-NOPE", "--line", "PHN-1:burn", "--user", "warehouse"], "not a disposition"),
    (["stock", "--user", "sales"], "Only"),
])
def test_bad_input_exits_1_with_one_line(db_file, args, words):
    path, paid, _ = db_file
    run = cli(path, *[a.format(paid=paid) for a in args])
    assert (run.returncode, run.stdout) == (1, "")
    assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1
