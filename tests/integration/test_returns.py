"""Returns to stock (SPEC §5): return notes, quantities, reasons, refunds owed, inspection and its stock."""
import threading
from decimal import Decimal

import pytest

from lib import clock
from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries.check import run_checks
from lib.queries.returns import get_return, search_returns
from lib.services import orders, returns
from lib.services.orders import LineInput
from tests.conftest import balance
from tests.integration.returns_fixture import count, order_row, returned, shipped_order

NASTY = "'; DROP TABLE orders; -- <script>alert(1)</script> & \"quotes\""


@pytest.fixture
def order_no(shop):
    return shipped_order(shop)


def _return(shop, order_no, lines, reason="quality", user="ops", **kw):
    return returns.create_return(shop.db, shop.users[user], order_no, lines, reason, **kw)


def test_partial_return_creates_a_numbered_note_and_owes_the_lines_value(shop, order_no):
    version = order_row(shop.db, order_no)["version"]
    result = _return(shop, order_no, {"PHN-1": 1})
    assert result["return_no"] == "RT-" + clock.now().strftime("%Y%m%d") + "-00001"
    assert result["refund"] == "2999.00"
    assert result["lines"] == [{"sku": "PHN-1", "qty": 1, "unit_price": "2999.00"}]
    assert returned(shop.db, order_no) == {"PHN-1": 1, "TOY-1": 0}
    assert order_row(shop.db, order_no)["version"] == version + 1
    note = get_return(shop.db, shop.users["ops"], result["return_no"])
    assert (note["status"], note["reason_code"], note["reason_label_en"], note["reason_label_zh"], note["warehouse"]) \
        == ("requested", "quality", "Quality problem", "质量问题", "SH")
    assert [(r["amount"], r["status"]) for r in note["refunds"]] == [(2999, "pending")]
    assert balance(shop.db, "SH", "PHN-1") == (8, 0, 0)     # stock moves only at inspection
    assert count(shop.db, "SELECT count(*) FROM audit_log WHERE action IN ('return.create', 'refund.create')") == 2
    assert run_checks(shop.db)["ok"]


def test_returnable_lines_count_quantities_on_open_notes_as_returned(shop, order_no):
    _return(shop, order_no, [("PHN-1", 1), ("TOY-1", 2)])
    lines = {ln["sku"]: ln for ln in returns.returnable_lines(shop.db, shop.users["ops"], order_no)}
    assert (lines["PHN-1"]["qty_shipped"], lines["PHN-1"]["qty_returned"], lines["PHN-1"]["returnable"]) == (2, 1, 1)
    assert lines["TOY-1"]["returnable"] == 1 and lines["TOY-1"]["product_name"] == "Robot 机器人"


def test_over_return_is_refused_and_changes_nothing(shop, order_no):
    with pytest.raises(RuleViolation) as info:
        _return(shop, order_no, {"PHN-1": 3})
    assert "only 2 shipped and not yet returned" in info.value.message("en")
    _return(shop, order_no, {"PHN-1": 2})
    with pytest.raises(RuleViolation):   # a second note cannot claim what an open note holds
        _return(shop, order_no, {"PHN-1": 1})
    assert returned(shop.db, order_no)["PHN-1"] == 2
    assert count(shop.db, "SELECT count(*) FROM return_notes") == 1
    assert run_checks(shop.db)["ok"]


def test_two_notes_racing_for_the_same_units_exactly_one_wins(shop, order_no):
    barrier, outcomes = threading.Barrier(2), []

    def attempt():
        barrier.wait()
        try:
            outcomes.append(_return(shop, order_no, {"PHN-1": 2})["return_no"])
        except (ConcurrentChange, RuleViolation) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(o, str) for o in outcomes) == 1
    assert returned(shop.db, order_no)["PHN-1"] == 2
    assert count(shop.db, "SELECT count(*) FROM refunds") == 1
    assert run_checks(shop.db)["ok"]


@pytest.mark.parametrize("lines, key", [
    ({}, "returns.no_lines"),
    ({"PHN-1": 0}, "returns.no_lines"),
    ({"PHN-1": -1}, "orders.bad_qty"),
    ({"PHN-1": "two"}, "orders.bad_qty"),
    ({"PHN-2": 1}, "returns.sku_not_on_order"),
    ({NASTY: 1}, "returns.sku_not_on_order"),
    ([("PHN-1", 1), ("phn-1", 1)], "orders.duplicate_sku"),
])
def test_bad_lines_are_refused(shop, order_no, lines, key):
    with pytest.raises(InvalidInput) as info:
        _return(shop, order_no, lines)
    assert info.value.key == key
    assert count(shop.db, "SELECT count(*) FROM return_notes") == 0


def test_only_shipped_or_completed_orders_can_be_returned(shop):
    pending = orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("PHN-1", 1)])["order_no"]
    with pytest.raises(RuleViolation) as info:
        _return(shop, pending, {"PHN-1": 1})
    assert info.value.message("en") == f"Order {pending} is Pending; only shipped or completed orders can be returned."
    done = shipped_order(shop)
    orders.change_status(shop.db, shop.users["ops"], done, "completed")
    assert _return(shop, done, {"TOY-1": 1})["refund"] == "99.50"
    with pytest.raises(NotFound):
        _return(shop, "SO-NOPE", {"TOY-1": 1})


def test_only_ops_roles_create_returns(shop, order_no):
    for role in ("sales", "finance", "warehouse", "analyst"):
        with pytest.raises(PermissionDenied):
            _return(shop, order_no, {"PHN-1": 1}, user=role)
    assert _return(shop, order_no, {"PHN-1": 1}, user="ops_lead")["return_no"]


def test_reason_must_be_active_and_other_needs_a_note(shop, order_no):
    with pytest.raises(InvalidInput) as info:
        _return(shop, order_no, {"PHN-1": 1}, reason="customer_cancelled")   # a void reason
    assert info.value.key == "returns.unknown_reason"
    with pytest.raises(InvalidInput) as info:
        _return(shop, order_no, {"PHN-1": 1}, reason="other", note="   ")
    assert info.value.key == "returns.note_required"
    with shop.db.transaction() as cur:
        cur.execute("UPDATE reasons SET active = FALSE WHERE kind = 'return' AND code = 'damaged'")
    with pytest.raises(InvalidInput):
        _return(shop, order_no, {"PHN-1": 1}, reason="damaged")


def test_the_note_keeps_the_reason_label_as_it_read_then(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1}, reason="wrong_item")["return_no"]
    with shop.db.transaction() as cur:
        cur.execute("UPDATE reasons SET label_en = 'Renamed', label_zh = '改名' WHERE kind = 'return'"
                    " AND code = 'wrong_item'")
    note = get_return(shop.db, shop.users["ops"], no)
    assert (note["reason_label_en"], note["reason_label_zh"]) == ("Wrong item sent", "发错货")


def test_refund_may_be_lowered_never_raised_or_negative(shop, order_no):
    with pytest.raises(RuleViolation) as info:
        _return(shop, order_no, {"PHN-1": 1}, refund="3000")
    assert info.value.key == "returns.refund_too_high" and "2999.00" in info.value.message("en")
    for bad in ("-1", "abc", "NaN"):
        with pytest.raises(InvalidInput):
            _return(shop, order_no, {"PHN-1": 1}, refund=bad)
    assert _return(shop, order_no, {"PHN-1": 1}, refund="2700.5")["refund"] == "2700.50"
    assert _return(shop, order_no, {"PHN-1": 1}, refund=0)["refund"] == "0.00"
    with shop.db.read() as cur:
        assert cur.execute("SELECT amount FROM refunds").fetchall() == [(Decimal("2700.50"),)]


def test_an_unpaid_order_owes_no_refund(shop):
    unpaid = shipped_order(shop, paid=False)
    assert _return(shop, unpaid, {"PHN-1": 1})["refund"] == "0.00"
    assert count(shop.db, "SELECT count(*) FROM refunds") == 0
    with pytest.raises(RuleViolation) as info:
        _return(shop, unpaid, {"PHN-1": 1}, refund="10")
    assert info.value.key == "returns.unpaid_no_refund"


def test_refunds_never_exceed_what_was_paid_in(shop, order_no):
    with shop.db.transaction() as cur:   # e.g. a discount agreed after payment
        cur.execute("UPDATE orders SET amount_paid = 3000 WHERE order_no = ?", [order_no])
    assert _return(shop, order_no, {"PHN-1": 1})["refund"] == "2999.00"
    assert _return(shop, order_no, {"PHN-1": 1})["refund"] == "1.00"
    assert returns.return_context(shop.db, shop.users["ops"], order_no)["refundable"] == 0
    assert run_checks(shop.db)["ok"]


def test_creation_notifies_warehouse_rep_and_finance(shop, order_no):
    no = _return(shop, order_no, {"TOY-1": 1})["return_no"]
    with shop.db.read() as cur:
        got = sorted(cur.execute("SELECT u.username, n.kind, n.return_no FROM notifications n"
                                 " JOIN users u ON u.id = n.user_id").fetchall())
    assert got == [("finance", "refund.created", None), ("sales", "return.created", no),
                   ("warehouse", "return.created", no)]


def test_same_submission_twice_creates_one_note(shop, order_no):
    first = _return(shop, order_no, {"PHN-1": 1}, submission_key="form-1")
    again = _return(shop, order_no, {"PHN-1": 1}, submission_key="form-1")
    assert first == again
    assert count(shop.db, "SELECT count(*) FROM return_notes") == 1


def test_sql_and_html_text_is_stored_verbatim(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1}, reason="other", note=NASTY)["return_no"]
    assert get_return(shop.db, shop.users["ops"], no)["note"] == NASTY
    assert count(shop.db, "SELECT count(*) FROM audit_log WHERE note = ?", [NASTY]) == 1
    assert count(shop.db, "SELECT count(*) FROM orders") == 1


# --- receive, inspect, close ------------------------------------------------------------------

@pytest.mark.parametrize("disposition, expected", [
    ("restock", (9, 0, 0)), ("repair", (8, 0, 1)), ("scrap", (8, 0, 0))])
def test_each_disposition_moves_stock_through_the_ledger(shop, order_no, disposition, expected):
    no = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    wh = shop.users["warehouse"]
    assert returns.receive_return(shop.db, wh, no) == {"return_no": no, "status": "received"}
    assert balance(shop.db, "SH", "PHN-1") == (8, 0, 0)
    result = returns.inspect_return(shop.db, wh, no, {"phn-1": disposition.upper()})
    assert result["lines"] == [{"sku": "PHN-1", "qty": 1, "disposition": disposition}]
    assert balance(shop.db, "SH", "PHN-1") == expected
    with shop.db.read() as cur:
        assert cur.execute("SELECT kind, ref_type, order_no, note FROM stock_ledger WHERE ref_type = 'return'"
                           ).fetchall() == [(disposition, "return", order_no, no)]
    assert get_return(shop.db, wh, no)["lines"][0]["disposition"] == disposition
    assert run_checks(shop.db)["ok"]


def test_goods_go_into_the_notes_warehouse(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 2}, warehouse="gz")["return_no"]
    returns.inspect_return(shop.db, shop.users["ops_lead"], no, {"PHN-1": "restock"}, receive=True)
    assert balance(shop.db, "GZ", "PHN-1") == (5, 0, 0)
    assert balance(shop.db, "SH", "PHN-1") == (8, 0, 0)
    with pytest.raises(InvalidInput):
        _return(shop, order_no, {"TOY-1": 1}, warehouse="XX")


def test_inspection_needs_the_goods_received_and_every_line_decided(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1, "TOY-1": 2})["return_no"]
    wh = shop.users["warehouse"]
    with pytest.raises(RuleViolation) as info:
        returns.inspect_return(shop.db, wh, no, {"PHN-1": "restock", "TOY-1": "scrap"})
    assert info.value.message("en") == f"Return {no} is Requested; this step needs it to be Received."
    returns.receive_return(shop.db, wh, no)
    with pytest.raises(RuleViolation):
        returns.receive_return(shop.db, wh, no)
    for dispositions, key in (({"PHN-1": "restock"}, "returns.disposition_missing"),
                              ({"PHN-1": "restock", "TOY-1": "burn"}, "returns.bad_disposition"),
                              ({"PHN-1": "restock", "TOY-1": "scrap", "PHN-2": "scrap"}, "returns.sku_not_on_note")):
        with pytest.raises(InvalidInput) as info:
            returns.inspect_return(shop.db, wh, no, dispositions)
        assert info.value.key == key
    assert count(shop.db, "SELECT count(*) FROM stock_ledger WHERE ref_type = 'return'") == 0


def test_only_warehouse_and_leads_receive_and_inspect(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    for role in ("ops", "sales", "finance"):
        with pytest.raises(PermissionDenied):
            returns.receive_return(shop.db, shop.users[role], no)
    with pytest.raises(NotFound):
        returns.receive_return(shop.db, shop.users["warehouse"], "RT-NOPE")


def test_note_closes_at_inspection_when_no_refund_is_pending(shop):
    unpaid = shipped_order(shop, paid=False)
    no = _return(shop, unpaid, {"PHN-1": 1})["return_no"]
    result = returns.inspect_return(shop.db, shop.users["warehouse"], no, {"PHN-1": "restock"}, receive=True)
    assert result["status"] == "closed"
    with shop.db.read() as cur:
        assert [r[0] for r in cur.execute("SELECT action FROM audit_log WHERE entity_type = 'return' ORDER BY id")
                .fetchall()] == ["return.create", "return.receive", "return.inspect", "return.close"]
    assert run_checks(shop.db)["ok"]


def test_note_with_a_pending_refund_stays_inspected_and_cannot_be_closed_by_hand(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    wh = shop.users["warehouse"]
    assert returns.inspect_return(shop.db, wh, no, {"PHN-1": "scrap"}, receive=True)["status"] == "inspected"
    with pytest.raises(RuleViolation) as info:
        returns.close_return(shop.db, wh, no)
    assert info.value.key == "returns.refund_outstanding"


def test_racing_inspections_move_stock_once(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 2})["return_no"]
    returns.receive_return(shop.db, shop.users["warehouse"], no)
    barrier, outcomes = threading.Barrier(2), []

    def attempt(user):
        barrier.wait()
        try:
            outcomes.append(returns.inspect_return(shop.db, user, no, {"PHN-1": "restock"})["status"])
        except (ConcurrentChange, RuleViolation) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(shop.users[r],)) for r in ("warehouse", "ops_lead")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(o, str) for o in outcomes) == 1
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)
    assert run_checks(shop.db)["ok"]


# --- batch and read side ----------------------------------------------------------------------

def test_batch_returns_everything_returnable_of_each_order_in_one_go(shop, order_no):
    other = shipped_order(shop, lines=[LineInput("TOY-1", 4)])
    _return(shop, order_no, {"PHN-1": 1})
    preview = returns.preview_returns_batch(shop.db, shop.users["ops"], [order_no, other, order_no])
    assert [(p["order_no"], p["eligible"], p["value"]) for p in preview] == [(order_no, True, 3297.50),
                                                                             (other, True, 398)]
    results = returns.create_returns_batch(shop.db, shop.users["ops"], [order_no, other], "changed_mind")
    assert [(r["order_no"], r["refund"]) for r in results] == [(order_no, "3297.50"), (other, "398.00")]
    assert returned(shop.db, order_no) == {"PHN-1": 2, "TOY-1": 3}
    assert run_checks(shop.db)["ok"]


def test_batch_with_an_ineligible_order_applies_nothing(shop, order_no):
    pending = orders.create_order(shop.db, shop.users["ops"], "CUS-1", "SH", [LineInput("TOY-1", 1)])["order_no"]
    preview = returns.preview_returns_batch(shop.db, shop.users["ops"], [order_no, pending])
    assert [p["eligible"] for p in preview] == [True, False]
    assert preview[1]["refusal"].key == "returns.not_returnable"
    with pytest.raises(RuleViolation) as info:
        returns.create_returns_batch(shop.db, shop.users["ops"], [order_no, pending], "quality")
    assert pending in info.value.message("en")
    assert count(shop.db, "SELECT count(*) FROM return_notes") == 0


def test_search_returns_filters_and_scopes_sales_to_their_orders(shop, order_no):
    other = shipped_order(shop)
    with shop.db.transaction() as cur:
        cur.execute("UPDATE orders SET rep_id = ? WHERE order_no = ?", [shop.users["sales2"].id, other])
    first = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    second = _return(shop, other, {"TOY-1": 1}, reason="damaged", warehouse="GZ")["return_no"]
    returns.receive_return(shop.db, shop.users["warehouse"], second)
    ops = shop.users["ops"]
    total, page = search_returns(shop.db, ops)
    assert total == 2 and list(page["return_no"]) == [second, first]
    assert list(page["qty"]) == [1, 1]
    assert search_returns(shop.db, ops, statuses=["received"])[0] == 1
    assert search_returns(shop.db, ops, reason="quality")[1]["return_no"].tolist() == [first]
    assert search_returns(shop.db, ops, warehouse="gz")[1]["return_no"].tolist() == [second]
    assert search_returns(shop.db, ops, order_no=order_no[:-2])[0] == 2
    assert search_returns(shop.db, ops, return_no=first)[0] == 1
    assert search_returns(shop.db, ops, date_from="2000-01-01", date_to="2000-01-02")[0] == 0
    assert search_returns(shop.db, ops, limit=1, offset=1)[1]["return_no"].tolist() == [first]
    assert search_returns(shop.db, shop.users["sales"])[1]["return_no"].tolist() == [first]
    with pytest.raises(NotFound):
        get_return(shop.db, shop.users["sales"], second)


def test_a_sku_on_several_lines_fills_them_in_line_order(shop):
    from tests.integration.orders_fixture import insert_order

    for number in ("SO-IMPORTED-1", "SO-IMPORTED-2"):   # imported orders may repeat a SKU
        insert_order(shop.db, number, status="shipped", payment="paid", total="300.00",
                     lines=(("TOY-1", 1, "100.00"), ("TOY-1", 2, "100.00")))
    with shop.db.transaction() as cur:
        cur.execute("UPDATE order_lines SET qty_shipped = qty")
    result = _return(shop, "SO-IMPORTED-1", {"TOY-1": 2})
    assert [ln["qty"] for ln in result["lines"]] == [1, 1]
    with pytest.raises(RuleViolation):
        _return(shop, "SO-IMPORTED-1", {"TOY-1": 2})
    assert returns.create_returns_batch(shop.db, shop.users["ops"], ["SO-IMPORTED-2"], "quality")[0]["refund"] \
        == "300.00"
    with shop.db.read() as cur:
        assert cur.execute("SELECT qty_returned FROM order_lines ORDER BY id").fetchall() == [(1,), (1,), (1,), (2,)]
    assert run_checks(shop.db)["ok"]
