"""Invariants the data must always satisfy (`python -m lib.cli check`, SPEC §11)."""
from lib.db import Database, rows_as_dicts

SAMPLE = 20  # problems listed per invariant; the count is always exact

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
}


def run_checks(db: Database) -> dict:
    """{"ok": bool, "problems": [{"check", "count", "examples"}]} over every invariant."""
    problems = []
    with db.read() as cur:
        for name, sql in INVARIANTS.items():
            count = cur.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
            if count:
                examples = [r["detail"] for r in rows_as_dicts(cur, f"{sql} LIMIT {SAMPLE}")]
                problems.append({"check": name, "count": count, "examples": examples})
    return {"ok": not problems, "problems": problems}
