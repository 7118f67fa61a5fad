"""Stock (SPEC §6): manual adjustment with a reason, levels with low-stock flags, one SKU's ledger."""
import json

import pytest

from lib.errors import InvalidInput, PermissionDenied, RuleViolation
from lib.queries.check import run_checks
from lib.queries.stock import sku_ledger, stock_levels
from lib.services import returns
from lib.services.orders import LineInput, create_order
from lib.services.stock_adjust import adjust_stock
from tests.conftest import balance
from tests.integration.returns_fixture import count, shipped_order

NASTY = "'; DELETE FROM stock_ledger; -- <img src=x onerror=alert(1)>"


def _adjust(shop, d_on, reason="stock count", user="ops_lead", **kw):
    return adjust_stock(shop.db, shop.users[user], "SH", "PHN-1", d_on, reason, **kw)


def test_adjustment_with_a_reason_goes_through_the_ledger_and_the_audit_log(shop):
    result = _adjust(shop, 5, reason=NASTY)
    assert result == {"warehouse": "SH", "sku": "PHN-1", "on_hand": 15, "reserved": 0, "available": 15,
                      "quarantine": 0}
    with shop.db.read() as cur:
        assert cur.execute("SELECT kind, d_on_hand, ref_type, note FROM stock_ledger WHERE kind = 'adjust'"
                           ).fetchall() == [("adjust", 5, "adjust", NASTY)]
        entity, before, after, note = cur.execute("SELECT entity_id, before, after, note FROM audit_log"
                                                  " WHERE action = 'stock.adjust'").fetchall()[0]
    assert (entity, json.loads(before)["on_hand"], json.loads(after)["on_hand"], note) == ("SH/PHN-1", 10, 15, NASTY)
    assert run_checks(shop.db)["ok"]


def test_adjustment_without_a_reason_is_refused(shop):
    for reason in ("", "   ", None):
        with pytest.raises(InvalidInput) as info:
            _adjust(shop, 1, reason=reason)
        assert info.value.key == "stock.reason_required"
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)


def test_adjustment_that_would_go_negative_is_refused(shop):
    create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("PHN-1", 4)])   # 4 of 10 reserved
    with pytest.raises(RuleViolation) as info:
        _adjust(shop, -7)   # would leave 3 on hand for 4 reserved
    assert info.value.key == "stock.would_go_negative"
    with pytest.raises(RuleViolation):
        _adjust(shop, 0, delta_quarantine=-1)
    assert _adjust(shop, -6)["available"] == 0
    assert balance(shop.db, "SH", "PHN-1") == (4, 4, 0)
    assert run_checks(shop.db)["ok"]


@pytest.mark.parametrize("d_on, d_q, key", [(0, 0, "stock.nothing_to_adjust"), ("x", 0, "stock.bad_delta"),
                                            (1.5, 0, "stock.bad_delta"), (2_000_000, 0, "stock.bad_delta")])
def test_bad_quantities_are_refused(shop, d_on, d_q, key):
    with pytest.raises(InvalidInput) as info:
        _adjust(shop, d_on, delta_quarantine=d_q)
    assert info.value.key == key


def test_unknown_warehouse_or_sku_and_other_roles_are_refused(shop):
    lead = shop.users["ops_lead"]
    with pytest.raises(InvalidInput):
        adjust_stock(shop.db, lead, "XX", "PHN-1", 1, "r")
    with pytest.raises(InvalidInput):
        adjust_stock(shop.db, lead, "SH", "NOPE", 1, "r")
    for role in ("ops", "warehouse", "finance"):
        with pytest.raises(PermissionDenied):
            _adjust(shop, 1, user=role)
    assert _adjust(shop, 1, user="admin")["on_hand"] == 11
    assert count(shop.db, "SELECT count(*) FROM stock_ledger WHERE kind = 'adjust'") == 1


def test_quarantine_can_be_written_off_after_a_repair(shop):
    order_no = shipped_order(shop)
    no = returns.create_return(shop.db, shop.users["ops"], order_no, {"PHN-1": 2}, "quality")["return_no"]
    returns.inspect_return(shop.db, shop.users["warehouse"], no, {"PHN-1": "repair"}, receive=True)
    assert balance(shop.db, "SH", "PHN-1") == (8, 0, 2)
    result = _adjust(shop, 1, reason="repaired, back to stock", delta_quarantine=-1)
    assert (result["on_hand"], result["quarantine"]) == (9, 1)
    assert run_checks(shop.db)["ok"]


def test_same_submission_adjusts_once(shop):
    _adjust(shop, 2, submission_key="adj-1")
    _adjust(shop, 2, submission_key="adj-1")
    assert balance(shop.db, "SH", "PHN-1") == (12, 0, 0)


def test_levels_show_available_quarantine_and_low_stock(shop):
    create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("TOY-1", 90)])
    levels = stock_levels(shop.db, shop.users["analyst"])
    assert list(levels.columns) == ["warehouse", "sku", "product_name", "category", "on_hand", "reserved",
                                    "available", "quarantine", "low"]
    rows = {(r["warehouse"], r["sku"]): r for r in levels.to_dict("records")}
    toy = rows[("SH", "TOY-1")]
    assert (toy["on_hand"], toy["reserved"], toy["available"], toy["low"]) == (100, 90, 10, True)
    assert rows[("SH", "PHN-1")]["low"]   # 10 < the default low-stock level of 20
    with shop.db.transaction() as cur:
        cur.execute("UPDATE settings SET value = '5' WHERE key = 'low_stock_level'")
    assert stock_levels(shop.db, shop.users["ops"], low_only=True)["sku"].tolist() == ["PHN-1"]   # GZ: 3 left
    assert stock_levels(shop.db, shop.users["ops"], sku="phn")["sku"].tolist() == ["PHN-1", "PHN-1", "PHN-2"]
    assert stock_levels(shop.db, shop.users["ops"], sku="robot")["sku"].tolist() == ["TOY-1"]
    assert stock_levels(shop.db, shop.users["ops"], sku="PHN", warehouse="gz")["warehouse"].tolist() == ["GZ"]
    with pytest.raises(PermissionDenied):
        stock_levels(shop.db, shop.users["sales"])


def test_sku_ledger_shows_running_balances_references_and_actors(shop):
    order_no = shipped_order(shop)
    no = returns.create_return(shop.db, shop.users["ops"], order_no, {"PHN-1": 1}, "quality")["return_no"]
    returns.inspect_return(shop.db, shop.users["warehouse"], no, {"PHN-1": "restock"}, receive=True)
    _adjust(shop, -2, reason="broken in storage")
    ledger = sku_ledger(shop.db, shop.users["warehouse"], "phn-1", warehouse="SH")
    assert ledger["kind"].tolist() == ["adjust", "restock", "ship", "reserve", "receipt"]
    assert ledger[["on_hand", "reserved", "available", "quarantine"]].values.tolist() == \
        [[7, 0, 7, 0], [9, 0, 9, 0], [8, 0, 8, 0], [10, 2, 8, 0], [10, 0, 10, 0]]
    restock = ledger.iloc[1]
    assert (restock["order_no"], restock["return_no"], restock["actor"], restock["ref_type"]) == \
        (order_no, no, "Warehouse", "return")
    assert ledger.iloc[0]["note"] == "broken in storage"
    assert len(sku_ledger(shop.db, shop.users["ops"], "PHN-1", limit=2)) == 2
    assert sku_ledger(shop.db, shop.users["ops"], "PHN-1", warehouse="GZ")["on_hand"].tolist() == [3]
