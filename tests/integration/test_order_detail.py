"""One order's detail and its merged timeline (SPEC §2) against a real DuckDB."""
from datetime import datetime
from decimal import Decimal

import pytest

from lib.errors import NotFound
from lib.queries.orders import get_order, render_summary, timeline
from lib.services.void_writes import mark_void_requests
from tests.integration.orders_fixture import insert_order

NO = "SO-20240110-00007"


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2024-01-10 {hhmm}:00")


@pytest.fixture
def story(shop):
    """One order that went through every kind of event, recorded with exact times."""
    db = shop.db
    shop.order_id = oid = insert_order(db, NO, rep="sales", assignee="warehouse", status="shipped", payment="paid",
                                       total="6097.50", created="2024-01-10 10:00:00",
                                       lines=[("PHN-1", 2, "2999.00"), ("TOY-1", 1, "99.50")])
    u = {name: user.id for name, user in shop.users.items()}
    with db.transaction() as cur:
        history = [("10:00", None, "pending", "sales", None), ("10:05", "pending", "processing", "ops", "picked"),
                   ("12:30", "processing", "voided", "ops_lead", None),
                   ("13:00", "voided", "processing", "ops_lead", None),
                   ("14:00", "processing", "shipped", "ops", None)]
        for hhmm, before, after, who, note in history:
            cur.execute("INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at,"
                        " note) VALUES (?, ?, ?, ?, ?, ?)", [oid, before, after, u[who], at(hhmm), note])
        cur.execute("INSERT INTO assignments (order_id, from_user_id, to_user_id, by_user_id, created_at, note)"
                    " VALUES (?, NULL, ?, ?, ?, 'please handle'), (?, ?, ?, ?, ?, NULL)",
                    [oid, u["ops"], u["ops_lead"], at("10:10"), oid, u["ops"], u["warehouse"], u["ops_lead"],
                     at("10:20")])
        cur.execute("INSERT INTO comments (order_id, author_id, created_at, body) VALUES (?, ?, ?, ?)",
                    [oid, u["ops"], at("10:30"), "<b>call</b> the customer & **check**"])
        _void(cur, oid, "rejected", "11:00", u["sales"], decided=("11:30", u["ops_lead"], "keep it"))
        _void(cur, oid, "restored", "12:00", u["sales"], decided=("12:30", u["ops_lead"], None), applied="12:30",
              restored=("13:00", u["ops_lead"], "customer changed mind again"))
        cur.execute("INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at,"
                    " created_by, cancelled_at, cancelled_by)"
                    " VALUES (?, ?, 'void', 2, 6097.50, 'cancelled', ?, ?, ?, ?)",
                    [oid, NO, at("12:30"), u["ops_lead"], at("13:00"), u["ops_lead"]])
        cur.execute("INSERT INTO return_notes (return_no, order_id, order_no, status, reason_code, reason_label_en,"
                    " reason_label_zh, note, warehouse, refund_amount, requested_by, created_at, received_by,"
                    " received_at, inspected_by, inspected_at, closed_at) VALUES ('RT-20240110-00001', ?, ?, 'closed',"
                    " 'quality', 'Quality problem', '质量问题', 'scratched', 'SH', 3098.50, ?, ?, ?, ?, ?, ?, ?)",
                    [oid, NO, u["ops"], at("15:00"), u["warehouse"], at("16:00"), u["warehouse"], at("17:00"),
                     at("17:00")])
        cur.execute("INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price, disposition)"
                    " VALUES (1, 1, 'PHN-1', 1, 2999.00, 'restock'), (1, 2, 'TOY-1', 1, 99.50, 'scrap')")
        cur.execute("INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at,"
                    " created_by, paid_at, paid_by, payment_ref)"
                    " VALUES (?, ?, 'return', 1, 3098.50, 'paid', ?, ?, ?, ?, 'BANK-42')",
                    [oid, NO, at("17:05"), u["warehouse"], at("18:00"), u["finance"]])
        _audit(cur, "14:00", u["ops"], "order.status", "order", oid, '{"status": "processing"}',
               '{"status": "shipped"}')
        _audit(cur, "10:30", u["ops"], "order.comment", "comment", 1, None, '{"body": "x"}')
        _audit(cur, "19:00", u["ops_lead"], "order.update", "order", oid, '{"warehouse": "SH", "total": "1"}',
               '{"warehouse": "GZ", "total": "1"}', note="moved to Guangzhou")
        _audit(cur, "19:30", None, "order.pay", "order", oid, None, None, actor_name="erp-sync")
    return shop


def _void(cur, oid, status, requested, by, decided=None, applied=None, restored=None):
    d_at, d_by, d_note = decided or (None, None, None)
    r_at, r_by, r_note = restored or (None, None, None)
    cur.execute(
        "INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh, note,"
        " requested_by, requested_at, needs_approval, approval_reason, decided_by, decided_at, decision_note,"
        " applied_at, status_before, restored_by, restored_at, restore_note)"
        " VALUES (?, ?, ?, 'customer_cancelled', 'Customer cancelled', '客户取消', 'they called', ?, ?, TRUE,"
        " 'sales_request', ?, ?, ?, ?, 'processing', ?, ?, ?)",
        [oid, NO, status, by, at(requested), d_by, d_at and at(d_at), d_note, applied and at(applied), r_by,
         r_at and at(r_at), r_note])
    mark_void_requests(cur)   # as the services keep orders.void_requested


def _audit(cur, hhmm, actor_id, action, entity_type, entity_id, before, after, note=None, actor_name=None):
    cur.execute("INSERT INTO audit_log (created_at, actor_id, actor_name, action, entity_type, entity_id, order_no,"
                " before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [at(hhmm), actor_id, actor_name, action, entity_type, str(entity_id), NO, before, after, note])


# --- get_order ------------------------------------------------------------------------------

def test_get_order_returns_header_lines_with_stock_and_counts(story):
    order = get_order(story.db, story.users["ops"], NO)
    assert (order["order_no"], order["status"], order["payment_status"]) == (NO, "shipped", "paid")
    assert (order["customer_name"], order["customer_code"]) == ("Acme Trading 艾克美", "CUS-1")
    assert (order["rep"], order["rep_name"], order["assignee"], order["assignee_name"]) == \
        ("sales", "Sales", "warehouse", "Warehouse")
    assert order["total"] == Decimal("6097.50") and order["amount_paid"] == Decimal("6097.50")
    assert order["created_at"] == at("10:00") and order["version"] == 1
    first, second = order["lines"]
    assert (first["line_no"], first["sku"], first["product_name"], first["category"]) == \
        (1, "PHN-1", "Phone One", "phones")
    assert (first["qty"], first["amount"], first["available"]) == (2, Decimal("5998.00"), 10)
    assert (second["sku"], second["available"], second["qty_returned"]) == ("TOY-1", 100, 0)
    assert order["counts"] == {"voids": 2, "returns": 1, "refunds": 2}
    assert order["pending_void"] is None


def test_available_stock_is_read_in_the_orders_warehouse(story):
    insert_order(story.db, "SO-GZ", warehouse="GZ", lines=[("PHN-1", 1, "1.00"), ("PHN-2", 1, "1.00")])
    lines = get_order(story.db, story.users["ops"], "SO-GZ")["lines"]
    assert [(ln["sku"], ln["available"]) for ln in lines] == [("PHN-1", 3), ("PHN-2", 0)]


def test_a_pending_void_request_is_part_of_the_order(story):
    oid = insert_order(story.db, "SO-PENDING")
    with story.db.transaction() as cur:
        cur.execute("INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh,"
                    " requested_by, requested_at, needs_approval, approval_reason) VALUES (?, 'SO-PENDING',"
                    " 'pending_approval', 'other', 'Other', '其他', ?, ?, TRUE, 'threshold')",
                    [oid, story.users["sales"].id, at("09:00")])
        mark_void_requests(cur)   # as the services keep orders.void_requested
    pending = get_order(story.db, story.users["sales"], "SO-PENDING")["pending_void"]
    assert (pending["reason_code"], pending["requested_by"], pending["approval_reason"]) == \
        ("other", "sales", "threshold")


def test_an_unknown_order_is_not_found(story):
    with pytest.raises(NotFound) as info:
        get_order(story.db, story.users["ops"], "SO-NOPE")
    assert (info.value.key, info.value.params) == ("orders.not_found", {"order_no": "SO-NOPE"})


def test_another_reps_order_looks_exactly_like_a_missing_one(story):
    with pytest.raises(NotFound) as info:
        get_order(story.db, story.users["sales2"], NO)
    assert (info.value.key, info.value.params) == ("orders.not_found", {"order_no": NO})
    with pytest.raises(NotFound):
        timeline(story.db, story.users["sales2"], story.order_id, "en")


@pytest.mark.parametrize("role", ["sales", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin"])
def test_the_rep_and_every_view_all_role_see_the_order(story, role):
    assert get_order(story.db, story.users[role], NO)["id"] == story.order_id


# --- timeline -------------------------------------------------------------------------------

EXPECTED = [  # (time, kind, actor) newest first
    ("19:30", "change", "erp-sync"), ("19:00", "change", "Ops_Lead"), ("18:00", "refund_paid", "Finance"),
    ("17:05", "refund_created", "Warehouse"), ("17:00", "return_closed", "system"),
    ("17:00", "return_inspected", "Warehouse"), ("16:00", "return_received", "Warehouse"),
    ("15:00", "return_created", "Ops"), ("14:00", "status", "Ops"),
    ("13:00", "refund_cancelled", "Ops_Lead"), ("13:00", "void_restored", "Ops_Lead"),
    ("12:30", "refund_created", "Ops_Lead"), ("12:30", "void_applied", "Ops_Lead"),
    ("12:30", "void_approved", "Ops_Lead"), ("12:00", "void_requested", "Sales"),
    ("11:30", "void_rejected", "Ops_Lead"), ("11:00", "void_requested", "Sales"),
    ("10:30", "comment", "Ops"), ("10:20", "assignment", "Ops_Lead"), ("10:10", "assignment", "Ops_Lead"),
    ("10:05", "status", "Ops"), ("10:00", "status", "Sales"),
]


def test_timeline_merges_every_event_kind_newest_first(story):
    events = timeline(story.db, story.users["ops"], story.order_id, "en")
    assert [(e["at"], e["kind"], e["actor"]) for e in events] == [(at(t), k, a) for t, k, a in EXPECTED]
    for event in events:
        assert set(event) >= {"at", "kind", "actor", "summary_key", "params", "summary", "note"}
        assert event["summary_key"].startswith("timeline.")


def test_each_step_has_its_summary_key_params_and_note(story):
    events = {(e["at"].strftime("%H:%M"), e["kind"]): e for e in timeline(story.db, story.users["ops"],
                                                                          story.order_id, "zh")}
    created = events[("10:00", "status")]
    assert (created["summary_key"], created["params"]["to"]) == ("timeline.created", "status.pending")
    moved = events[("10:05", "status")]
    assert (moved["summary_key"], moved["params"], moved["note"]) == (
        "timeline.status_changed", {"from": "status.pending", "to": "status.processing"}, "picked")
    assert events[("10:10", "assignment")]["summary_key"] == "timeline.assigned"
    assert events[("10:20", "assignment")]["params"] == {"from_name": "Ops", "to_name": "Warehouse"}
    requested = events[("11:00", "void_requested")]
    assert requested["params"]["reason"] == "客户取消" and requested["note"] == "they called"
    assert requested["params"]["why"] == "approval_reason.sales_request"
    assert events[("11:30", "void_rejected")]["note"] == "keep it"
    assert events[("13:00", "void_restored")]["params"] == {"to": "status.processing"}
    assert events[("15:00", "return_created")]["params"]["qty"] == 2
    assert events[("17:00", "return_inspected")]["params"]["dispositions"] == "重新入库 1、报废 1"
    assert events[("18:00", "refund_paid")]["params"]["payment_ref"] == "BANK-42"
    change = events[("19:00", "change")]
    assert (change["summary_key"], change["params"], change["note"]) == (
        "timeline.field_changed", {"fields": "warehouse"}, "moved to Guangzhou")
    assert change["changes"] == [{"field": "warehouse", "before": "SH", "after": "GZ"}]
    assert events[("19:30", "change")]["params"] == {"action": "order.pay"}


def test_status_rows_told_by_a_void_or_restore_are_not_repeated(story):
    events = timeline(story.db, story.users["ops"], story.order_id, "en")
    statuses = [(e["params"]["from"], e["params"]["to"]) for e in events if e["kind"] == "status"]
    assert ("status.processing", "status.voided") not in statuses
    assert ("status.voided", "status.processing") not in statuses


def test_user_text_comes_back_raw_never_rendered(story):
    comment = next(e for e in timeline(story.db, story.users["ops"], story.order_id, "en") if e["kind"] == "comment")
    assert comment["note"] == comment["body"] == "<b>call</b> the customer & **check**"


def test_summary_translates_code_params_and_falls_back_to_the_key():
    assert render_summary("no.such.key", {"to": "status.voided"}, "en") == "no.such.key"
    assert render_summary("status.voided", {}, "zh") == "已作废"


def test_the_rep_sees_the_timeline_of_their_order(story):
    assert len(timeline(story.db, story.users["sales"], story.order_id, "en")) == len(EXPECTED)
