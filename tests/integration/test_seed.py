"""Demo data (SPEC §9, `seed`): consistent with every invariant, realistic enough to analyse, repeatable,
and only ever written into an empty database."""
from datetime import date, datetime, timedelta
from statistics import median

import numpy as np
import pytest

from lib.db import Database, apply_migrations
from lib.domain import ORDER_STATUSES, PAYMENT_STATUSES
from lib.errors import NotEmpty
from lib.queries.check import run_checks
from lib.seed import DEMO_PASSWORD, seed, simulate
from lib.services.auth import login
from lib.services.numbering import next_number
from tests.conftest import add_user

TODAY = date(2026, 3, 15)        # a Sunday; the spike week starts Monday 2026-02-16
ORDERS = 4000
SEED = 7
DATA_TABLES = ("customers", "products", "orders", "order_lines", "voids", "return_notes", "return_lines", "refunds",
               "stock_ledger", "stock_balances", "order_status_history", "assignments", "comments", "notifications",
               "counters")


def _open(path) -> Database:
    db = Database(str(path))
    apply_migrations(db)
    return db


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = _open(tmp_path_factory.mktemp("seed") / "demo.duckdb")
    counts = seed(db, orders=ORDERS, seed=SEED, today=TODAY)
    yield db, counts
    db.close()


def rows(db, sql, params=None):
    with db.read() as cur:
        return cur.execute(sql, params or []).fetchall()


def one(db, sql, params=None):
    return rows(db, sql, params)[0][0]


def test_seed_reports_the_rows_it_wrote(demo):
    db, counts = demo
    assert counts["orders"] == ORDERS
    for table, n in counts.items():
        assert one(db, f"SELECT count(*) FROM {table}") >= n > 0, table
    assert 300 <= counts["products"] <= 500
    assert counts["customers"] == 200 and counts["warehouses"] == 3 and counts["categories"] == 12


def test_stock_ledger_balances_and_every_check_passes(demo):
    db, _ = demo
    assert run_checks(db) == {"ok": True, "problems": []}
    mismatched = one(db, """
        SELECT count(*) FROM stock_balances b JOIN (
            SELECT warehouse, sku, sum(d_on_hand) h, sum(d_reserved) r, sum(d_quarantine) q
            FROM stock_ledger GROUP BY ALL) l USING (warehouse, sku)
        WHERE b.on_hand <> l.h OR b.reserved <> l.r OR b.quarantine <> l.q""")
    assert mismatched == 0
    low, negative = rows(db, "SELECT count(*) FILTER (on_hand - reserved < 20),"
                             " count(*) FILTER (on_hand - reserved < 0 OR quarantine < 0) FROM stock_balances")[0]
    assert low > 0 and negative == 0


def test_available_stock_never_went_negative_at_any_point_in_time(demo):
    db, _ = demo
    dips = one(db, """
        SELECT count(*) FROM (
            SELECT sum(d_on_hand - d_reserved) OVER w AS available, sum(d_quarantine) OVER w AS quarantine
            FROM stock_ledger WINDOW w AS (PARTITION BY warehouse, sku ORDER BY id))
        WHERE available < 0 OR quarantine < 0""")
    assert dips == 0


def test_refuses_a_database_that_already_has_data_and_writes_nothing(db):
    add_user(db, "someone", "ops")
    with pytest.raises(NotEmpty):
        seed(db, orders=500, seed=1, today=TODAY)
    assert one(db, "SELECT count(*) FROM users") == 1
    for table in ("products", "customers", "orders", "stock_ledger", "warehouses", "audit_log"):
        assert one(db, f"SELECT count(*) FROM {table}") == 0, table


def test_refuses_to_seed_twice(demo):
    db, counts = demo
    with pytest.raises(NotEmpty):
        seed(db, orders=100, seed=2, today=TODAY)
    assert one(db, "SELECT count(*) FROM orders") == counts["orders"]


def test_every_order_status_and_payment_status_appears(demo):
    db, _ = demo
    assert {r[0] for r in rows(db, "SELECT DISTINCT status FROM orders")} == set(ORDER_STATUSES)
    assert {r[0] for r in rows(db, "SELECT DISTINCT payment_status FROM orders")} == set(PAYMENT_STATUSES)
    assert one(db, "SELECT count(*) FROM orders WHERE source <> 'demo' OR created_at >= ?", [TODAY]) == 0


def test_void_share_and_void_statuses_are_plausible(demo):
    db, _ = demo
    share = one(db, "SELECT avg((status = 'voided')::INT) FROM orders")
    assert 0.05 <= share <= 0.10
    assert {r[0] for r in rows(db, "SELECT DISTINCT status FROM voids")} == {"applied", "pending_approval", "rejected"}


def test_voided_orders_have_an_applied_void_with_the_catalogue_labels(demo):
    db, _ = demo
    missing = one(db, """
        SELECT count(*) FROM orders o WHERE o.status = 'voided' AND 1 <> (
            SELECT count(*) FROM voids v JOIN reasons r ON r.kind = 'void' AND r.code = v.reason_code
            WHERE v.order_id = o.id AND v.status = 'applied' AND v.reason_label_en = r.label_en
              AND v.reason_label_zh = r.label_zh AND v.applied_at = o.voided_at
              AND v.status_before IN ('pending', 'processing'))""")
    assert missing == 0
    assert one(db, "SELECT count(*) FROM voids WHERE reason_code = 'other' AND note IS NULL") == 0
    big = rows(db, "SELECT bool_and(v.needs_approval), bool_and(v.decided_by IS NOT NULL) FROM voids v"
                   " JOIN orders o ON o.id = v.order_id WHERE o.total >= 10000 AND v.status = 'applied'")[0]
    assert big == (True, True)


def test_one_reason_spikes_in_one_recent_week(demo):
    db, _ = demo
    weekly = dict(rows(db, "SELECT date_trunc('week', applied_at)::DATE, count(*) FROM voids"
                           " WHERE status = 'applied' AND reason_code = 'out_of_stock' GROUP BY 1"))
    spike = TODAY - timedelta(days=TODAY.weekday() + 21)
    before = [weekly.get(spike - timedelta(weeks=k), 0) for k in range(1, 9)]
    assert weekly.get(spike, 0) > 3 * median(before)
    assert weekly.get(spike, 0) >= 8


def test_same_seed_and_day_give_the_same_data(demo, tmp_path):
    db, _ = demo
    again = _open(tmp_path / "again.duckdb")
    try:
        seed(again, orders=ORDERS, seed=SEED, today=TODAY)
        for table in DATA_TABLES:
            assert _digest(again, table) == _digest(db, table), table
        assert _digest(again, "audit_log", "action NOT LIKE 'auth.%'") == _digest(db, "audit_log",
                                                                                   "action NOT LIKE 'auth.%'")
    finally:
        again.close()


def _digest(db, table, where="TRUE"):
    return one(db, f"SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM {table} t WHERE {where}")


def test_another_seed_gives_other_data():
    first = simulate(np.random.default_rng(1), 500, TODAY, 1_000_000)
    second = simulate(np.random.default_rng(2), 500, TODAY, 1_000_000)
    assert not np.array_equal(first.o.total, second.o.total)


def test_order_totals_equal_the_sum_of_their_lines(demo):
    db, _ = demo
    assert one(db, """
        SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(qty * unit_price) t FROM order_lines GROUP BY 1) l
            ON l.order_id = o.id WHERE l.t <> o.total""") == 0
    assert one(db, "SELECT count(*) FROM orders o WHERE NOT EXISTS"
                   " (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)") == 0
    assert 2.5 <= one(db, "SELECT count(*) / count(DISTINCT order_id) FROM order_lines") <= 3.5


def test_returned_never_exceeds_shipped(demo):
    db, _ = demo
    assert one(db, "SELECT count(*) FROM order_lines WHERE qty_returned > qty_shipped OR qty_shipped > qty") == 0
    assert one(db, """
        SELECT count(*) FROM order_lines l JOIN (SELECT order_line_id, sum(qty) q FROM return_lines GROUP BY 1) r
            ON r.order_line_id = l.id WHERE r.q <> l.qty_returned""") == 0


def test_refunds_never_exceed_what_was_paid(demo):
    db, _ = demo
    assert one(db, """
        SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(amount) a FROM refunds GROUP BY 1) r
            ON r.order_id = o.id WHERE r.a > o.amount_paid""") == 0
    assert one(db, """
        SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, sum(amount) a FROM refunds
                                                WHERE status = 'paid' GROUP BY 1) r ON r.order_id = o.id
        WHERE coalesce(r.a, 0) <> o.amount_refunded""") == 0


def test_each_order_has_a_timeline_that_ends_in_its_status(demo):
    db, _ = demo
    broken = one(db, """
        SELECT count(*) FROM (
            SELECT order_id, from_status, to_status, o.status,
                   lag(to_status) OVER (PARTITION BY order_id ORDER BY h.created_at, h.id) AS previous,
                   row_number() OVER (PARTITION BY order_id ORDER BY h.created_at DESC, h.id DESC) AS from_end
            FROM order_status_history h JOIN orders o ON o.id = h.order_id)
        WHERE from_status IS DISTINCT FROM previous OR (from_end = 1 AND to_status <> status)""")
    assert broken == 0
    unaudited = one(db, """
        SELECT count(*) FROM order_status_history h JOIN orders o ON o.id = h.order_id
        WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.order_no = o.order_no AND a.created_at = h.created_at)""")
    assert unaudited == 0


def test_numbering_continues_after_the_demo_days(demo):
    db, _ = demo
    last = one(db, "SELECT max(order_no) FROM orders WHERE created_at >= ?", [TODAY - timedelta(days=1)])
    following = []
    with pytest.raises(_Undo):
        with db.transaction() as cur:
            following.append(next_number(cur, "SO", datetime.combine(TODAY - timedelta(days=1), datetime.min.time())))
            raise _Undo()
    assert int(following[0][-5:]) == int(last[-5:]) + 1


class _Undo(Exception):
    """Raised to roll a probing transaction back."""


def test_working_roles_find_unread_notifications(demo):
    db, _ = demo
    unread = {r[0] for r in rows(db, "SELECT DISTINCT u.role FROM notifications n JOIN users u ON u.id = n.user_id"
                                     " WHERE n.read_at IS NULL")}
    assert {"ops_lead", "ops", "finance", "warehouse", "sales"} <= unread


def test_demo_history_is_not_mailed(demo):
    from lib.services.notify import WATERMARK
    db, _ = demo
    assert one(db, "SELECT value FROM counters WHERE name = ?", [WATERMARK]) == one(db, "SELECT max(id) FROM notifications")
    assert one(db, "SELECT count(*) FROM mail_outbox") == 0
    with db.read() as cur:   # what queue_mail would pick up: nothing (not run here, the module's data is shared)
        assert cur.execute("SELECT count(*) FROM notifications WHERE id > (SELECT value FROM counters"
                           " WHERE name = ?)", [WATERMARK]).fetchall()[0][0] == 0


def test_demo_users_of_every_role_can_log_in(demo):
    db, _ = demo
    assert {r[0] for r in rows(db, "SELECT DISTINCT role FROM users")} == set(
        ["sales", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin"])
    user, token = login(db, "lead", DEMO_PASSWORD)
    assert user.role == "ops_lead" and token
