"""Writes the demo logs: stock ledger and balances, status history, audit log, assignments, comments,
notifications and document counters. Ids ascend with time wherever a log is read in time order."""
import numpy as np
import pyarrow as pa

from lib.seed.arrow import MONEY, Ids, insert, opt, take_ids, ts, words
from lib.seed.data import NOTES, USERS, WAREHOUSES
from lib.seed.events import (ACTIONS, ENTITIES, KINDS, REASON_WORDS, WORDS, build_history, build_inbox, collab_audit,
                             money_audit, void_audit)
from lib.seed.orders import DAY, STATUSES
from lib.seed.stock import KINDS as LEDGER_KINDS, REF_TYPES, build_ledger

WH_CODES = tuple(w[0] for w in WAREHOUSES)
# entity type -> table whose id block its entity_id indexes into
_ENTITY_TABLES = {"order": "orders", "void": "voids", "refund": "refunds", "return": "return_notes",
                  "comment": "comments"}


def write_logs(cur, w, ids: Ids, days: pa.Array, say) -> dict[str, int]:
    """Build each log from the simulated world and write it; one large log in memory at a time."""
    counts = {}
    say("stock ledger")
    ledger = build_ledger(w.rng, w.o, w.seen, w.voids, w.notes, w.lines, w.catalog, w.start_s, w.now)
    counts["stock_ledger"], counts["stock_balances"] = _write_ledger(cur, w, ids, ledger)
    del ledger
    say("history")
    history, audit = build_history(w.rng, w.o, w.seen, w.voids, w.assignee)
    counts["order_status_history"] = _write_history(cur, ids, history)
    del history
    say("audit")
    audit += void_audit(w.voids) + money_audit(w.o, w.seen, w.refunds, w.notes) + collab_audit(w.assigns, w.comments)
    counts["audit_log"] = _write_audit(cur, ids, audit)
    del audit
    say("collaboration")
    counts["assignments"], counts["comments"] = _write_collab(cur, w, ids)
    say("notifications")
    inbox = build_inbox(w.rng, w.o, w.voids, w.refunds, w.notes, w.assigns, w.now)
    counts["notifications"] = _write_inbox(cur, ids, inbox)
    # Demo history is not mailed: the mail watermark starts after it (lib.services.notify.queue_mail).
    cur.execute("UPDATE counters SET value = (SELECT coalesce(max(id), 0) FROM notifications)"
                " WHERE name = 'mail_queued_through'")
    counts["counters"] = _write_counters(cur, w, days)
    return counts


def _write_ledger(cur, w, ids: Ids, g) -> tuple[int, int]:
    ref_tables = ("", "orders", "voids", "return_notes")   # by REF_TYPES: receipts refer to nothing
    first = np.asarray([ids.first.get(t, 0) for t in ref_tables])
    ref = np.where(g["ref_id"] >= 0, g["ref_id"] + first[g["ref_type"]], -1)
    start = take_ids(cur, "seq_stock_ledger", len(g["ts"]))
    table = {"id": np.arange(len(g["ts"])) + start, "ts": ts(g["ts"]), "wh": words(g["wh"], WH_CODES),
             "sku": words(g["prod"], w.catalog.sku), "kind": words(g["kind"], LEDGER_KINDS), "d_on": g["d_on"],
             "d_res": g["d_res"], "d_q": g["d_q"], "ref_type": words(g["ref_type"], REF_TYPES), "ref_id": opt(ref),
             "order_no": ids.order_nos(g["order"]), "actor": ids.users(g["actor"])}
    rows = insert(cur, "seed_ledger", table, """
        INSERT INTO stock_ledger (id, created_at, warehouse, sku, kind, d_on_hand, d_reserved, d_quarantine,
            ref_type, ref_id, order_no, actor_id, note)
        SELECT id, ts, wh, sku, kind, d_on, d_res, d_q, ref_type, ref_id, order_no, actor,
            CASE WHEN kind <> 'receipt' THEN NULL WHEN ts < ? THEN 'Opening stock'
                 ELSE 'PO-' || strftime(ts, '%Y%m%d') || '-' || wh END
        FROM seed_ledger""", [w.start])
    # Balances are the sums of exactly these ledger rows, so `check` holds by construction.
    balances = cur.execute("""
        INSERT INTO stock_balances (warehouse, sku, on_hand, reserved, quarantine, updated_at)
        SELECT warehouse, sku, sum(d_on_hand), sum(d_reserved), sum(d_quarantine), max(created_at)
        FROM stock_ledger WHERE id >= ? GROUP BY warehouse, sku
        ON CONFLICT (warehouse, sku) DO UPDATE SET on_hand = on_hand + excluded.on_hand,
            reserved = reserved + excluded.reserved, quarantine = quarantine + excluded.quarantine,
            updated_at = greatest(updated_at, excluded.updated_at)""", [start]).fetchall()
    return rows, int(balances[0][0]) if balances else 0


def _write_history(cur, ids: Ids, h) -> int:
    start = take_ids(cur, "seq_status_history", len(h["ts"]))
    table = {"id": np.arange(len(h["ts"])) + start, "order_id": ids.of("orders", h["order"]),
             "from_s": words(h["from"], STATUSES), "to_s": words(h["to"], STATUSES), "by_id": ids.users(h["by"]),
             "ts": ts(h["ts"]), "note": words(h["note"], NOTES)}
    # Shipments carry a (made-up) courier tracking number as their note.
    return insert(cur, "seed_history", table, """
        INSERT INTO order_status_history (id, order_id, from_status, to_status, by_user_id, created_at, note)
        SELECT id, order_id, from_s, to_s, by_id, ts,
            CASE WHEN to_s = 'shipped' THEN 'SF' || printf('%010d', (order_id * 7919 + 104729) % 10000000000)
                 ELSE note END
        FROM seed_history""")


def _audit_rows(parts: list[dict]) -> dict:
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(a["ts"], kind="stable")
    return {k: v[order] for k, v in a.items()}


# before/after are the small JSON documents lib.services.audit writes; built in SQL from codes.
_AUDIT_SQL = f"""
    INSERT INTO audit_log (id, created_at, actor_id, actor_name, action, entity_type, entity_id, order_no,
        before, after, note)
    SELECT id, ts, actor, coalesce(actor_name, 'system'), action, etype, entity::VARCHAR, order_no,
        CASE WHEN action = 'order.assign' THEN '{{"assignee_id": ' || coalesce(u1::VARCHAR, 'null') || '}}'
             WHEN action = 'order.payment' THEN '{{"payment_status": "unpaid"}}'
             WHEN w1 IS NOT NULL THEN '{{"status": "' || w1 || '"}}' END,
        CASE action
            WHEN 'order.create' THEN '{{"status": "pending", "total": "' || money || '", "warehouse": "' || wh || '"}}'
            WHEN 'order.payment' THEN '{{"amount_paid": "' || money || '", "payment_status": "paid"}}'
            WHEN 'order.assign' THEN '{{"assignee_id": ' || u2::VARCHAR || '}}'
            WHEN 'order.comment' THEN '{{"body": ' || to_json(note)::VARCHAR || '}}'
            WHEN 'void.request' THEN '{{"reason": "' || reason || '", "status": "pending_approval"}}'
            WHEN 'void.apply' THEN '{{"reason": "' || reason || '", "status": "voided"}}'
            WHEN 'refund.create' THEN '{{"amount": "' || money || '", "source": "' || reason
                || '", "status": "pending"}}'
            WHEN 'refund.paid' THEN '{{"payment_ref": "PAY-' || strftime(ts, '%Y%m%d') || '-'
                || printf('%06d', entity) || '", "status": "paid"}}'
            WHEN 'return.create' THEN '{{"refund_amount": "' || money || '", "return_no": "' || return_no
                || '", "status": "requested"}}'
            ELSE '{{"status": "' || w2 || '"}}' END,
        CASE WHEN action <> 'order.comment' THEN note END
    FROM (SELECT *, {MONEY.format('amount')}::VARCHAR AS money FROM seed_audit)"""


def _write_audit(cur, ids: Ids, parts: list[dict]) -> int:
    a = _audit_rows(parts)
    first = np.asarray([ids.first[_ENTITY_TABLES[e]] for e in ENTITIES])
    start = take_ids(cur, "seq_audit_log", len(a["ts"]))
    table = {"id": np.arange(len(a["ts"])) + start, "ts": ts(a["ts"]), "actor": ids.users(a["actor"]),
             "actor_name": words(a["actor"], [u[0] for u in USERS]), "action": words(a["action"], ACTIONS),
             "etype": words(a["etype"], ENTITIES), "entity": a["entity"] + first[a["etype"]],
             "order_no": ids.order_nos(a["order"]), "w1": words(a["w1"], WORDS), "w2": words(a["w2"], WORDS),
             "reason": words(a["reason"], REASON_WORDS), "amount": opt(a["amount"]),
             "return_no": ids.return_nos(a["ref"]), "note": words(a["note"], NOTES), "u1": ids.users(a["u1"]),
             "u2": ids.users(a["u2"]), "wh": words(a["wh"], WH_CODES)}
    return insert(cur, "seed_audit", table, _AUDIT_SQL)


def _write_collab(cur, w, ids: Ids) -> tuple[int, int]:
    a, c = w.assigns, w.comments
    start = take_ids(cur, "seq_assignments", len(a["ts"]))
    assigns = insert(cur, "seed_assign", {
        "id": np.arange(len(a["ts"])) + start, "order_id": ids.of("orders", a["order"]),
        "from_id": ids.users(a["from"]), "to_id": ids.users(a["to"]), "by_id": ids.users(a["by"]), "ts": ts(a["ts"])},
        "INSERT INTO assignments (id, order_id, from_user_id, to_user_id, by_user_id, created_at)"
        " SELECT * FROM seed_assign")
    comments = insert(cur, "seed_comments", {
        "id": ids.of("comments", np.arange(len(c["ts"]))), "order_id": ids.of("orders", c["order"]),
        "author": ids.users(c["author"]), "ts": ts(c["ts"]), "body": words(c["body"], NOTES)},
        "INSERT INTO comments (id, order_id, author_id, created_at, body) SELECT * FROM seed_comments")
    return assigns, comments


_INBOX_SQL = f"""
    INSERT INTO notifications (id, user_id, created_at, kind, params, order_no, return_no, read_at)
    SELECT id, user_id, ts, kind, CASE kind
        WHEN 'void.requested' THEN '{{"order_no": "' || order_no || '", "reason": "' || reason || '", "by": "'
            || by_name || '"}}'
        WHEN 'refund.created' THEN '{{"order_no": "' || order_no || '", "amount": "' || {MONEY.format('amount')}
            || '", "source": "' || source || '"}}'
        WHEN 'return.created' THEN '{{"order_no": "' || order_no || '", "return_no": "' || return_no
            || '", "reason": "' || reason || '"}}'
        WHEN 'order.assigned' THEN '{{"order_no": "' || order_no || '", "by": "' || by_name || '"}}'
        ELSE '{{"order_no": "' || order_no || '", "reason": "' || reason || '"}}' END,
        order_no, return_no, read_at
    FROM seed_inbox"""


def _write_inbox(cur, ids: Ids, b) -> int:
    start = take_ids(cur, "seq_notifications", len(b["ts"]))
    table = {"id": np.arange(len(b["ts"])) + start, "user_id": ids.users(b["user"]), "ts": ts(b["ts"]),
             "kind": words(b["kind"], KINDS), "order_no": ids.order_nos(b["order"]),
             "return_no": ids.return_nos(b["ref"]), "reason": words(b["reason"], REASON_WORDS),
             "by_name": words(b["actor"], [u[2] for u in USERS]), "amount": opt(b["amount"]),
             "source": words(b["source"], ("void", "return")), "read_at": ts(b["read_at"])}
    return insert(cur, "seed_inbox", table, _INBOX_SQL)


def _write_counters(cur, w, days: pa.Array) -> int:
    """The highest SO-/RT- number used per day (numbers run 1..count), so the app continues without collisions."""
    names, values = [], []
    for prefix, day in (("SO", w.o.day), ("RT", (w.notes["t_ret"] - w.start_s) // DAY)):
        per_day = np.bincount(np.asarray(day, np.int64), minlength=len(days))
        used = np.nonzero(per_day)[0]
        names += [f"{prefix}-{days[int(d)].as_py()}" for d in used]
        values += per_day[used].tolist()
    return insert(cur, "seed_counters", {"name": names, "value": np.asarray(values, np.int64)}, """
        INSERT INTO counters SELECT name, value FROM seed_counters
        ON CONFLICT (name) DO UPDATE SET value = greatest(counters.value, excluded.value)""")
