"""One order, read side: header, lines with live stock, the pending void request, counts, timeline (SPEC §2)."""
import json
from datetime import timedelta

from lib.db import Database, rows_as_dicts
from lib.domain import User, may_see_order, require
from lib.errors import NotFound
from lib.i18n import catalogue, fmt_money, join_words, label, t

_HEADER = """
    SELECT o.id, o.order_no, o.status, o.payment_status, c.name AS customer_name, c.code AS customer_code,
           o.customer_id, o.rep_id, r.username AS rep, r.display_name AS rep_name,
           o.assignee_id, a.username AS assignee, a.display_name AS assignee_name,
           o.warehouse, o.total, o.amount_paid, o.amount_refunded,
           o.created_at, o.updated_at, o.shipped_at, o.completed_at, o.voided_at, o.archived_at,
           o.status_before_archive, o.source, o.version
    FROM orders o
    LEFT JOIN customers c ON c.id = o.customer_id
    LEFT JOIN users r ON r.id = o.rep_id
    LEFT JOIN users a ON a.id = o.assignee_id
    WHERE {where}"""

_LINES = """
    SELECT l.id, l.line_no, l.sku, p.name AS product_name, p.category, cat.name_en AS category_en,
           cat.name_zh AS category_zh, l.qty, l.unit_price, l.qty * l.unit_price AS amount,
           l.qty_shipped, l.qty_returned, coalesce(b.on_hand - b.reserved, 0) AS available
    FROM order_lines l
    LEFT JOIN products p ON p.sku = l.sku
    LEFT JOIN categories cat ON cat.code = p.category
    LEFT JOIN stock_balances b ON b.warehouse = ? AND b.sku = l.sku
    WHERE l.order_id = ?
    ORDER BY l.line_no, l.id"""

_PENDING_VOID = """
    SELECT v.id, v.reason_code, v.reason_label_en, v.reason_label_zh, v.note, v.requested_at,
           u.username AS requested_by, u.display_name AS requested_by_name, v.approval_reason, v.amount_paid
    FROM voids v LEFT JOIN users u ON u.id = v.requested_by
    WHERE v.order_id = ? AND v.status = 'pending_approval'
    ORDER BY v.requested_at DESC, v.id DESC LIMIT 1"""

_COUNTS = """
    SELECT (SELECT count(*) FROM voids WHERE order_id = $id) AS voids,
           (SELECT count(*) FROM return_notes WHERE order_id = $id) AS returns,
           (SELECT count(*) FROM refunds WHERE order_id = $id) AS refunds"""


def visible_header(cur, user: User, where: str, params: list, shown_as) -> dict:
    """The order header, or NotFound — also for a sales rep's look at someone else's order."""
    require(user, "order.view")
    rows = rows_as_dicts(cur, _HEADER.format(where=where), params)
    if not rows or not may_see_order(user, rows[0]["rep_id"]):
        raise NotFound("orders.not_found", order_no=shown_as)
    header = rows[0]
    header["customer"] = header["customer_name"]
    return header


def get_order(db: Database, user: User, order_no: str) -> dict:
    """Header, `lines`, `pending_void` (or None) and `counts` of one order the user may see."""
    order_no = (order_no or "").strip()
    with db.read() as cur:
        order = visible_header(cur, user, "o.order_no = ?", [order_no], order_no)
        order["lines"] = rows_as_dicts(cur, _LINES, [order["warehouse"], order["id"]])
        pending = rows_as_dicts(cur, _PENDING_VOID, [order["id"]])
        order["pending_void"] = pending[0] if pending else None
        order["counts"] = rows_as_dicts(cur, _COUNTS, {"id": order["id"]})[0]
    return order


def get_order_by_id(cur, user: User, order_id: int) -> dict:
    """The visible header by id (used by the timeline); NotFound like get_order."""
    return visible_header(cur, user, "o.id = ?", [order_id], str(order_id))


# --- timeline -------------------------------------------------------------------------------

# Audit entries already told by a dedicated table (status history, voids, returns, refunds, comments,
# assignments); the rest (field edits, imports, payments…) appear as "change" events.
_COVERED_WORDS = ("create", "status", "assign", "comment", "void", "restore", "return", "refund")
_COVERED_ENTITIES = ("void", "return", "return_note", "refund", "comment", "assignment")
_SAME_MOMENT = timedelta(seconds=5)
_AUDIT_SLACK = timedelta(days=1)

# Within one timestamp, later steps come first (newest first).
_RANK = {"change": 0, "status": 1, "assignment": 2, "comment": 3, "void_requested": 4, "return_created": 4,
         "void_rejected": 5, "void_approved": 5, "return_received": 5, "void_applied": 6,
         "return_inspected": 6, "refund_created": 7, "return_closed": 7, "void_restored": 7,
         "refund_paid": 8, "refund_cancelled": 8}


def timeline(db: Database, user: User, order_id: int, lang: str = "en") -> list[dict]:
    """Every event of one order, newest first: {at, kind, actor, summary_key, params, summary, note}."""
    with db.read() as cur:
        order = get_order_by_id(cur, user, order_id)
        names = {r[0]: r[1] for r in cur.execute("SELECT id, display_name FROM users").fetchall()}
        voids = rows_as_dicts(cur, "SELECT * FROM voids WHERE order_id = ?", [order_id])
        events = (_status_events(cur, order_id, voids) + _assignment_events(cur, order_id, names)
                  + _comment_events(cur, order_id) + _void_events(voids, lang)
                  + _return_events(cur, order_id, lang) + _refund_events(cur, order_id, lang)
                  + _audit_events(cur, order["order_no"], order["created_at"]))
    for event in events:
        actor_id = event.pop("actor_id")
        event["actor"] = names.get(actor_id) or event.pop("actor_name", None) or "system"
        event.pop("actor_name", None)
        event["summary"] = render_summary(event["summary_key"], event["params"], lang)
    events.sort(key=lambda e: (e["at"], _RANK.get(e["kind"], 0)), reverse=True)
    return events


def render_summary(key: str, params: dict, lang: str) -> str:
    """The event sentence as plain text; parameter values that are catalogue keys are translated."""
    shown = {k: (t(v, lang) if isinstance(v, str) and v in catalogue("en") else v) for k, v in params.items()}
    return t(key, lang, **shown)


def _event(at, kind: str, actor_id, key: str, params: dict | None = None, note=None, **extra) -> dict:
    return {"at": at, "kind": kind, "actor_id": actor_id, "summary_key": key, "params": params or {},
            "note": note, **extra}


def _status_events(cur, order_id: int, voids: list[dict]) -> list[dict]:
    applied = [v["applied_at"] for v in voids if v["applied_at"]]
    restored = [v["restored_at"] for v in voids if v["restored_at"]]
    events = []
    for at, actor, before, after, note in cur.execute(
            "SELECT created_at, by_user_id, from_status, to_status, note FROM order_status_history"
            " WHERE order_id = ?", [order_id]).fetchall():
        if (after == "voided" and _near(at, applied)) or (before == "voided" and _near(at, restored)):
            continue  # the void / restore event tells this step, with its reason
        params = {"from": f"status.{before}", "to": f"status.{after}"}
        key = "timeline.created" if before is None else "timeline.status_changed"
        events.append(_event(at, "status", actor, key, params, note))
    return events


def _near(at, moments: list) -> bool:
    return any(abs(at - m) <= _SAME_MOMENT for m in moments)


def _assignment_events(cur, order_id: int, names: dict) -> list[dict]:
    events = []
    for at, actor, from_id, to_id, note in cur.execute(
            "SELECT created_at, by_user_id, from_user_id, to_user_id, note FROM assignments"
            " WHERE order_id = ?", [order_id]).fetchall():
        params = {"from_name": names.get(from_id, "–"), "to_name": names.get(to_id, "–")}
        key = "timeline.reassigned" if from_id else "timeline.assigned"
        events.append(_event(at, "assignment", actor, key, params, note))
    return events


def _comment_events(cur, order_id: int) -> list[dict]:
    return [_event(at, "comment", author, "timeline.commented", {}, body, body=body)
            for at, author, body in cur.execute(
                "SELECT created_at, author_id, body FROM comments WHERE order_id = ?", [order_id]).fetchall()]


def _void_events(voids: list[dict], lang: str) -> list[dict]:
    events = []
    for v in voids:
        reason = {"reason": v["reason_label_zh"] if lang == "zh" else v["reason_label_en"],
                  "reason_code": v["reason_code"]}
        if v["needs_approval"]:
            events.append(_event(v["requested_at"], "void_requested", v["requested_by"], "timeline.void_requested",
                                 {**reason, "why": f"approval_reason.{v['approval_reason']}"}, v["note"]))
        if v["decided_at"]:
            kind = "void_rejected" if v["status"] == "rejected" else "void_approved"
            events.append(_event(v["decided_at"], kind, v["decided_by"], f"timeline.{kind}", reason,
                                 v["decision_note"]))
        if v["applied_at"]:
            actor = v["decided_by"] if v["needs_approval"] else v["requested_by"]
            events.append(_event(v["applied_at"], "void_applied", actor, "timeline.void_applied", reason,
                                 None if v["needs_approval"] else v["note"]))
        if v["restored_at"]:
            events.append(_event(v["restored_at"], "void_restored", v["restored_by"], "timeline.void_restored",
                                 {"to": f"status.{v['status_before']}"}, v["restore_note"]))
    return events


def _return_events(cur, order_id: int, lang: str) -> list[dict]:
    notes = rows_as_dicts(cur, "SELECT * FROM return_notes WHERE order_id = ?", [order_id])
    lines = rows_as_dicts(cur, "SELECT return_id, disposition, sum(qty) AS qty FROM return_lines"
                               " WHERE return_id IN (SELECT id FROM return_notes WHERE order_id = ?)"
                               " GROUP BY return_id, disposition ORDER BY return_id, disposition", [order_id])
    events = []
    for r in notes:
        mine = [ln for ln in lines if ln["return_id"] == r["id"]]
        base = {"return_no": r["return_no"]}
        created = {**base, "reason": r["reason_label_zh"] if lang == "zh" else r["reason_label_en"],
                   "reason_code": r["reason_code"], "qty": int(sum(ln["qty"] for ln in mine)),
                   "refund": fmt_money(r["refund_amount"], lang)}
        dispositions = join_words([f"{label('disposition', ln['disposition'], lang)} {int(ln['qty'])}"
                                   for ln in mine if ln["disposition"]], lang)
        for kind, at, actor, params, note in (
                ("return_created", r["created_at"], r["requested_by"], created, r["note"]),
                ("return_received", r["received_at"], r["received_by"], {**base, "warehouse": r["warehouse"]}, None),
                ("return_inspected", r["inspected_at"], r["inspected_by"], {**base, "dispositions": dispositions},
                 None),
                ("return_closed", r["closed_at"], None, base, None)):
            if at:
                events.append(_event(at, kind, actor, f"timeline.{kind}", params, note))
    return events


def _refund_events(cur, order_id: int, lang: str) -> list[dict]:
    events = []
    for r in rows_as_dicts(cur, "SELECT * FROM refunds WHERE order_id = ?", [order_id]):
        base = {"amount": fmt_money(r["amount"], lang), "source": f"refund_source.{r['source']}"}
        for kind, at, actor, params in (
                ("refund_created", r["created_at"], r["created_by"], base),
                ("refund_paid", r["paid_at"], r["paid_by"], {**base, "payment_ref": r["payment_ref"] or "–"}),
                ("refund_cancelled", r["cancelled_at"], r["cancelled_by"], base)):
            if at:
                events.append(_event(at, kind, actor, f"timeline.{kind}", params))
    return events


def _audit_events(cur, order_no: str, since) -> list[dict]:
    # Nothing about an order is audited before it exists; the time bound lets zone maps skip older blocks.
    events = []
    for row in rows_as_dicts(cur, "SELECT created_at, actor_id, actor_name, action, entity_type, before, after,"
                                  " note FROM audit_log WHERE order_no = ? AND created_at >= ?",
                             [order_no, since - _AUDIT_SLACK]):
        action = row["action"] or ""
        if row["entity_type"] in _COVERED_ENTITIES or any(w in action for w in _COVERED_WORDS):
            continue
        changes = _changes(row["before"], row["after"])
        if changes:
            key, params = "timeline.field_changed", {"fields": ", ".join(c["field"] for c in changes)}
        else:
            key, params = "timeline.action", {"action": action}
        events.append(_event(row["created_at"], "change", row["actor_id"], key, params, row["note"],
                             actor_name=row["actor_name"], action=action, changes=changes))
    return events


def _changes(before: str | None, after: str | None) -> list[dict]:
    """[{field, before, after}] for the keys whose values differ between two JSON objects."""
    old, new = _json_object(before), _json_object(after)
    return [{"field": k, "before": old.get(k), "after": new.get(k)}
            for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _json_object(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
