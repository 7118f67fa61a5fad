"""The change feed back to the ERP (issue #15, lib.services.change_feed), on a DuckDB file and on PostgreSQL: every
void, restore, return, receipt, inspection and payout once, with its order, reason and amount; `--since last` run
twice gives every change once; CSV, Excel and Parquet read back the same rows."""
import io
import json
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from lib.errors import InvalidInput
from lib.services import orders, refunds, voids
from lib.services.change_feed import as_bytes, export_changes
from lib.services.inspection import inspect_return
from lib.services.orders import LineInput
from lib.services.returns import create_return
from tests.integration.cli_helpers import cli
from tests.integration.returns_fixture import shipped_order

pytestmark = pytest.mark.both_backends


def happenings(shop) -> list[tuple]:
    """A void (paid: a refund owed), a restore of it, a return of a shipped order, its inspection and payout."""
    lead = shop.users["ops_lead"]
    order_no = orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("TOY-1", 2)], rep="sales",
                                   paid=True)["order_no"]
    voids.void_order(shop.db, lead, order_no, "customer_cancelled")
    voids.restore(shop.db, lead, order_no, "customer changed their mind")
    shipped = shipped_order(shop)
    note = create_return(shop.db, lead, shipped, [("TOY-1", 1)], "damaged")
    inspect_return(shop.db, shop.users["warehouse"], note["return_no"], {"TOY-1": "restock"}, receive=True)
    with shop.db.read() as cur:
        refund_id = cur.execute("SELECT id FROM refunds WHERE order_no = ? AND source = 'return'",
                                [shipped]).fetchall()[0][0]
    refunds.mark_paid(shop.db, shop.users["finance"], refund_id, "BANK-77")
    return order_no, shipped, note["return_no"], refund_id


def test_since_last_gives_every_change_once_in_every_format(shop, tmp_path):
    lead = shop.users["ops_lead"]
    order_no, shipped, return_no, _ = happenings(shop)
    first = export_changes(shop.db, lead, "last", "erp").rows
    assert list(first["event"]) == ["void", "restore", "return", "return_received", "inspection", "refund_paid"]
    assert list(first["order_no"]) == [order_no, order_no, shipped, shipped, shipped, shipped]
    assert list(first["return_no"][2:]) == [return_no] * 4
    assert first["payment_ref"].iloc[-1] == "BANK-77" and float(first["amount"].iloc[-1]) == 99.5
    assert list(first["reason_code"][:3]) == ["customer_cancelled", "customer_cancelled", "damaged"]
    assert [float(a) for a in first["amount"][[0, 2]]] == [199.0, 99.5]
    assert first["change_id"].is_monotonic_increasing
    assert export_changes(shop.db, lead, "last", "erp").rows.empty          # nothing twice
    voids.void_order(shop.db, lead, order_no, "customer_cancelled")
    assert list(export_changes(shop.db, lead, "last", "erp").rows["event"]) == ["void"]
    assert len(export_changes(shop.db, lead, "last", "finance-system").rows) == 7   # another target: from the start
    assert len(export_changes(shop.db, lead, datetime(2000, 1, 1)).rows) == 7      # by time: remembers nothing
    assert export_changes(shop.db, lead, "last", "erp").rows.empty
    frame = export_changes(shop.db, lead, datetime(2000, 1, 1)).rows
    csv = pd.read_csv(io.BytesIO(as_bytes(frame, "csv")), encoding="utf-8-sig", dtype=str)
    assert list(csv["order_no"]) == list(frame["order_no"]) and csv["amount"][0] == "199.00"
    assert list(pd.read_parquet(io.BytesIO(as_bytes(frame, "parquet")))["event"]) == list(frame["event"])
    sheet = openpyxl.load_workbook(io.BytesIO(as_bytes(frame, "xlsx"))).active
    assert [c.value for c in sheet[1]][:4] == ["change_id", "changed_at", "event", "order_no"]
    assert sheet.max_row == len(frame) + 1


def test_the_cli_exports_since_last_and_refuses_bad_input(shop, tmp_path):
    if shop.db.backend != "duckdb":
        pytest.skip("the command line on a DuckDB file; the service is tested on both")
    lead = shop.users["ops_lead"]
    voids.void_order(shop.db, lead, orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH",
                                                        [LineInput("TOY-1", 1)])["order_no"], "customer_cancelled")
    path = shop.db.path
    shop.db.close()
    out = tmp_path / "changes.xlsx"
    done = cli(path, "export", "changes", "--since", "last", "--format", "xlsx", "--out", str(out), "--user", "ops_lead")
    assert done.returncode == 0 and "1 changes written" in done.stderr and out.exists()
    again = cli(path, "export", "changes", "--since", "last", "--json", "--user", "ops_lead")
    assert json.loads(again.stdout)["rows"] == 0
    for bad, words in ((["--since", "yesterday"], "Since must be a date"), (["--since", "last", "--target", "a b"],
                                                                          "A target is a name"),
                       (["--since", "last", "--format", "parquet"], "needs --out")):
        refused = cli(path, "export", "changes", *bad, "--user", "ops_lead")
        assert refused.returncode == 1 and words in refused.stderr, refused.stderr
    assert cli(path, "export", "changes", "--since", "last", "--user", "sales").returncode == 1   # not a lead


def test_since_last_needs_a_target(shop):
    with pytest.raises(InvalidInput):
        export_changes(shop.db, shop.users["ops_lead"], "last")


def test_on_postgresql_an_entry_committed_after_a_later_one_is_still_sent_once(shop):
    """A transaction that took an audit id and commits after an export that saw a higher id: the next export sends
    it (a feed by id alone would skip it for ever)."""
    if shop.db.backend != "postgresql":
        pytest.skip("DuckDB writers take turns: ids are visible in order")
    import psycopg

    lead = shop.users["ops_lead"]
    order_no = orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("TOY-1", 1)])["order_no"]
    export_changes(shop.db, lead, "last", "erp")
    with psycopg.connect(shop.db.path) as slow:
        slow.execute("INSERT INTO audit_log (created_at, actor_name, action, entity_type, entity_id, order_no)"
                     " VALUES (LOCALTIMESTAMP, 'erp-bridge', 'return.receive', 'return', '0', 'SLOW-1')")
        voids.void_order(shop.db, lead, order_no, "customer_cancelled")   # a higher id, committed first
        assert list(export_changes(shop.db, lead, "last", "erp").rows["order_no"]) == [order_no]
    # the slow transaction has committed now
    assert list(export_changes(shop.db, lead, "last", "erp").rows["order_no"]) == ["SLOW-1"]
    assert export_changes(shop.db, lead, "last", "erp").rows.empty
