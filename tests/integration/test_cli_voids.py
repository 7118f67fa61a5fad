"""`python -m lib.cli void | approve | reject | restore` (SPEC §11), run in-process on a database file."""
import json

import pytest

from lib.db import connect
from tests.integration.cli_helpers import cli
from tests.integration.void_helpers import make_order

VOID_KEYS = ["order_no", "outcome", "message", "refund", "released"]


@pytest.fixture
def desk(shop):
    """Orders in several states, in a file."""
    numbers = {"pending": make_order(shop), "paid": make_order(shop, paid=True, status="processing"),
               "shipped": make_order(shop, lines=(("TOY-1", 1),), status="shipped"),
               "big": make_order(shop, lines=(("PHN-2", 2),)), "own": make_order(shop, by="sales")}
    return shop.db.path, numbers


def _status(path, order_no):
    db = connect(path)
    try:
        with db.read() as cur:
            return cur.execute("SELECT status FROM orders WHERE order_no = ?", [order_no]).fetchall()[0][0]
    finally:
        db.close()


def test_void_one_order_prints_the_documented_json(desk):
    path, n = desk
    run = cli(path, "void", n["paid"], "--reason", "customer_cancelled", "--user", "ops", "--json")
    assert run.returncode == 0, run.stderr
    [row] = json.loads(run.stdout)
    assert list(row) == VOID_KEYS
    assert (row["order_no"], row["outcome"], row["refund"]) == (n["paid"], "voided", "6296.50")
    assert row["released"] == [{"warehouse": "SH", "sku": "PHN-1", "qty": 2},
                               {"warehouse": "SH", "sku": "TOY-1", "qty": 3}]
    assert _status(path, n["paid"]) == "voided"


def test_refused_void_exits_1_with_one_line_and_mentions_returns(desk):
    path, n = desk
    run = cli(path, "void", n["shipped"], "--reason", "customer_cancelled", "--user", "ops", "--json")
    assert run.returncode == 1
    assert json.loads(run.stdout)[0]["outcome"] == "refused"
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1
    assert "return" in run.stderr


@pytest.mark.parametrize("args", [["--reason", "other"], ["--reason", "nope"], []])
def test_bad_reason_or_missing_note_exits_1(desk, args):
    path, n = desk
    run = cli(path, "void", n["pending"], *args, "--user", "ops")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    assert _status(path, n["pending"]) == "pending"


def test_dry_run_previews_every_order_and_changes_nothing(desk):
    path, n = desk
    numbers = [n["pending"], n["big"], n["shipped"]]
    run = cli(path, "void", *numbers, "--reason", "out_of_stock", "--dry-run", "--user", "ops", "--json")
    rows = json.loads(run.stdout)
    assert [r["outcome"] for r in rows] == ["voided", "pending_approval", "refused"]
    assert all(list(r) == VOID_KEYS for r in rows) and run.returncode == 1   # a dry run changed nothing
    assert rows[0]["released"][0] == {"warehouse": "SH", "sku": "PHN-1", "qty": 2}
    assert [r["refund"] for r in rows] == ["0.00", "0.00", "0.00"]   # money as the real run prints it
    assert [_status(path, x) for x in numbers] == ["pending", "pending", "shipped"]


def test_a_batch_partly_done_exits_3_and_a_batch_wholly_refused_exits_1(desk):
    path, n = desk
    run = cli(path, "void", n["pending"], n["shipped"], "--reason", "out_of_stock", "--user", "ops")
    assert run.returncode == 3 and run.stderr.startswith("error: 1 of 2 refused; ")
    assert [_status(path, x) for x in (n["pending"], n["shipped"])] == ["voided", "shipped"]
    run = cli(path, "void", n["pending"], n["shipped"], "--reason", "out_of_stock", "--user", "ops")
    assert run.returncode == 1 and run.stderr.startswith("error: 2 of 2 refused; ")


def test_batch_void_then_approve_and_restore_as_text(desk):
    path, n = desk
    run = cli(path, "void", n["pending"], n["big"], "--reason", "out_of_stock", "--note", "supplier gone",
              "--user", "ops")
    assert run.returncode == 0, run.stderr
    assert "1 voided, 1 waiting for approval, 0 refused" in run.stdout
    mine = cli(path, "approve", n["big"], "--user", "ops")
    assert mine.returncode == 1 and "Only operations leads" in mine.stderr
    run = cli(path, "approve", n["big"], "--note", "ok", "--user", "ops_lead", "--json")
    assert run.returncode == 0, run.stderr
    decision = json.loads(run.stdout)
    assert (decision["decision"], decision["outcome"], decision["refund"]) == ("approved", "voided", "0.00")
    run = cli(path, "restore", n["big"], "--user", "ops_lead")
    assert run.returncode == 1 and "note is required" in run.stderr
    run = cli(path, "restore", n["big"], "--note", "supplier is back", "--user", "admin", "--json")
    restored = json.loads(run.stdout)
    assert (run.returncode, restored["outcome"], restored["status"]) == (0, "restored", "pending")
    assert _status(path, n["big"]) == "pending"
    assert cli(path, "check").returncode == 0


def test_sales_request_then_reject(desk):
    path, n = desk
    run = cli(path, "void", n["own"], "--reason", "order_error", "--user", "sales", "--json")
    assert json.loads(run.stdout)[0]["outcome"] == "pending_approval"
    run = cli(path, "reject", n["own"], "--user", "ops_lead")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    run = cli(path, "reject", n["own"], "--note", "customer still wants it", "--user", "ops_lead", "--json")
    message = f"The void request for order {n['own']} was rejected; the order goes on."
    assert json.loads(run.stdout) == {"order_no": n["own"], "decision": "rejected", "outcome": "rejected",
                                      "message": message}
    assert _status(path, n["own"]) == "pending"


def test_approving_several_requests_decides_the_decidable_and_names_the_rest(desk):
    path, n = desk
    for number, user in ((n["own"], "sales"), (n["big"], "ops")):
        assert json.loads(cli(path, "void", number, "--reason", "order_error", "--user", user,
                              "--json").stdout)[0]["outcome"] == "pending_approval"
    run = cli(path, "approve", n["own"], n["big"], n["pending"], "--user", "ops_lead", "--json")
    assert run.returncode == 3 and run.stderr.startswith("error: 1 of 3 refused; ")   # partly done
    rows = json.loads(run.stdout)
    assert [(r["order_no"], r["outcome"]) for r in rows] == [(n["own"], "voided"), (n["big"], "voided"),
                                                            (n["pending"], "refused")]
    assert list(rows[0]) == ["order_no", "decision", *VOID_KEYS[1:]] and rows[0]["decision"] == "approved"
    assert [_status(path, x) for x in (n["own"], n["big"], n["pending"])] == ["voided", "voided", "pending"]
    assert cli(path, "check").returncode == 0


def test_rejecting_several_requests_as_text(desk):
    path, n = desk
    cli(path, "void", n["own"], "--reason", "order_error", "--user", "sales")
    cli(path, "void", n["big"], "--reason", "order_error", "--user", "ops")
    run = cli(path, "reject", n["own"], n["big"], "--user", "ops_lead")
    assert run.returncode == 1 and "note" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    run = cli(path, "reject", n["own"], n["big"], "--note", "duplicates", "--user", "ops_lead")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "2 rejected"
    assert [_status(path, x) for x in (n["own"], n["big"])] == ["pending", "pending"]
