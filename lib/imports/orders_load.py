"""Writing checked orders: orders (source 'import'), their lines, stock reservations for open orders through the
ledger, one status-history row and one audit entry per order, and an applied void record (reason `imported`) with
its audit entry for every order imported as voided. Set-based: one INSERT … SELECT per table."""
from lib.imports.base import (OPEN, REPEAT_SKU, SHIPPED, Context, audit_rows, count, line_number, reserve,
                              take_ids)
from lib.imports.orders import has_lines
from lib.queries.category_mask import add_line_bits
from lib.queries.main_line import IMPORTED_LINES, set_main_skus

# One row per order, from its first row (the checks made every row of an order agree on these).
_ORDERS = """CREATE OR REPLACE TEMP TABLE imp_orders AS
    SELECT ?::BIGINT + row_number() OVER (ORDER BY created_at, first_row) - 1 AS id, *,
           CASE WHEN paid > 0 THEN 'paid' ELSE 'unpaid' END AS payment
    FROM (SELECT order_no_raw AS order_no, first_row, customer_id, rep_id, wh AS warehouse, status, created_at,
                 CASE WHEN status = 'voided' THEN coalesce(voided_at, created_at) END AS voided_at,
                 CAST(round(coalesce(order_total, 0), 2) AS DECIMAL(14,2)) AS total,
                 CAST(round(coalesce(amount_paid, CASE WHEN payment_status = 'paid' THEN order_total ELSE 0 END), 2)
                      AS DECIMAL(14,2)) AS paid
          FROM imp_rows WHERE _row = first_row)"""


def load(cur, ctx: Context) -> dict[str, int]:
    """Write everything for the checked rows; returns rows written per table."""
    n = count(cur, "SELECT count(DISTINCT order_no_raw) FROM imp_rows")
    cur.execute(_ORDERS, [take_ids(cur, "seq_orders", n)])
    counts = {"orders": count(cur, """INSERT INTO orders (id, order_no, customer_id, rep_id, warehouse, status,
        payment_status, total, amount_paid, created_at, updated_at, shipped_at, completed_at, voided_at, source)
        SELECT id, order_no, customer_id, rep_id, warehouse, status, payment, total, paid, created_at, ?,
               CASE WHEN status IN ('shipped', 'completed') THEN created_at END,
               CASE WHEN status = 'completed' THEN created_at END, voided_at, 'import'
        FROM imp_orders ORDER BY id""", [ctx.now])}
    if has_lines(ctx):
        counts["order_lines"] = _write_lines(cur)
        add_line_bits(cur, "SELECT order_id, sku FROM imp_lines")
        set_main_skus(cur, IMPORTED_LINES)
        counts["stock_ledger"] = reserve(cur, ctx, f"""SELECT l.order_id, o.order_no, o.warehouse, l.sku, l.qty
            FROM imp_lines l JOIN imp_orders o ON o.id = l.order_id WHERE o.status IN {OPEN}""")
    counts["order_status_history"] = count(cur, """INSERT INTO order_status_history (order_id, from_status,
        to_status, by_user_id, created_at, note) SELECT id, NULL, status, ?, ?, ? FROM imp_orders ORDER BY id""",
                                           [ctx.actor.id, ctx.now, ctx.note])
    counts["audit_log"] = audit_rows(cur, ctx, "order.create", "order", """SELECT id AS entity_id, order_no,
        NULL AS before, CAST(json_object('source', 'import', 'status', status, 'total', CAST(total AS VARCHAR),
        'warehouse', warehouse, 'payment_status', payment, 'amount_paid', CAST(paid AS VARCHAR)) AS VARCHAR) AS after
        FROM imp_orders ORDER BY id""")
    voids, audited = _write_voids(cur, ctx)
    if voids:
        counts["voids"] = voids
        counts["audit_log"] += audited
    return counts


def _write_lines(cur) -> int:
    """Lines in file order per order; line numbers from the file when given, else after them (base.line_number)."""
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_lines AS
        SELECT o.id AS order_id, {line_number("o.id", "r.")} AS line_no, r.sku, CAST(r.qty AS INTEGER) AS qty,
               CAST(round(coalesce(r.unit_price, r.list_price), 2) AS DECIMAL(14,2)) AS unit_price,
               CASE WHEN o.status IN {SHIPPED} THEN CAST(r.qty AS INTEGER) ELSE 0 END AS shipped
        FROM imp_rows r JOIN imp_orders o ON o.order_no = r.order_no_raw WHERE r.sku IS NOT NULL""")
    return count(cur, f"""INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price, qty_shipped, repeat_sku)
        SELECT order_id, line_no, sku, qty, unit_price, shipped, {REPEAT_SKU} FROM imp_lines
        ORDER BY order_id, line_no""")


def _write_voids(cur, ctx: Context) -> tuple[int, int]:
    """Applied voids (reason `imported`, labels as the catalogue reads now) and their audit entries."""
    n = count(cur, "SELECT count(*) FROM imp_orders WHERE status = 'voided'")
    if not n:
        return 0, 0
    first = take_ids(cur, "seq_voids", n)
    cur.execute("""CREATE OR REPLACE TEMP TABLE imp_voids AS
        SELECT ?::BIGINT + row_number() OVER (ORDER BY id) - 1 AS void_id, id AS order_id, order_no, voided_at, paid
        FROM imp_orders WHERE status = 'voided'""", [first])
    written = count(cur, """INSERT INTO voids (id, order_id, order_no, status, reason_code, reason_label_en,
        reason_label_zh, note, requested_by, requested_at, needs_approval, applied_at, status_before, amount_paid)
        SELECT v.void_id, v.order_id, v.order_no, 'applied', r.code, r.label_en, r.label_zh, ?, ?, v.voided_at,
               FALSE, v.voided_at, 'pending', v.paid
        FROM imp_voids v JOIN reasons r ON r.kind = 'void' AND r.code = 'imported' ORDER BY v.void_id""",
                    [ctx.note, ctx.actor.id])
    audited = audit_rows(cur, ctx, "void.apply", "void", """SELECT void_id AS entity_id, order_no, NULL AS before,
        '{"reason": "imported", "status": "voided"}' AS after FROM imp_voids ORDER BY void_id""")
    return written, audited
