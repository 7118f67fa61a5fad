"""Invariants the data must always satisfy (`python -m lib.cli check`, SPEC §11)."""
from lib.db import Database, rows_as_dicts
from lib.queries import category_mask, main_line

SAMPLE = 20  # problems listed per invariant; the count is always exact
SAME_MOMENT = "INTERVAL '5 seconds'"   # a history row and its audit entry are written in one transaction
# The audit entry `a` that tells the status history row `h`: creation, a status step (its `after` names
# the new status), a void taking effect, or a restore.
_TELLS_STEP = """(
    (a.action = 'order.create' AND h.from_status IS NULL)
    OR (a.action = 'order.status' AND (a.after::JSON ->> 'status') = h.to_status)
    OR (a.action IN ('void.apply', 'void.approve') AND h.to_status = 'voided')
    OR (a.action = 'void.restore' AND h.from_status = 'voided'))"""

# Every state change has its audit entry (SPEC §7): status history by order and moment; each step of a
# return note, refund and void, each assignment, comment and stock adjustment by its entity.
_AUDITED = f"""
    WITH steps AS (
        SELECT 'return' AS etype, id::VARCHAR AS eid, 'return ' || return_no AS what, ARRAY['return.create'] AS actions
        FROM return_notes
        UNION ALL SELECT 'return', id::VARCHAR, 'return ' || return_no || ' received', ARRAY['return.receive']
        FROM return_notes WHERE received_at IS NOT NULL
        UNION ALL SELECT 'return', id::VARCHAR, 'return ' || return_no || ' inspected', ARRAY['return.inspect']
        FROM return_notes WHERE inspected_at IS NOT NULL
        UNION ALL SELECT 'return', id::VARCHAR, 'return ' || return_no || ' closed', ARRAY['return.close']
        FROM return_notes WHERE closed_at IS NOT NULL
        UNION ALL SELECT 'refund', id::VARCHAR, 'refund ' || id || ' of ' || order_no, ARRAY['refund.create']
        FROM refunds
        UNION ALL SELECT 'refund', id::VARCHAR, 'refund ' || id || ' of ' || order_no || ' paid', ARRAY['refund.paid']
        FROM refunds WHERE paid_at IS NOT NULL
        UNION ALL SELECT 'refund', id::VARCHAR, 'refund ' || id || ' of ' || order_no || ' cancelled',
                         ARRAY['refund.cancel', 'refund.cancelled']
        FROM refunds WHERE cancelled_at IS NOT NULL
        UNION ALL SELECT 'void', id::VARCHAR, 'void ' || id || ' of ' || order_no,
                         ARRAY['void.request', 'void.apply', 'void.approve', 'void.create']
        FROM voids
        UNION ALL SELECT 'void', id::VARCHAR, 'void ' || id || ' of ' || order_no || ' applied',
                         ARRAY['void.apply', 'void.approve']
        FROM voids WHERE applied_at IS NOT NULL
        UNION ALL SELECT 'void', id::VARCHAR, 'void ' || id || ' of ' || order_no || ' rejected', ARRAY['void.reject']
        FROM voids WHERE status = 'rejected'
        UNION ALL SELECT 'void', id::VARCHAR, 'void ' || id || ' of ' || order_no || ' restored', ARRAY['void.restore']
        FROM voids WHERE restored_at IS NOT NULL
        UNION ALL SELECT 'comment', id::VARCHAR, 'comment ' || id, ARRAY['order.comment'] FROM comments)
    SELECT s.what || ': no audit entry (' || array_to_string(s.actions, ' or ') || ')' AS detail
    FROM steps s
    WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity_type = s.etype AND a.entity_id = s.eid
                      AND a.action = ANY(s.actions))
    UNION ALL
    SELECT 'order ' || o.order_no || ': status ' || coalesce(h.from_status, '–') || ' → ' || h.to_status || ' at '
           || CAST(date_trunc('second', h.created_at) AS VARCHAR) || ' has no audit entry' AS detail
    FROM order_status_history h JOIN orders o ON o.id = h.order_id
    WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.order_no = o.order_no
                      AND a.created_at BETWEEN h.created_at - {SAME_MOMENT} AND h.created_at + {SAME_MOMENT}
                      AND {_TELLS_STEP})
    UNION ALL
    SELECT 'order ' || o.order_no || ': assignment at ' || CAST(date_trunc('second', g.created_at) AS VARCHAR)
           || ' has no audit entry' AS detail
    FROM assignments g JOIN orders o ON o.id = g.order_id
    WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.order_no = o.order_no AND a.action = 'order.assign'
                      AND a.created_at BETWEEN g.created_at - {SAME_MOMENT} AND g.created_at + {SAME_MOMENT})
    UNION ALL
    SELECT 'stock ' || l.warehouse || '/' || l.sku || ': adjustment at ' || CAST(date_trunc('second', l.created_at) AS VARCHAR)
           || ' has no audit entry' AS detail
    FROM stock_ledger l
    WHERE l.kind = 'adjust'
      AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'stock.adjust' AND a.entity_type = 'stock'
                      AND a.entity_id = l.warehouse || '/' || l.sku AND a.created_at = l.created_at)"""

# name -> SQL returning one row per problem; each row has a `detail` column.
INVARIANTS = {
    "ledger_matches_balances": """
        WITH ledger AS (
            SELECT warehouse, sku, sum(d_on_hand) AS on_hand, sum(d_reserved) AS reserved,
                   sum(d_quarantine) AS quarantine
            FROM stock_ledger GROUP BY warehouse, sku)
        SELECT coalesce(b.warehouse, l.warehouse) || '/' || coalesce(b.sku, l.sku)
               || ': balance ' || coalesce(b.on_hand, 0) || '/' || coalesce(b.reserved, 0) || '/'
               || coalesce(b.quarantine, 0) || ' vs ledger ' || coalesce(l.on_hand, 0) || '/'
               || coalesce(l.reserved, 0) || '/' || coalesce(l.quarantine, 0) AS detail
        FROM stock_balances b FULL OUTER JOIN ledger l ON b.warehouse = l.warehouse AND b.sku = l.sku
        WHERE coalesce(b.on_hand, 0) <> coalesce(l.on_hand, 0)
           OR coalesce(b.reserved, 0) <> coalesce(l.reserved, 0)
           OR coalesce(b.quarantine, 0) <> coalesce(l.quarantine, 0)""",
    "no_negative_stock": """
        SELECT warehouse || '/' || sku || ': on hand ' || on_hand || ', reserved ' || reserved
               || ', available ' || (on_hand - reserved) || ', quarantine ' || quarantine AS detail
        FROM stock_balances
        WHERE on_hand - reserved < 0 OR on_hand < 0 OR reserved < 0 OR quarantine < 0""",
    "voided_orders_have_void_record": """
        SELECT o.order_no || ': voided without an applied void record' AS detail
        FROM orders o
        WHERE o.status = 'voided'
          AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'applied')""",
    # orders.void_requested says whether a void request waits (a void reads it instead of the voids table).
    "void_requests_marked_on_orders": """
        SELECT o.order_no || CASE WHEN o.void_requested THEN ': marked as waiting for a void decision, none waits'
                                  ELSE ': a void request waits, not marked on the order' END AS detail
        FROM orders o
        WHERE o.void_requested <> (o.id IN (SELECT order_id FROM voids WHERE status = 'pending_approval'))""",
    # Return notes claim their quantities when created: never more than recorded returned, never above shipped.
    "returns_within_shipped": """
        WITH r AS (SELECT order_line_id, sum(qty) AS qty FROM return_lines GROUP BY order_line_id)
        SELECT o.order_no || ' line ' || l.line_no || ' (' || l.sku || '): shipped ' || l.qty_shipped
               || ', returned ' || l.qty_returned || ', on return notes ' || coalesce(r.qty, 0) AS detail
        FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN r ON r.order_line_id = l.id
        WHERE l.qty_returned > l.qty_shipped OR coalesce(r.qty, 0) > l.qty_returned""",
    # Refunds owed never exceed the money paid in; amount_refunded includes every refund paid out.
    "refunds_within_payments": """
        WITH f AS (SELECT order_id, coalesce(sum(amount) FILTER (WHERE status <> 'cancelled'), 0) AS owed,
                          coalesce(sum(amount) FILTER (WHERE status = 'paid'), 0) AS paid
                   FROM refunds GROUP BY order_id)
        SELECT o.order_no || ': paid in ' || o.amount_paid || ', refunds owed ' || f.owed || ', paid out '
               || f.paid || ', amount_refunded ' || o.amount_refunded AS detail
        FROM f JOIN orders o ON o.id = f.order_id
        WHERE f.owed > o.amount_paid OR o.amount_refunded < f.paid""",
    "state_changes_audited": _AUDITED,
    "category_masks_match_lines": f"SELECT 'order ' || order_no || ': category mask differs from its lines' AS detail"
                                  f" FROM ({category_mask.DRIFT_SQL}) drift",
    "main_skus_match_lines": f"SELECT 'order ' || order_no || ': main SKU differs from its largest line' AS detail"
                             f" FROM ({main_line.DRIFT_SQL}) drift",
}


def run_checks(db: Database) -> dict:
    """{"ok": bool, "problems": [{"check", "count", "examples"}]} over every invariant."""
    problems = []
    with db.read() as cur:
        for name, sql in INVARIANTS.items():
            count = cur.execute(f"SELECT count(*) FROM ({sql}) problems").fetchall()[0][0]
            if count:
                examples = [r["detail"] for r in rows_as_dicts(cur, f"{sql} LIMIT {SAMPLE}")]
                problems.append({"check": name, "count": count, "examples": examples})
    return {"ok": not problems, "problems": problems}
