import threading

import pytest

from lib import clock
from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries.check import run_checks
from lib.services import collab, orders
from lib.services.orders import LineInput
from lib.services.void_writes import mark_void_requests
from tests.conftest import balance


def _create(shop, user="ops", lines=None, **kw):
    lines = [LineInput("PHN-1", 2), LineInput("TOY-1", 3)] if lines is None else lines
    return orders.create_order(shop.db, shop.users[user], "CUS-1", "SH", lines, **kw)


def _status(db, order_no):
    with db.read() as cur:
        return cur.execute("SELECT status, version FROM orders WHERE order_no = ?", [order_no]).fetchall()[0]


def test_create_numbers_the_order_reserves_stock_and_audits(shop):
    result = _create(shop, rep="sales")
    assert result["order_no"].startswith("SO-" + clock.now().strftime("%Y%m%d") + "-")
    assert result["order_no"].endswith("-00001")
    assert result["total"] == "6296.50"
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0)
    assert balance(shop.db, "SH", "TOY-1") == (100, 3, 0)
    with shop.db.read() as cur:
        assert cur.execute("SELECT count(*) FROM audit_log WHERE action = 'order.create'").fetchall() == [(1,)]
        assert cur.execute("SELECT count(*) FROM stock_ledger WHERE kind = 'reserve'").fetchall() == [(2,)]
    assert run_checks(shop.db)["ok"]


def test_order_numbers_continue_per_day(shop):
    first = _create(shop)["order_no"]
    second = _create(shop, lines=[LineInput("TOY-1", 1)])["order_no"]
    assert int(second[-5:]) == int(first[-5:]) + 1


def test_quantity_above_available_stock_is_refused_with_the_numbers(shop):
    with pytest.raises(RuleViolation) as info:
        _create(shop, lines=[LineInput("PHN-1", 11), LineInput("PHN-2", 6)])
    message = info.value.message("en")
    assert "PHN-1: 11 > 10" in message and "PHN-2: 6 > 5" in message
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)


@pytest.mark.parametrize("lines, key", [
    ([], "orders.no_lines"),
    ([LineInput("PHN-1", 0)], "orders.bad_qty"),
    ([LineInput("PHN-1", -3)], "orders.bad_qty"),
    ([LineInput("PHN-1", "two")], "orders.bad_qty"),
    ([LineInput("PHN-1", 1, "-5")], "orders.bad_price"),
    ([LineInput("PHN-1", 1, "NaN")], "orders.bad_price"),
    ([LineInput("NOPE'; DROP TABLE orders; --", 1)], "orders.unknown_sku"),
    ([LineInput("OLD-1", 1)], "orders.unknown_sku"),
    ([LineInput("PHN-1", 1), LineInput("phn-1", 1)], "orders.duplicate_sku"),
])
def test_bad_lines_are_refused_and_change_nothing(shop, lines, key):
    with pytest.raises(InvalidInput) as info:
        _create(shop, lines=lines)
    assert info.value.key == key
    with shop.db.read() as cur:
        assert cur.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]
        assert cur.execute("SELECT count(*) FROM stock_ledger WHERE kind <> 'receipt'").fetchall() == [(0,)]


def test_sales_creates_orders_as_their_own_rep(shop):
    result = _create(shop, user="sales", rep="sales2")
    with shop.db.read() as cur:
        rep = cur.execute("SELECT rep_id FROM orders WHERE order_no = ?", [result["order_no"]]).fetchall()[0][0]
    assert rep == shop.users["sales"].id


def test_analyst_and_finance_cannot_create_orders(shop):
    for role in ("analyst", "finance", "warehouse"):
        with pytest.raises(PermissionDenied):
            _create(shop, user=role)


def test_double_submit_creates_one_order(shop):
    first = _create(shop, submission_key="form-123")
    again = _create(shop, submission_key="form-123")
    assert first == again
    with shop.db.read() as cur:
        assert cur.execute("SELECT count(*) FROM orders").fetchall() == [(1,)]
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0)


def test_lifecycle_ship_consumes_stock_and_complete_then_archive(shop):
    order_no = _create(shop)["order_no"]
    ops = shop.users["ops"]
    orders.change_status(shop.db, ops, order_no, "processing", note="picking")
    orders.change_status(shop.db, ops, order_no, "shipped")
    assert balance(shop.db, "SH", "PHN-1") == (8, 0, 0)
    orders.change_status(shop.db, ops, order_no, "completed")
    orders.change_status(shop.db, ops, order_no, "archived")
    assert _status(shop.db, order_no)[0] == "archived"
    with shop.db.read() as cur:
        shipped = cur.execute("SELECT sum(qty_shipped) FROM order_lines").fetchall()[0][0]
        history = cur.execute("SELECT from_status, to_status FROM order_status_history ORDER BY id").fetchall()
    assert shipped == 5
    assert history == [(None, "pending"), ("pending", "processing"), ("processing", "shipped"),
                       ("shipped", "completed"), ("completed", "archived")]
    assert run_checks(shop.db)["ok"]


def test_skipping_a_step_is_refused_in_words(shop):
    order_no = _create(shop)["order_no"]
    with pytest.raises(RuleViolation) as info:
        orders.change_status(shop.db, shop.users["ops"], order_no, "completed")
    assert info.value.message("en") == f"Order {order_no} is Pending; it cannot move to Completed."
    assert info.value.message("zh") == f"订单 {order_no} 当前为待处理，不能变更为已完成。"


def test_archived_order_is_read_only_but_can_be_copied(shop):
    ops = shop.users["ops"]
    order_no = _create(shop)["order_no"]
    for step in ("processing", "shipped", "completed", "archived"):
        orders.change_status(shop.db, ops, order_no, step)
    with pytest.raises(RuleViolation):
        collab.add_comment(shop.db, ops, order_no, "too late")
    copy = orders.copy_order(shop.db, ops, order_no)
    assert copy["order_no"] != order_no
    assert _status(shop.db, copy["order_no"])[0] == "pending"


def test_stale_version_is_refused_as_changed_meanwhile(shop):
    order_no = _create(shop)["order_no"]
    _, version = _status(shop.db, order_no)
    orders.change_status(shop.db, shop.users["ops"], order_no, "processing", expected_version=version)
    with pytest.raises(ConcurrentChange) as info:
        orders.change_status(shop.db, shop.users["ops_lead"], order_no, "shipped", expected_version=version)
    assert "changed by someone else" in info.value.message("en")


def test_two_people_moving_the_same_order_at_once_exactly_one_wins(shop):
    order_no = _create(shop)["order_no"]
    _, version = _status(shop.db, order_no)
    barrier = threading.Barrier(6)
    outcomes = []

    def attempt(user):
        barrier.wait()
        try:
            orders.change_status(shop.db, user, order_no, "processing", expected_version=version)
            outcomes.append("ok")
        except (ConcurrentChange, RuleViolation):
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(shop.users[r],)) for r in ("ops", "ops_lead", "admin") * 2]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
    assert sorted(outcomes) == ["ok"] + ["refused"] * 5
    with shop.db.read() as cur:
        assert cur.execute("SELECT count(*) FROM order_status_history WHERE to_status = 'processing'").fetchall() == [(1,)]


def test_sales_cannot_touch_another_reps_order(shop):
    order_no = _create(shop, rep="sales2")["order_no"]
    with pytest.raises(NotFound):
        collab.add_comment(shop.db, shop.users["sales"], order_no, "hi")


def test_assign_notifies_the_new_assignee_and_records_history(shop):
    order_no = _create(shop)["order_no"]
    collab.assign(shop.db, shop.users["ops_lead"], order_no, "ops", note="yours")
    collab.assign(shop.db, shop.users["ops_lead"], order_no, "admin")
    with shop.db.read() as cur:
        moves = cur.execute("SELECT from_user_id, to_user_id FROM assignments ORDER BY id").fetchall()
        inbox = cur.execute("SELECT user_id, kind FROM notifications ORDER BY id").fetchall()
    assert moves == [(None, shop.users["ops"].id), (shop.users["ops"].id, shop.users["admin"].id)]
    assert inbox == [(shop.users["ops"].id, "order.assigned"), (shop.users["admin"].id, "order.assigned")]


def test_comment_is_stored_verbatim(shop):
    order_no = _create(shop, rep="sales")["order_no"]
    body = "<script>alert(1)</script> [click](javascript:alert(2)) '; DROP TABLE comments; --"
    collab.add_comment(shop.db, shop.users["ops"], order_no, body)
    with shop.db.read() as cur:
        assert cur.execute("SELECT body FROM comments").fetchall() == [(body,)]
        assert cur.execute("SELECT user_id FROM notifications").fetchall() == [(shop.users["sales"].id,)]
    with pytest.raises(InvalidInput):
        collab.add_comment(shop.db, shop.users["ops"], order_no, "   ")


def test_an_order_with_a_pending_void_request_cannot_ship(shop):
    order_no = _create(shop)["order_no"]
    orders.change_status(shop.db, shop.users["ops"], order_no, "processing")
    with shop.db.transaction() as cur:
        cur.execute("INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
                    " requested_at, needs_approval) SELECT id, order_no, 'pending_approval', 'other', 'Other', '其他',"
                    " now(), TRUE FROM orders WHERE order_no = ?", [order_no])
        mark_void_requests(cur)   # as the services keep orders.void_requested
    with pytest.raises(RuleViolation) as info:
        orders.change_status(shop.db, shop.users["ops"], order_no, "shipped")
    assert "waiting for approval" in info.value.message("en")
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0)
