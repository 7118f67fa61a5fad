"""Voiding, approving, rejecting, restoring (SPEC §4) through lib.services.voids, on a real DuckDB file."""
import json
from datetime import timedelta

import pytest

from lib import clock
from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from lib.queries.check import run_checks
from lib.queries.orders import timeline
from lib.services import voids
from tests.conftest import balance
from tests.integration.void_helpers import (audit_of, inbox, make_order, order_row, refunds_of, voids_of)

BIG = (("PHN-2", 2),)   # 13,000.00: at or above the approval threshold


def _void(shop, order_no, user="ops", reason="customer_cancelled", note=None, **kw):
    return voids.void_order(shop.db, shop.users[user], order_no, reason, note, **kw)


def _set(db, sql, params):
    with db.transaction() as cur:
        cur.execute(sql, params)


def test_void_releases_reserved_stock_and_checks_stay_ok(shop):
    order_no = make_order(shop)
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0)
    result = _void(shop, order_no)
    assert result["outcome"] == "voided" and result["refund"] == "0.00"
    assert result["released"] == [{"warehouse": "SH", "sku": "PHN-1", "qty": 2},
                                  {"warehouse": "SH", "sku": "TOY-1", "qty": 3}]
    assert result["message"] == f"Order {order_no} voided: 5 reserved unit(s) released, refund owed ¥0.00."
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0) and balance(shop.db, "SH", "TOY-1") == (100, 0, 0)
    order = order_row(shop.db, order_no)
    assert order["status"] == "voided" and order["voided_at"] is not None and order["version"] == 2
    [void] = voids_of(shop.db, order_no)
    assert (void["status"], void["status_before"], void["id"]) == ("applied", "pending", result["void_id"])
    with shop.db.read() as cur:
        ledger = cur.execute("SELECT sku, d_reserved, ref_type, ref_id FROM stock_ledger WHERE kind = 'release'"
                             " ORDER BY sku").fetchall()
        history = cur.execute("SELECT from_status, to_status FROM order_status_history WHERE to_status = 'voided'"
                              ).fetchall()
    assert ledger == [("PHN-1", -2, "void", void["id"]), ("TOY-1", -3, "void", void["id"])]
    assert history == [("pending", "voided")]
    assert run_checks(shop.db)["ok"]


def test_refund_is_created_only_when_the_order_was_paid(shop):
    unpaid, paid = make_order(shop), make_order(shop, paid=True)
    _void(shop, unpaid)
    assert refunds_of(shop.db, unpaid) == []
    result = _void(shop, paid)
    [refund] = refunds_of(shop.db, paid)
    assert result["refund"] == "6296.50"
    assert (refund["source"], refund["source_id"], refund["status"], str(refund["amount"])) == \
           ("void", result["void_id"], "pending", "6296.50")
    assert str(voids_of(shop.db, paid)[0]["amount_paid"]) == "6296.50"
    assert order_row(shop.db, paid)["payment_status"] == "paid"   # follows refunds paid out, not owed


def test_notifications_reach_the_rep_finance_and_the_warehouse(shop):
    quiet = make_order(shop)
    _void(shop, quiet)
    assert inbox(shop.db, quiet) == [("sales", "void.applied")]
    busy = make_order(shop, paid=True, status="processing")
    _void(shop, busy)
    assert inbox(shop.db, busy) == [("finance", "refund.created"), ("sales", "void.applied"),
                                    ("warehouse", "void.applied")]
    with shop.db.read() as cur:
        params = json.loads(cur.execute("SELECT params FROM notifications WHERE kind = 'refund.created'"
                                        ).fetchall()[0][0])
    assert params == {"order_no": busy, "amount": "6296.50", "source": "void"}


def test_audit_records_reason_code_and_label_note_and_before_after(shop):
    order_no = make_order(shop, status="processing")
    _void(shop, order_no, reason="other", note="customer moved <b>abroad</b>")
    [entry] = audit_of(shop.db, order_no, "void.apply")
    before, after = json.loads(entry["before"]), json.loads(entry["after"])
    assert entry["actor_name"] == "ops" and entry["entity_type"] == "void"
    assert entry["note"] == "customer moved <b>abroad</b>"
    assert before["status"] == "processing"
    assert (after["status"], after["reason"], after["reason_label_en"], after["reason_label_zh"]) == \
           ("voided", "other", "Other", "其他")


def test_renaming_a_reason_afterwards_keeps_the_label_the_void_used(shop):
    order_no = make_order(shop)
    _void(shop, order_no)
    _set(shop.db, "UPDATE reasons SET label_en = 'Client withdrew', label_zh = '客户撤单'"
                  " WHERE kind = 'void' AND code = 'customer_cancelled'", [])
    [void] = voids_of(shop.db, order_no)
    assert (void["reason_label_en"], void["reason_label_zh"]) == ("Customer cancelled", "客户取消")
    events = timeline(shop.db, shop.users["ops"], void["order_id"], "zh")
    assert any(e["kind"] == "void_applied" and "客户取消" in e["summary"] for e in events)


@pytest.mark.parametrize("status, words", [("shipped", "return instead"), ("completed", "through a return")])
def test_shipped_or_completed_order_is_refused_and_pointed_to_returns(shop, status, words):
    order_no = make_order(shop, status=status)
    with pytest.raises(RuleViolation) as info:
        _void(shop, order_no)
    assert words in info.value.message("en") and "退库" in info.value.message("zh")
    assert order_row(shop.db, order_no)["status"] == status and voids_of(shop.db, order_no) == []


def test_voided_order_cannot_be_voided_again(shop):
    order_no = make_order(shop)
    _void(shop, order_no)
    with pytest.raises(RuleViolation) as info:
        _void(shop, order_no, user="ops_lead")
    assert info.value.message("en") == f"Order {order_no} is already voided."


@pytest.mark.parametrize("reason, note, key", [
    ("other", None, "voids.note_required"),
    ("other", "   ", "voids.note_required"),
    ("no_such_reason", None, "voids.unknown_reason"),
    ("customer_cancelled'; DROP TABLE voids; --", None, "voids.unknown_reason"),
    ("customer_cancelled", "x" * 2001, "voids.note_too_long"),
])
def test_bad_reason_or_note_is_refused_and_changes_nothing(shop, reason, note, key):
    order_no = make_order(shop)
    with pytest.raises(InvalidInput) as info:
        _void(shop, order_no, reason=reason, note=note)
    assert info.value.key == key
    assert order_row(shop.db, order_no)["version"] == 1 and balance(shop.db, "SH", "PHN-1") == (10, 2, 0)


def test_a_retired_reason_can_no_longer_be_used(shop):
    _set(shop.db, "UPDATE reasons SET active = FALSE WHERE kind = 'void' AND code = 'fraud_risk'", [])
    with pytest.raises(InvalidInput):
        _void(shop, make_order(shop), reason="fraud_risk")


def test_threshold_void_becomes_a_request_and_changes_nothing_else(shop):
    order_no = make_order(shop, lines=BIG, paid=True)
    result = _void(shop, order_no, note="duplicate order")
    assert result["outcome"] == "pending_approval" and result["refund"] == "0.00" and result["released"] == []
    assert "waits for an operations lead" in result["message"]
    order = order_row(shop.db, order_no)
    assert order["status"] == "pending" and order["voided_at"] is None and order["payment_status"] == "paid"
    assert balance(shop.db, "SH", "PHN-2") == (5, 2, 0) and refunds_of(shop.db, order_no) == []
    [void] = voids_of(shop.db, order_no)
    assert (void["status"], void["needs_approval"], void["approval_reason"], void["applied_at"]) == \
           ("pending_approval", True, "threshold", None)
    assert inbox(shop.db, order_no) == [("ops_lead", "void.requested"), ("sales", "void.requested")]
    assert len(audit_of(shop.db, order_no, "void.request")) == 1 and audit_of(shop.db, order_no, "void.apply") == []
    with pytest.raises(RuleViolation) as info:   # one request at a time
        _void(shop, order_no, user="admin")
    assert "already has a void request" in info.value.message("en")
    assert run_checks(shop.db)["ok"]


def test_sales_rep_may_only_request_voids_of_their_own_orders(shop):
    own = make_order(shop, by="sales")
    result = _void(shop, own, user="sales")
    assert result["outcome"] == "pending_approval" and voids_of(shop.db, own)[0]["approval_reason"] == "sales_request"
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0)
    with pytest.raises(NotFound):
        _void(shop, make_order(shop, rep="sales2"), user="sales")
    _set(shop.db, "UPDATE settings SET value = 'false' WHERE key = 'sales_may_request_voids'", [])
    with pytest.raises(RuleViolation) as info:
        _void(shop, make_order(shop, by="sales"), user="sales")
    assert info.value.key == "voids.sales_requests_off"


@pytest.mark.parametrize("role", ["analyst", "finance", "warehouse"])
def test_roles_without_void_rights_are_told_who_may(shop, role):
    with pytest.raises(PermissionDenied) as info:
        _void(shop, make_order(shop), user=role)
    assert "operations" in info.value.message("en")


def test_requester_cannot_decide_their_own_request(shop):
    order_no = make_order(shop, lines=BIG)
    _void(shop, order_no, user="ops_lead")
    for decide in (lambda: voids.approve(shop.db, shop.users["ops_lead"], order_no),
                   lambda: voids.reject(shop.db, shop.users["ops_lead"], order_no, "no")):
        with pytest.raises(RuleViolation) as info:
            decide()
        assert info.value.key == "voids.own_request"
    assert voids_of(shop.db, order_no)[0]["status"] == "pending_approval"
    with pytest.raises(PermissionDenied):
        voids.approve(shop.db, shop.users["ops"], order_no)
    assert voids.approve(shop.db, shop.users["admin"], order_no)["outcome"] == "voided"


def test_approve_applies_the_void_and_tells_requester_rep_and_finance(shop):
    order_no = make_order(shop, by="sales", paid=True, status="processing")
    _void(shop, order_no, user="sales", reason="order_error", note="wrong address")
    result = voids.approve(shop.db, shop.users["ops_lead"], order_no, "ok, customer confirmed")
    assert (result["outcome"], result["decision"], result["refund"]) == ("voided", "approved", "6296.50")
    assert order_row(shop.db, order_no)["status"] == "voided" and balance(shop.db, "SH", "PHN-1") == (10, 0, 0)
    [void] = voids_of(shop.db, order_no)
    assert (void["status"], void["decided_by"], void["decision_note"], void["status_before"], void["note"]) == \
           ("applied", shop.users["ops_lead"].id, "ok, customer confirmed", "processing", "wrong address")
    assert inbox(shop.db, order_no) == [("finance", "refund.created"), ("ops_lead", "void.requested"),
                                        ("sales", "void.approved"), ("warehouse", "void.applied")]
    assert [len(audit_of(shop.db, order_no, a)) for a in ("void.request", "void.approve", "void.apply")] == [1, 1, 1]
    kinds = [e["kind"] for e in timeline(shop.db, shop.users["ops"], void["order_id"])]
    assert {"void_requested", "void_approved", "void_applied", "refund_created"} <= set(kinds)
    assert run_checks(shop.db)["ok"]


def test_approve_rechecks_the_order_and_leaves_the_request_open(shop):
    order_no = make_order(shop, by="sales")
    _void(shop, order_no, user="sales")
    _set(shop.db, "UPDATE orders SET status = 'completed' WHERE order_no = ?", [order_no])  # e.g. an import
    with pytest.raises(RuleViolation) as info:
        voids.approve(shop.db, shop.users["ops_lead"], order_no)
    assert "can no longer be voided" in info.value.message("en")
    assert voids_of(shop.db, order_no)[0]["status"] == "pending_approval"
    with pytest.raises(RuleViolation) as info:
        voids.approve(shop.db, shop.users["ops_lead"], make_order(shop))
    assert info.value.key == "voids.no_pending_request"


def test_reject_needs_a_note_keeps_the_order_and_tells_the_requester(shop):
    order_no = make_order(shop, by="sales")
    _void(shop, order_no, user="sales")
    with pytest.raises(InvalidInput):
        voids.reject(shop.db, shop.users["ops_lead"], order_no, "  ")
    result = voids.reject(shop.db, shop.users["ops_lead"], order_no, "customer still wants it")
    assert (result["outcome"], result["decision"]) == ("rejected", "rejected")
    [void] = voids_of(shop.db, order_no)
    assert (void["status"], void["decision_note"]) == ("rejected", "customer still wants it")
    order = order_row(shop.db, order_no)
    assert order["status"] == "pending" and balance(shop.db, "SH", "PHN-1") == (10, 2, 0)
    assert ("sales", "void.rejected") in inbox(shop.db, order_no)
    assert len(audit_of(shop.db, order_no, "void.reject")) == 1
    assert _void(shop, order_no)["outcome"] == "voided"   # decided: a new void is possible


def test_restore_within_the_window_reserves_again_and_cancels_the_refund(shop):
    order_no = make_order(shop, paid=True, status="processing")
    _void(shop, order_no)
    with pytest.raises(InvalidInput):
        voids.restore(shop.db, shop.users["ops_lead"], order_no, "")
    with pytest.raises(PermissionDenied):
        voids.restore(shop.db, shop.users["ops"], order_no, "oops")
    result = voids.restore(shop.db, shop.users["ops_lead"], order_no, "voided the wrong order")
    assert (result["outcome"], result["status"], result["refund_cancelled"]) == ("restored", "processing", "6296.50")
    order = order_row(shop.db, order_no)
    assert order["status"] == "processing" and order["voided_at"] is None
    assert balance(shop.db, "SH", "PHN-1") == (10, 2, 0) and balance(shop.db, "SH", "TOY-1") == (100, 3, 0)
    [refund] = refunds_of(shop.db, order_no)
    assert (refund["status"], refund["cancelled_by"]) == ("cancelled", shop.users["ops_lead"].id)
    [void] = voids_of(shop.db, order_no)
    assert (void["status"], void["restore_note"], void["applied_at"] is not None) == \
           ("restored", "voided the wrong order", True)
    assert {("sales", "void.restored"), ("warehouse", "void.restored"), ("finance", "refund.cancelled")} <= \
           set(inbox(shop.db, order_no))
    kinds = [e["kind"] for e in timeline(shop.db, shop.users["ops"], void["order_id"])]
    assert "void_restored" in kinds and "void_applied" in kinds and "refund_cancelled" in kinds
    assert len(audit_of(shop.db, order_no, "void.restore")) == 1
    assert run_checks(shop.db)["ok"]
    assert _void(shop, order_no)["outcome"] == "voided"   # and it can be voided again


def test_restore_is_refused_after_the_window(shop):
    order_no = make_order(shop)
    _void(shop, order_no)
    _set(shop.db, "UPDATE voids SET applied_at = ? WHERE order_no = ?", [clock.now() - timedelta(hours=73),
                                                                         order_no])
    with pytest.raises(RuleViolation) as info:
        voids.restore(shop.db, shop.users["ops_lead"], order_no, "too late")
    assert "within 72 hours" in info.value.message("en")
    assert order_row(shop.db, order_no)["status"] == "voided"


def test_restore_is_refused_with_the_shortfall_per_sku(shop):
    order_no = make_order(shop)                              # PHN-1 ×2, TOY-1 ×3
    _void(shop, order_no)
    make_order(shop, lines=(("PHN-1", 9), ("TOY-1", 99)))   # leaves 1 and 1 available
    with pytest.raises(RuleViolation) as info:
        voids.restore(shop.db, shop.users["admin"], order_no, "customer came back")
    message = info.value.message("en")
    assert "PHN-1 (SH): needs 2, available 1" in message and "TOY-1 (SH): needs 3, available 1" in message
    assert order_row(shop.db, order_no)["status"] == "voided" and voids_of(shop.db, order_no)[0]["status"] == "applied"
    assert run_checks(shop.db)["ok"]


def test_restore_is_blocked_when_the_refund_was_paid_out(shop):
    order_no = make_order(shop, paid=True)
    _void(shop, order_no)
    _set(shop.db, "UPDATE refunds SET status = 'paid', paid_at = now() WHERE order_no = ?", [order_no])
    with pytest.raises(RuleViolation) as info:
        voids.restore(shop.db, shop.users["ops_lead"], order_no, "customer came back")
    assert "already paid out" in info.value.message("en")
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)


def test_restore_needs_a_voided_order(shop):
    with pytest.raises(RuleViolation) as info:
        voids.restore(shop.db, shop.users["ops_lead"], make_order(shop), "why not")
    assert info.value.key == "voids.restore_not_voided"


def test_double_submit_voids_once_with_one_refund(shop):
    order_no = make_order(shop, paid=True)
    first = _void(shop, order_no, submission_key="form-1")
    again = _void(shop, order_no, submission_key="form-1")
    assert first == again and first["outcome"] == "voided"
    assert len(voids_of(shop.db, order_no)) == 1 and len(refunds_of(shop.db, order_no)) == 1
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)


def test_stale_expected_version_is_refused_as_changed_meanwhile(shop):
    order_no = make_order(shop)
    version = order_row(shop.db, order_no)["version"]
    _set(shop.db, "UPDATE orders SET version = version + 1 WHERE order_no = ?", [order_no])
    with pytest.raises(ConcurrentChange) as info:
        _void(shop, order_no, expected_version=version)
    assert info.value.key == "orders.changed_meanwhile" and order_row(shop.db, order_no)["status"] == "pending"


def test_the_order_carries_whether_a_void_request_waits_and_check_watches_it(shop):
    # orders.void_requested lets a void read the order alone (issue #14): set by a request, cleared by a decision.
    order_no = make_order(shop, by="sales")
    waiting = lambda: order_row(shop.db, order_no)["void_requested"]  # noqa: E731
    assert not waiting()
    _void(shop, order_no, user="sales")
    assert waiting()
    voids.reject(shop.db, shop.users["ops_lead"], order_no, "customer still wants it")
    assert not waiting()
    _void(shop, order_no, user="sales")
    voids.approve(shop.db, shop.users["ops_lead"], order_no)
    assert not waiting() and order_row(shop.db, order_no)["status"] == "voided"
    assert run_checks(shop.db)["ok"]
    _set(shop.db, "UPDATE orders SET void_requested = TRUE WHERE order_no = ?", [order_no])
    [problem] = run_checks(shop.db)["problems"]
    assert problem["check"] == "void_requests_marked_on_orders"
    assert problem["examples"] == [f"{order_no}: marked as waiting for a void decision, none waits"]
