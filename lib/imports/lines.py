"""Importing order lines for orders already in the database that have none yet (for example orders imported from
a header-only file). An order that already has lines is refused: lines are never added to or mixed into an order
someone may have worked on. An order imported without a total takes the sum of its lines, one with the ERP's
total keeps it unless the mapping says "lines" (Mapping.totals); open orders reserve their stock
through the ledger, shipped and completed ones count their lines as shipped, voided ones move no stock."""
from lib.errors import ConcurrentChange
from lib.imports.base import (OPEN, REPEAT_SKU, SHIPPED, Context, audit_rows, check_line_repeats, check_stock, count,
                              line_number, reserve)
from lib.imports.stage import reject
from lib.queries.category_mask import add_line_bits
from lib.queries.main_line import IMPORTED_LINES, set_main_skus

MAX_TOTAL = 10_000_000_000


def _kept(ctx: Context, total: str) -> str:
    """SQL: whether an order keeps the total it has from the ERP (a header-only import's total) rather than take
    the sum of its lines: unless the mapping says "lines"; an order imported without a total (0) takes the sum."""
    return f"({total} <> 0)" if ctx.mapping.totals == "keep" else "FALSE"


def resolve(cur, ctx: Context) -> None:
    cur.execute("""CREATE OR REPLACE TEMP TABLE imp_rows AS
        WITH o AS (SELECT id, order_no, status, warehouse, amount_paid, version, total AS current_total FROM orders
                   WHERE order_no IN (SELECT order_no_raw FROM imp_stage)),
             filled AS (SELECT DISTINCT order_id FROM order_lines WHERE order_id IN (SELECT id FROM o)),
             r AS (SELECT s.*, o.id AS order_id, o.status, o.warehouse AS wh, o.amount_paid, o.version, o.current_total,
                          f.order_id IS NOT NULL AS has_lines, p.sku AS product, p.unit_price AS list_price
                   FROM imp_stage s LEFT JOIN o ON o.order_no = s.order_no_raw
                   LEFT JOIN filled f ON f.order_id = o.id LEFT JOIN products p ON p.sku = s.sku)
        SELECT *, min(_row) OVER (PARTITION BY order_no_raw) AS first_row,
               sum(qty * round(coalesce(unit_price, list_price), 2)) OVER (PARTITION BY order_no_raw) AS order_total
        FROM r""")


def check(cur, ctx: Context) -> None:
    rows = "imp_rows"
    reject(cur, "order_no", "import.reject.unknown_order", "order_no_raw IS NOT NULL AND order_id IS NULL",
           table=rows)
    reject(cur, "order_no", "import.reject.order_has_lines", "has_lines", table=rows)
    reject(cur, "order_no", "import.reject.order_archived", "status = 'archived'", table=rows)
    reject(cur, "sku", "import.reject.unknown_sku", "sku IS NOT NULL AND product IS NULL", table=rows)
    check_line_repeats(cur, ctx)
    check_stock(cur, f"status IN {OPEN} AND product IS NOT NULL AND NOT has_lines AND qty > 0 AND qty = trunc(qty)"
                     " AND qty <= 1000000")
    reject(cur, "unit_price", "import.reject.total_too_large", f"_row = first_row AND order_total > {MAX_TOTAL}",
           value="CAST(order_total AS VARCHAR)", table=rows)
    reject(cur, "qty", "import.reject.lines_below_paid", f"_row = first_row AND NOT {_kept(ctx, 'current_total')}"
           " AND order_total < amount_paid",
           value="CAST(round(order_total, 2) AS VARCHAR)", info="CAST(amount_paid AS VARCHAR)", table=rows)


def load(cur, ctx: Context) -> dict[str, int]:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_lines AS
        SELECT order_id, order_no_raw AS order_no, status, wh AS warehouse, version,
               {line_number("order_id")} AS line_no,
               sku, CAST(qty AS INTEGER) AS qty,
               CAST(round(coalesce(unit_price, list_price), 2) AS DECIMAL(14,2)) AS unit_price,
               CASE WHEN status IN {SHIPPED} THEN CAST(qty AS INTEGER) ELSE 0 END AS shipped
        FROM imp_rows""")
    counts = {"order_lines": count(cur, f"""INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price,
        qty_shipped, repeat_sku) SELECT order_id, line_no, sku, qty, unit_price, shipped, {REPEAT_SKU} FROM imp_lines
        ORDER BY order_id, line_no""")}
    add_line_bits(cur, "SELECT order_id, sku FROM imp_lines")
    set_main_skus(cur, IMPORTED_LINES)
    counts["stock_ledger"] = reserve(cur, ctx, f"""SELECT order_id, order_no, warehouse, sku, qty FROM imp_lines
        WHERE status IN {OPEN}""")
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_totals AS
        SELECT l.order_id, l.order_no, o.total AS before,
               CASE WHEN {_kept(ctx, 'o.total')} THEN o.total ELSE CAST(sum(l.qty * l.unit_price) AS DECIMAL(14,2))
               END AS total,
               count(*) AS lines, min(l.version) AS version
        FROM imp_lines l JOIN orders o ON o.id = l.order_id GROUP BY l.order_id, l.order_no, o.total""")
    # Guarded by the version read in this transaction, as every order update is (lib.services.orders.bump).
    counts["orders"] = count(cur, """UPDATE orders SET total = t.total, version = orders.version + 1, updated_at = ?
        FROM imp_totals t WHERE orders.id = t.order_id AND orders.version = t.version""", [ctx.now])
    if counts["orders"] != count(cur, "SELECT count(*) FROM imp_totals"):
        raise ConcurrentChange("import.changed_meanwhile")
    counts["audit_log"] = audit_rows(cur, ctx, "order.import_lines", "order", """SELECT order_id AS entity_id,
        order_no, CAST(json_object('total', CAST(before AS VARCHAR)) AS VARCHAR) AS before,
        CAST(json_object('total', CAST(total AS VARCHAR), 'lines', lines) AS VARCHAR) AS after
        FROM imp_totals ORDER BY order_id""")
    return counts


PREVIEW = """SELECT _row AS "row", order_no_raw AS order_no, status, wh AS warehouse, sku, CAST(qty AS BIGINT) AS qty,
        CAST(round(coalesce(unit_price, list_price), 2) AS DECIMAL(14,2)) AS unit_price,
        CAST(round(order_total, 2) AS DECIMAL(14,2)) AS order_total
    FROM imp_rows ORDER BY _row LIMIT ?"""


def preview_sql(ctx: Context) -> str:
    return PREVIEW
