"""The void read side (SPEC §4): reasons, impact previews of one or many orders, the approvals queue."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from lib import clock
from lib.errors import NotFound, PermissionDenied
from lib.queries.voids import QUEUE_COLUMNS, active_reasons, approvals_queue, message_for, preview_batch, preview_void
from lib.services import voids
from tests.integration.void_helpers import make_order

BIG = (("PHN-2", 2),)


def _people(preview):
    return [(p["username"], p["why_key"]) for p in preview["notify"]]


def test_active_reasons_in_catalogue_order_and_language(shop):
    with shop.db.transaction() as cur:
        cur.execute("UPDATE reasons SET active = FALSE WHERE kind = 'void' AND code = 'fraud_risk'")
    reasons = active_reasons(shop.db, "void", "zh")
    assert [r["code"] for r in reasons] == ["customer_cancelled", "out_of_stock", "order_error", "payment_failed",
                                            "other"]
    assert reasons[0] == {"code": "customer_cancelled", "label": "客户取消", "note_required": False}
    assert reasons[-1]["note_required"] is True
    assert active_reasons(shop.db, "return", "en")[0]["label"] == "Quality problem"


def test_preview_shows_stock_refund_and_who_is_told(shop):
    order_no = make_order(shop, paid=True, status="processing")
    p = preview_void(shop.db, shop.users["ops"], order_no, "customer_cancelled")
    assert (p["eligible"], p["refusal"], p["needs_approval"], p["approval_reason"]) == (True, None, False, None)
    assert p["threshold"] == Decimal("10000") and p["refund"] == Decimal("6296.50") and p["status"] == "processing"
    assert p["release"] == [{"warehouse": "SH", "sku": "PHN-1", "product_name": "Phone One", "qty": 2},
                            {"warehouse": "SH", "sku": "TOY-1", "product_name": "Robot 机器人", "qty": 3}]
    assert _people(p) == [("sales", "voids.why.rep"), ("warehouse", "voids.why.processing"),
                          ("finance", "voids.why.refund")]
    assert p["notify"][0]["display_name"] == "Sales" and p["notify"][0]["role"] == "sales"


def test_preview_of_a_big_order_says_it_needs_approval_and_names_the_approvers(shop):
    order_no = make_order(shop, lines=BIG)
    p = preview_void(shop.db, shop.users["ops"], order_no)
    assert (p["eligible"], p["needs_approval"], p["approval_reason"]) == (True, True, "threshold")
    assert _people(p) == [("ops_lead", "voids.why.approver"), ("sales", "voids.why.rep")]


def test_preview_of_a_pending_request_shows_what_approving_would_do(shop):
    order_no = make_order(shop, by="sales", paid=True)
    voids.void_order(shop.db, shop.users["sales"], order_no, "order_error")
    p = preview_void(shop.db, shop.users["ops_lead"], order_no)
    assert (p["eligible"], p["refusal"]) == (False, "voids.request_pending")
    assert (p["needs_approval"], p["approval_reason"], p["refund"]) == (True, "sales_request", Decimal("6296.50"))
    assert _people(p) == [("sales", "voids.why.requester"), ("finance", "voids.why.refund")]


@pytest.mark.parametrize("user, status, key, words", [
    ("ops", "shipped", "voids.shipped_use_return", "return instead"),
    ("ops", "completed", "voids.completed_use_return", "through a return"),
    ("analyst", "pending", "error.permission", "Only operations staff"),
])
def test_preview_says_why_an_order_cannot_be_voided(shop, user, status, key, words):
    order_no = make_order(shop, status=status)
    p = preview_void(shop.db, shop.users[user], order_no, lang="zh")
    assert (p["eligible"], p["refusal"]) == (False, key)
    assert words in message_for(p["refusal"], p["refusal_params"], "en")
    assert p["refusal_message"] == message_for(p["refusal"], p["refusal_params"], "zh")
    if status != "pending":
        assert p["release"] == [] and p["notify"] == []


def test_preview_with_an_unknown_reason_is_refused(shop):
    p = preview_void(shop.db, shop.users["ops"], make_order(shop), "made_up")
    assert (p["eligible"], p["refusal"], p["refusal_params"]) == (False, "voids.unknown_reason", {"code": "made_up"})


def test_sales_rep_previews_only_their_own_orders(shop):
    with pytest.raises(NotFound) as info:
        preview_void(shop.db, shop.users["sales"], make_order(shop, rep="sales2"))
    assert "was not found" in info.value.message("en")
    p = preview_void(shop.db, shop.users["sales"], make_order(shop, by="sales"))
    assert (p["eligible"], p["approval_reason"]) == (True, "sales_request")


def test_preview_lists_the_customers_voids_of_the_last_90_days(shop):
    old, recent, current = make_order(shop), make_order(shop), make_order(shop)
    for order_no, reason in ((old, "fraud_risk"), (recent, "out_of_stock")):
        voids.void_order(shop.db, shop.users["ops"], order_no, reason)
    with shop.db.transaction() as cur:
        cur.execute("UPDATE voids SET applied_at = ? WHERE order_no = ?", [clock.now() - timedelta(days=100), old])
    p = preview_void(shop.db, shop.users["ops"], current, lang="zh")
    assert [(v["order_no"], v["reason_label"], v["total"]) for v in p["customer_voids_90d"]] == \
           [(recent, "缺货", Decimal("6296.50"))]
    assert (p["customer_void_count_90d"], p["customer_orders_90d"]) == (1, 3)
    assert isinstance(p["customer_voids_90d"][0]["voided_at"], datetime)


def test_preview_batch_gives_each_order_its_outcome(shop):
    numbers = [make_order(shop), make_order(shop, lines=BIG), make_order(shop, status="shipped"), "SO-NOPE"]
    previews = preview_batch(shop.db, shop.users["ops"], numbers + [numbers[0]], "out_of_stock")
    assert [p["order_no"] for p in previews] == numbers
    assert [p["outcome_if_confirmed"] for p in previews] == ["voided", "pending_approval", "refused", "refused"]
    assert previews[3]["refusal"] == "orders.not_found" and previews[3]["version"] is None
    assert previews[0]["customer_orders_90d"] == 3 and previews[0]["release"][0]["sku"] == "PHN-1"


def test_approvals_queue_lists_waiting_requests_oldest_first(shop):
    first, second, decided = (make_order(shop, by="sales") for _ in range(3))
    voids.void_order(shop.db, shop.users["sales"], first, "other", "customer <i>unsure</i>")
    voids.void_order(shop.db, shop.users["sales"], second, "out_of_stock")
    voids.void_order(shop.db, shop.users["sales"], decided, "out_of_stock")
    voids.reject(shop.db, shop.users["admin"], decided, "no")
    queue = approvals_queue(shop.db, shop.users["ops_lead"], "zh")
    assert list(queue.columns) == QUEUE_COLUMNS
    assert list(queue["order_no"]) == [first, second]
    row = queue.iloc[0]
    assert (row["reason_label"], row["note"], row["requested_by"], row["approval_reason"]) == \
           ("其他", "customer <i>unsure</i>", "Sales", "sales_request")
    assert row["customer"] == "Acme Trading 艾克美" and row["age"] == "0分钟"
    with pytest.raises(PermissionDenied):
        approvals_queue(shop.db, shop.users["sales"], "en")
