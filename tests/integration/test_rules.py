"""The rules (SPEC §9, issue #7 item 2) through lib.services.settings.update_rules, on a real DuckDB file."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from lib import clock
from lib.errors import InvalidInput, PermissionDenied, RuleViolation
from lib.queries.stock import stock_levels
from lib.services import voids
from lib.queries.settings import read_rules
from lib.services.settings import rule_changes, update_rules
from lib.services.voids import restore
from tests.integration.void_helpers import make_order

DEFAULTS = {"approval_threshold": "10000", "restore_window_hours": "72", "low_stock_level": "20",
            "sales_may_request_voids": "true"}


def _settings(db) -> dict:
    with db.read() as cur:
        return dict(cur.execute("SELECT key, value FROM settings WHERE key <> 'demo_database'").fetchall())


def _audits(db) -> list[dict]:
    with db.read() as cur:
        rows = cur.execute("SELECT entity_type, entity_id, actor_name, before, after FROM audit_log"
                           " WHERE action = 'settings.update' ORDER BY id").fetchall()
    return [{"entity": (t, e), "actor": a, "before": json.loads(b), "after": json.loads(f)} for t, e, a, b, f in rows]


def _rules(db):
    with db.read() as cur:
        return read_rules(cur)


def test_each_change_is_audited_with_before_and_after(shop):
    lead = shop.users["ops_lead"]
    changed = update_rules(shop.db, lead, approval_threshold="12500.50", restore_window_hours=48,
                           low_stock_level=20, sales_may_request_voids=False)
    assert changed == {"approval_threshold": (Decimal("10000"), Decimal("12500.50")),
                       "restore_window_hours": (72, 48), "sales_may_request_voids": (True, False)}
    assert _rules(shop.db) == type(_rules(shop.db))(Decimal("12500.50"), 48, 20, False)
    assert _audits(shop.db) == [
        {"entity": ("setting", "approval_threshold"), "actor": "ops_lead",
         "before": {"approval_threshold": "10000"}, "after": {"approval_threshold": "12500.50"}},
        {"entity": ("setting", "restore_window_hours"), "actor": "ops_lead",
         "before": {"restore_window_hours": 72}, "after": {"restore_window_hours": 48}},
        {"entity": ("setting", "sales_may_request_voids"), "actor": "ops_lead",
         "before": {"sales_may_request_voids": True}, "after": {"sales_may_request_voids": False}}]
    assert set(rule_changes(shop.db)) == {"approval_threshold", "restore_window_hours", "sales_may_request_voids"}
    assert rule_changes(shop.db)["approval_threshold"]["updated_by"] == "Ops_Lead"


def test_a_save_that_changes_nothing_writes_nothing(shop):
    changed = update_rules(shop.db, shop.users["admin"], approval_threshold="10000.00", restore_window_hours="72",
                           low_stock_level=20.0, sales_may_request_voids=True)
    assert changed == {} and _audits(shop.db) == [] and _settings(shop.db) == DEFAULTS
    assert rule_changes(shop.db) == {}


@pytest.mark.parametrize("changes, message", [
    ({"approval_threshold": "-1"}, "The approval threshold cannot be negative."),
    ({"approval_threshold": "abc"}, "The approval threshold must be an amount of money, e.g. 10000 or 12500.50."),
    ({"approval_threshold": "NaN"}, "The approval threshold must be an amount of money, e.g. 10000 or 12500.50."),
    ({"approval_threshold": True}, "The approval threshold must be an amount of money, e.g. 10000 or 12500.50."),
    ({"approval_threshold": "10.005"}, "The approval threshold has at most two decimal places."),
    ({"approval_threshold": "1e13"}, "The approval threshold can be at most 999,999,999,999.99."),
    ({"restore_window_hours": 0}, "The restore window is a whole number of hours from 1 to 720."),
    ({"restore_window_hours": 721}, "The restore window is a whole number of hours from 1 to 720."),
    ({"restore_window_hours": 2.5}, "The restore window is a whole number of hours from 1 to 720."),
    ({"restore_window_hours": "two"}, "The restore window is a whole number of hours from 1 to 720."),
    ({"low_stock_level": -1}, "The low-stock level is a whole number from 0 to 1000000."),
    ({"sales_may_request_voids": "maybe"}, "Expected yes or no."),
    # one bad value among good ones: nothing at all is written
    ({"restore_window_hours": 24, "approval_threshold": "-5"}, "The approval threshold cannot be negative."),
])
def test_bad_values_are_refused_with_a_clear_message_and_change_nothing(shop, changes, message):
    with pytest.raises(InvalidInput) as info:
        update_rules(shop.db, shop.users["ops_lead"], **changes)
    assert info.value.message("en") == message
    assert info.value.message("zh") != message
    assert _settings(shop.db) == DEFAULTS and _audits(shop.db) == []


def test_threshold_may_be_zero_and_takes_thousands_separators(shop):
    update_rules(shop.db, shop.users["ops_lead"], approval_threshold="0")
    assert _rules(shop.db).approval_threshold == 0
    update_rules(shop.db, shop.users["ops_lead"], approval_threshold="15,000")
    assert _rules(shop.db).approval_threshold == Decimal("15000")


@pytest.mark.parametrize("role", ["ops", "sales", "analyst", "finance", "warehouse"])
def test_only_leads_and_admins_change_the_rules(shop, role):
    with pytest.raises(PermissionDenied):
        update_rules(shop.db, shop.users[role], low_stock_level=5)
    assert _settings(shop.db) == DEFAULTS


def test_a_new_threshold_applies_to_the_next_void_at_once(shop):
    ops = shop.users["ops"]
    assert voids.void_order(shop.db, ops, make_order(shop), "customer_cancelled")["outcome"] == "voided"
    update_rules(shop.db, shop.users["ops_lead"], approval_threshold="5000")     # the order total is 6,296.50
    assert voids.void_order(shop.db, ops, make_order(shop), "customer_cancelled")["outcome"] == "pending_approval"


def test_sales_requests_can_be_switched_off(shop):
    sales = shop.users["sales"]
    update_rules(shop.db, shop.users["admin"], sales_may_request_voids=False)
    with pytest.raises(RuleViolation):
        voids.void_order(shop.db, sales, make_order(shop, by="sales"), "customer_cancelled")
    update_rules(shop.db, shop.users["admin"], sales_may_request_voids=True)
    result = voids.void_order(shop.db, sales, make_order(shop, by="sales"), "customer_cancelled")
    assert result["outcome"] == "pending_approval"


def test_a_shorter_restore_window_is_used_by_restore(shop):
    order_no = make_order(shop)
    voids.void_order(shop.db, shop.users["ops"], order_no, "customer_cancelled")
    with shop.db.transaction() as cur:
        cur.execute("UPDATE voids SET applied_at = ? WHERE order_no = ?", [clock.now() - timedelta(hours=5),
                                                                           order_no])
    update_rules(shop.db, shop.users["ops_lead"], restore_window_hours=4)
    with pytest.raises(RuleViolation) as info:
        restore(shop.db, shop.users["ops_lead"], order_no, "customer changed their mind")
    assert "4" in info.value.message("en")
    update_rules(shop.db, shop.users["ops_lead"], restore_window_hours=6)
    assert restore(shop.db, shop.users["ops_lead"], order_no, "customer changed their mind")["outcome"] == "restored"


def test_low_stock_level_moves_the_low_flag(shop):
    lead = shop.users["ops_lead"]
    low = set(stock_levels(shop.db, lead, low_only=True)["sku"])       # available 10, 5, 100, 3 vs 20
    assert low == {"PHN-1", "PHN-2"}
    update_rules(shop.db, lead, low_stock_level=4)
    assert list(stock_levels(shop.db, lead, low_only=True)["sku"]) == ["PHN-1"]   # GZ has 3
