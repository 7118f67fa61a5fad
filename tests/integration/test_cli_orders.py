"""`python -m lib.cli search` and `show` (SPEC §11), run in-process on a database file."""
import json

import pytest

from tests.integration.cli_helpers import cli
from tests.integration.orders_fixture import NUMBERS, add_orders

SEARCH_KEYS = ["order_no", "status", "payment_status", "customer", "total", "created_at", "rep", "assignee",
               "warehouse"]


@pytest.fixture
def db_file(shop):
    """The fixture orders plus one comment, in a file."""
    ids = add_orders(shop)
    with shop.db.transaction() as cur:
        cur.execute("INSERT INTO comments (order_id, author_id, created_at, body) VALUES (?, ?, now(), ?)",
                    [ids["SO-20240105-00001"], shop.users["ops"].id, "<i>ring</i> them"])
    return shop.db.path


def test_search_json_has_exactly_the_documented_shape(db_file):
    run = cli(db_file, "search", "--user", "ops", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert list(data) == ["total", "orders"] and data["total"] == len(NUMBERS)
    assert [o["order_no"] for o in data["orders"]] == NUMBERS[::-1]
    first = data["orders"][0]
    assert list(first) == SEARCH_KEYS
    assert first == {"order_no": "SO-20240201-00001", "status": "completed", "payment_status": "partially_refunded",
                     "customer": "Beta Retail", "total": 3098.5, "created_at": "2024-02-01T12:00:00",
                     "rep": "sales", "assignee": None, "warehouse": "GZ"}


def test_search_flags_filter_sort_and_page(db_file):
    run = cli(db_file, "search", "--user", "ops", "--json", "--status", "pending", "--status", "voided",
              "--warehouse", "SH", "--from", "2024-01-01", "--to", "2024-01-31", "--min-total", "100",
              "--sort", "total:desc", "--limit", "1", "--offset", "1")
    data = json.loads(run.stdout)
    assert data["total"] == 2 and [o["order_no"] for o in data["orders"]] == ["SO-20240105-00001"]
    run = cli(db_file, "search", "--user", "ops", "--json", "--sku", "TOY", "--category", "toys", "--rep", "sales",
              "--customer", "ACME", "--assignee", "ops_lead", "--number", "SO-2024", "--payment", "paid",
              "--max-total", "500")
    assert [o["order_no"] for o in json.loads(run.stdout)["orders"]] == ["SO-20240110-00001"]
    # SO-20240201-00001 has a toy line, but its main line (of largest value) is a phone
    run = cli(db_file, "search", "--user", "ops", "--json", "--main-category", "toys")
    assert [o["order_no"] for o in json.loads(run.stdout)["orders"]] == ["SO-20240110-00001", "SO-2024011"]
    run = cli(db_file, "search", "--user", "ops", "--json", "--main-sku", "TOY-1", "--category", "phones")
    assert json.loads(run.stdout)["total"] == 0


@pytest.fixture
def history_file(shop):
    """The fixture orders, one of them voided with a void record, another imported."""
    ids = add_orders(shop)
    with shop.db.transaction() as cur:
        cur.execute("INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
                    " requested_at, applied_at) VALUES (?, 'SO-20240110-00012', 'applied', 'fraud_risk', 'x', 'x',"
                    " '2024-01-12 09:00', '2024-01-12 09:00')", [ids["SO-20240110-00012"]])
        cur.execute("UPDATE orders SET source = 'import' WHERE order_no = 'SO-20240105-00002'")
    return shop.db.path


def test_search_flags_for_source_and_void_history(history_file):
    def found(*args):
        run = cli(history_file, "search", "--user", "ops", "--json", *args)
        return [o["order_no"] for o in json.loads(run.stdout)["orders"]]

    assert found("--source", "import") == ["SO-20240105-00002"]
    assert len(found("--source", "app", "--source", "import")) == len(NUMBERS)
    assert found("--void-reason", "fraud_risk") == ["SO-20240110-00012"]
    assert found("--voided-from", "2024-01-12", "--voided-to", "2024-01-12") == ["SO-20240110-00012"]
    assert found("--voided-from", "2024-01-13") == [] and found("--return-reason", "damaged") == []
    for bad in (["--source", "fax"], ["--voided-from", "someday"], ["--returned-from", "2024-02-01",
                                                                     "--returned-to", "2024-01-01"]):
        run = cli(history_file, "search", "--user", "ops", *bad)
        assert run.returncode == 1 and run.stderr.startswith("error: "), bad


def test_search_as_a_sales_rep_lists_only_their_orders_as_a_table(db_file):
    run = cli(db_file, "search", "--user", "sales")
    assert run.returncode == 0, run.stderr
    listed = [line.split()[0] for line in run.stdout.splitlines() if line.startswith("SO-")]
    assert listed == ["SO-20240201-00001", "SO-20240110-00001", "SO-20240105-00001"]
    assert "1–3 of 3 orders" in run.stdout


@pytest.mark.parametrize("args", [["--from", "2024-13-01"], ["--to", "soon"], ["--min-total", "abc"],
                                  ["--status", "lost"], ["--payment", "free"], ["--sort", "id"],
                                  ["--limit", "x"], ["--from", "2024-02-01", "--to", "2024-01-01"]])
def test_search_bad_input_exits_1_with_one_line(db_file, args):
    run = cli(db_file, "search", "--user", "ops", *args)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1


def test_show_json_has_the_order_its_lines_and_timeline(db_file):
    run = cli(db_file, "show", "SO-20240201-00001", "--user", "sales", "--json")
    assert run.returncode == 0, run.stderr
    order = json.loads(run.stdout)
    assert (order["order_no"], order["status"], order["customer_name"]) == \
        ("SO-20240201-00001", "completed", "Beta Retail")
    assert [(ln["sku"], ln["qty"], ln["amount"]) for ln in order["lines"]] == [("PHN-1", 1, 2999.0),
                                                                               ("TOY-1", 1, 99.5)]
    assert order["timeline"] == [] and order["counts"] == {"voids": 0, "returns": 0, "refunds": 0}


def test_show_text_lists_lines_and_timeline_with_raw_user_text(db_file):
    run = cli(db_file, "show", "SO-20240105-00001", "--user", "ops")
    assert run.returncode == 0, run.stderr
    assert "SO-20240105-00001" in run.stdout and "PHN-1" in run.stdout
    assert "timeline (newest first)" in run.stdout and "<i>ring</i> them" in run.stdout


@pytest.mark.parametrize("order_no, user", [("SO-20240105-00002", "sales"), ("SO-NOPE", "ops")])
def test_show_of_a_hidden_or_missing_order_exits_1_the_same_way(db_file, order_no, user):
    run = cli(db_file, "show", order_no, "--user", user)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("error: ") and order_no in run.stderr
