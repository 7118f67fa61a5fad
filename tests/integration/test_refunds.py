"""Refunds (SPEC §7): the queue for finance, paying out once, the payment state that follows."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from lib import clock
from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries.check import run_checks
from lib.queries.refunds import refund_queue, refund_totals_per_day
from lib.queries.returns import get_return
from lib.services import idempotency, returns
from lib.services.refunds import mark_paid
from tests.integration.returns_fixture import count, order_row, shipped_order

NASTY = "=cmd|' /C calc'!A0 <b>bold</b> '; DROP TABLE refunds; --"


@pytest.fixture
def order_no(shop):
    return shipped_order(shop)


def _return(shop, order_no, lines, **kw):
    return returns.create_return(shop.db, shop.users["ops"], order_no, lines, "quality", **kw)


def _pending_id(shop) -> int:
    return int(refund_queue(shop.db, shop.users["finance"])["id"].iloc[-1])


def test_paying_out_moves_the_order_to_partially_refunded_then_refunded(shop, order_no):
    _return(shop, order_no, {"PHN-1": 1})
    finance = shop.users["finance"]
    result = mark_paid(shop.db, finance, _pending_id(shop), "BANK-001")
    assert (result["status"], result["amount"], result["payment_status"]) == ("paid", "2999.00", "partially_refunded")
    order = order_row(shop.db, order_no)
    assert (order["amount_refunded"], order["payment_status"]) == (Decimal("2999.00"), "partially_refunded")
    _return(shop, order_no, {"PHN-1": 1, "TOY-1": 3})
    assert mark_paid(shop.db, finance, _pending_id(shop), "BANK-002")["payment_status"] == "refunded"
    order = order_row(shop.db, order_no)
    assert (order["amount_refunded"], order["payment_status"]) == (Decimal("6296.50"), "refunded")
    assert run_checks(shop.db)["ok"]


def test_a_refund_is_never_paid_out_twice(shop, order_no):
    _return(shop, order_no, {"PHN-1": 1})
    refund_id = _pending_id(shop)
    finance = shop.users["finance"]
    first = mark_paid(shop.db, finance, refund_id, "BANK-001", submission_key="pay-1")
    assert mark_paid(shop.db, finance, refund_id, "BANK-001", submission_key="pay-1") == first   # double click
    with pytest.raises(RuleViolation) as info:
        mark_paid(shop.db, shop.users["admin"], refund_id, "BANK-999")
    assert "already paid out (ref. BANK-001)" in info.value.message("en")
    assert order_row(shop.db, order_no)["amount_refunded"] == Decimal("2999.00")
    assert count(shop.db, "SELECT count(*) FROM audit_log WHERE action = 'refund.paid'") == 1


def test_a_double_click_racing_the_first_gets_the_first_answer_not_already_paid(shop, order_no, monkeypatch):
    # issue #8 (found by tests/integration/test_hammer.py): the second click looked for its form key before the
    # first click committed, then found the refund paid by it. It must answer as the first did, not "already paid".
    _return(shop, order_no, {"PHN-1": 1})
    refund_id = _pending_id(shop)
    first = mark_paid(shop.db, shop.users["finance"], refund_id, "BANK-1", submission_key="pay-form")
    real, looks = idempotency.prior, []

    def as_seen_before_the_first_commit(db, key):
        looks.append(key)
        return None if len(looks) == 1 else real(db, key)

    monkeypatch.setattr(idempotency, "prior", as_seen_before_the_first_commit)
    assert mark_paid(shop.db, shop.users["finance"], refund_id, "BANK-1", submission_key="pay-form") == first
    assert count(shop.db, "SELECT count(*) FROM audit_log WHERE action = 'refund.paid'") == 1


def test_racing_pay_outs_pay_once(shop, order_no):
    _return(shop, order_no, {"PHN-1": 2})
    refund_id = _pending_id(shop)
    barrier, outcomes = threading.Barrier(2), []

    def attempt(user, ref):
        barrier.wait()
        try:
            outcomes.append(mark_paid(shop.db, user, refund_id, ref)["status"])
        except (ConcurrentChange, RuleViolation) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(shop.users[r], r)) for r in ("finance", "admin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("paid") == 1
    assert order_row(shop.db, order_no)["amount_refunded"] == Decimal("5998.00")
    assert run_checks(shop.db)["ok"]


def test_paying_needs_finance_and_a_reference(shop, order_no):
    _return(shop, order_no, {"PHN-1": 1})
    refund_id = _pending_id(shop)
    for role in ("ops", "ops_lead", "warehouse"):
        with pytest.raises(PermissionDenied) as info:
            mark_paid(shop.db, shop.users[role], refund_id, "X")
    assert info.value.message("en") == "Only finance staff and administrators can mark refunds paid out."
    with pytest.raises(InvalidInput):
        mark_paid(shop.db, shop.users["finance"], refund_id, "   ")
    with pytest.raises(NotFound):
        mark_paid(shop.db, shop.users["finance"], 999, "X")
    assert order_row(shop.db, order_no)["payment_status"] == "paid"


def test_the_reference_is_stored_verbatim_and_the_rep_is_told(shop, order_no):
    _return(shop, order_no, {"TOY-1": 1})
    mark_paid(shop.db, shop.users["finance"], _pending_id(shop), NASTY)
    paid = refund_queue(shop.db, shop.users["finance"], status="paid")
    assert paid["payment_ref"].tolist() == [NASTY]
    with shop.db.read() as cur:
        kinds = cur.execute("SELECT u.username, n.kind FROM notifications n JOIN users u ON u.id = n.user_id"
                            " WHERE n.kind = 'refund.paid'").fetchall()
    assert kinds == [("sales", "refund.paid")]


def test_paying_a_returns_refund_closes_an_inspected_note(shop, order_no):
    no = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    returns.inspect_return(shop.db, shop.users["warehouse"], no, {"PHN-1": "restock"}, receive=True)
    assert get_return(shop.db, shop.users["ops"], no)["status"] == "inspected"
    mark_paid(shop.db, shop.users["finance"], _pending_id(shop), "BANK-7")
    assert get_return(shop.db, shop.users["ops"], no)["status"] == "closed"
    assert run_checks(shop.db)["ok"]


def test_queue_lists_pending_oldest_first_with_its_source_and_reason(shop, order_no):
    first = _return(shop, order_no, {"PHN-1": 1})["return_no"]
    second = _return(shop, order_no, {"TOY-1": 2})["return_no"]
    finance = shop.users["finance"]
    queue = refund_queue(shop.db, finance)
    assert queue["return_no"].tolist() == [first, second]
    assert queue[["source", "reason_code", "customer", "rep"]].iloc[0].tolist() == \
        ["return", "quality", "Acme Trading 艾克美", "Sales"]
    mark_paid(shop.db, finance, int(queue["id"].iloc[0]), "B1")
    assert refund_queue(shop.db, finance)["return_no"].tolist() == [second]
    assert len(refund_queue(shop.db, finance, status=None)) == 2
    assert refund_queue(shop.db, finance, date_from=clock.today() + timedelta(days=1)).empty
    with pytest.raises(InvalidInput):
        refund_queue(shop.db, finance, status="lost")
    with pytest.raises(PermissionDenied):
        refund_queue(shop.db, shop.users["sales"])


def test_totals_per_day_cover_every_day_of_the_range(shop, order_no):
    _return(shop, order_no, {"PHN-1": 1})
    _return(shop, order_no, {"TOY-1": 2})
    finance = shop.users["finance"]
    mark_paid(shop.db, finance, int(refund_queue(shop.db, finance)["id"].iloc[0]), "B1")
    today = clock.today()
    totals = refund_totals_per_day(shop.db, finance, today - timedelta(days=6), today)
    assert len(totals) == 7 and totals["count"].sum() == 2
    last = totals.iloc[-1]
    assert (last["count"], last["created_amount"], last["pending_amount"], last["paid_count"], last["paid_amount"]) \
        == (2, 3198.0, 199.0, 1, 2999.0)
    with pytest.raises(InvalidInput):
        refund_totals_per_day(shop.db, finance, today, today - timedelta(days=3))
