"""Importing orders (SPEC §9): one row per order line with the order's header repeated, as ERP exports have it,
or one row per order (no SKU column) with its total. Rows are resolved against customers, warehouses, products and
sales reps, then checked as a whole: header fields agree within an order, no order already in the database, no SKU
twice in one order, enough available stock for the open orders' reservations."""
from lib.imports.base import (KNOWN_WAREHOUSES, OPEN, WAREHOUSE_KEYS, Context, check_line_repeats, check_repeats,
                              check_stock)
from lib.imports.stage import reject

MAX_TOTAL = 10_000_000_000   # DECIMAL(14,2) holds below 10^12; a larger order is a mistake in the file
# A sales rep may be named by username or display name.
REP_KEYS = """(SELECT DISTINCT ON (k) k, id FROM (
    SELECT lower(username) AS k, id, 1 AS pref FROM users WHERE role = 'sales'
    UNION ALL SELECT lower(display_name), id, 2 FROM users WHERE role = 'sales') ORDER BY k, pref)"""
# What must be the same on every row of one order (compared by hash: one GROUP BY instead of row-wise windows).
# A total the order takes from its lines is not compared.
_HEADER = ("hash(customer_code_raw, customer_name_raw, created_at, status, wh, payment_status, amount_paid,"
           " lower(rep_raw), voided_at{total})")


def has_lines(ctx: Context) -> bool:
    return "sku" in ctx.mapped


def file_total(ctx: Context) -> bool:
    """Whether an order's total is the file's own (a file without lines, or one whose total the mapping keeps)."""
    return "total" in ctx.mapped and (not has_lines(ctx) or ctx.mapping.totals == "keep")


def resolve(cur, ctx: Context) -> None:
    """imp_rows: the staged rows with customer, warehouse, product and rep resolved, each with its order's first
    row, that row's header hash, and the order's total (the sum of its lines, or the file's total)."""
    cur.execute(_resolved_sql(ctx))
    cur.execute("DROP TABLE imp_stage")
    amount = "qty * round(coalesce(unit_price, list_price), 2)"
    if file_total(ctx):
        total = "arg_min(total, _row)"
    else:
        total = f"coalesce(sum({amount}), 0)"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_rows AS
        SELECT r.*, g.first_row, g.first_header, g.order_total
        FROM imp_resolved r JOIN (SELECT order_no_raw, min(_row) AS first_row, arg_min(header, _row) AS first_header,
                                         {total} AS order_total
                                  FROM imp_resolved GROUP BY order_no_raw) g
          ON g.order_no_raw IS NOT DISTINCT FROM r.order_no_raw""")
    cur.execute("DROP TABLE imp_resolved")


def _resolved_sql(ctx: Context) -> str:
    """Joins only for what the mapping feeds: a column not mapped is NULL on every row and needs no lookup."""
    mapped = ctx.mapped
    names = ("""LEFT JOIN (SELECT lower(name) AS k, min(id) AS id, count(*) AS n FROM customers
                WHERE lower(name) IN (SELECT lower(customer_name_raw) FROM imp_stage) GROUP BY 1) n
                ON s.customer_code_raw IS NULL AND n.k = lower(s.customer_name_raw)"""
             if "customer_name" in mapped else "LEFT JOIN (SELECT NULL::INTEGER AS id, 0 AS n) n ON FALSE")
    reps = (f"LEFT JOIN {REP_KEYS} u ON u.k = lower(s.rep_raw)" if "rep" in mapped
            else "LEFT JOIN (SELECT NULL::INTEGER AS id) u ON FALSE")
    products = ("LEFT JOIN products p ON p.sku = s.sku" if "sku" in mapped
                else "LEFT JOIN (SELECT NULL::VARCHAR AS sku, NULL::DECIMAL(14,2) AS unit_price) p ON FALSE")
    return f"""CREATE OR REPLACE TEMP TABLE imp_resolved AS
        SELECT *, {_HEADER.format(total=", total" if file_total(ctx) else "")} AS header FROM (
            SELECT s.*, CASE WHEN s.customer_code_raw IS NOT NULL THEN c.id ELSE n.id END AS customer_id,
                   coalesce(n.n, 0) AS name_matches, w.code AS wh, p.sku AS product, p.unit_price AS list_price,
                   u.id AS rep_id, e.order_no IS NOT NULL AS in_db
            FROM imp_stage s
            LEFT JOIN customers c ON c.code = s.customer_code_raw
            {names}
            LEFT JOIN {WAREHOUSE_KEYS} w ON w.k = lower(s.warehouse_raw)
            {products}
            {reps}
            LEFT JOIN (SELECT order_no FROM orders WHERE order_no IN (SELECT order_no_raw FROM imp_stage)) e
              ON e.order_no = s.order_no_raw)"""


def check(cur, ctx: Context) -> None:
    """Every problem the staged types did not show, written to imp_rejects."""
    _check_references(cur, ctx)
    rows = "imp_rows"
    if not ctx.upsert:   # an upsert compares them instead (lib.imports.upsert)
        reject(cur, "order_no", "import.reject.order_exists", "in_db AND order_no_raw IS NOT NULL", table=rows)
    if has_lines(ctx):
        reject(cur, "order_no", "import.reject.header_differs", "_row <> first_row AND header <> first_header"
               " AND order_no_raw IS NOT NULL", info="first_row", table=rows)
        reject(cur, "qty", "import.reject.missing", "sku_raw IS NOT NULL AND qty_raw IS NULL", table=rows)
        reject(cur, "sku", "import.reject.missing", "sku_raw IS NULL AND qty_raw IS NOT NULL", table=rows)
        check_line_repeats(cur, ctx)
        check_stock(cur, f"status IN {OPEN} AND product IS NOT NULL AND wh IS NOT NULL AND qty > 0"
                         " AND qty = trunc(qty) AND qty <= 1000000 AND NOT in_db")
    else:
        check_repeats(cur, "order_no", "order_no_raw", "import.reject.duplicate_order", "order_no_raw IS NOT NULL")
    _check_money(cur, ctx)
    reject(cur, "voided_at", "import.reject.void_before_created", "status = 'voided' AND voided_at < created_at",
           table=rows)


def _check_references(cur, ctx: Context) -> None:
    rows = "imp_rows"
    customer = "customer_code" if "customer_code" in ctx.mapped else "customer_name"
    reject(cur, customer, "import.reject.missing", "customer_code_raw IS NULL AND customer_name_raw IS NULL",
           value="NULL", table=rows)
    reject(cur, "customer_code", "import.reject.unknown_customer",
           "customer_code_raw IS NOT NULL AND customer_id IS NULL", table=rows)
    reject(cur, "customer_name", "import.reject.unknown_customer", "customer_code_raw IS NULL"
           " AND customer_name_raw IS NOT NULL AND customer_id IS NULL", table=rows)
    reject(cur, "customer_name", "import.reject.ambiguous_customer", "customer_code_raw IS NULL"
           " AND name_matches > 1", info="name_matches", table=rows)
    reject(cur, "warehouse", "import.reject.unknown_warehouse", "warehouse_raw IS NOT NULL AND wh IS NULL",
           info=KNOWN_WAREHOUSES, table=rows)
    reject(cur, "sku", "import.reject.unknown_sku", "sku IS NOT NULL AND product IS NULL", table=rows)
    reject(cur, "rep", "import.reject.unknown_rep", "rep_raw IS NOT NULL AND rep_id IS NULL", table=rows)


def _check_money(cur, ctx: Context) -> None:
    """Order-level figures, reported once per order, on its first row."""
    first = "_row = first_row AND "
    rows = "imp_rows"
    reject(cur, "total" if not has_lines(ctx) else "unit_price", "import.reject.total_too_large",
           f"{first} order_total > {MAX_TOTAL}", value="CAST(order_total AS VARCHAR)", table=rows)
    if "amount_paid" in ctx.mapped:
        reject(cur, "amount_paid", "import.reject.paid_above_total", f"{first} amount_paid > order_total",
               info="CAST(round(order_total, 2) AS VARCHAR)", table=rows)
    if {"amount_paid", "payment_status"} <= ctx.mapped:
        reject(cur, "payment_status", "import.reject.payment_conflict",
               f"{first} ((payment_status = 'unpaid' AND amount_paid > 0)"
               " OR (payment_status = 'paid' AND amount_paid = 0))", info="amount_paid_raw", table=rows)


# An order's total as its lines that load make it (rows with a problem left out), unless the file's total is kept.
PREVIEW_LINES = """WITH page AS (SELECT * FROM imp_rows ORDER BY _row LIMIT ?),
        loading AS (SELECT order_no_raw, sum(qty * round(coalesce(unit_price, list_price), 2)) AS total FROM imp_rows
                    WHERE order_no_raw IN (SELECT order_no_raw FROM page)
                      AND _row NOT IN (SELECT _row FROM imp_rejects) GROUP BY 1)
    SELECT _row AS "row", page.order_no_raw AS order_no, coalesce(customer_code_raw, customer_name_raw)
        AS customer, created_at, status, wh AS warehouse, sku, CAST(qty AS BIGINT) AS qty,
        CAST(round(coalesce(unit_price, list_price), 2) AS DECIMAL(14,2)) AS unit_price,
        CAST(round({total}, 2) AS DECIMAL(14,2)) AS order_total
    FROM page LEFT JOIN loading ON loading.order_no_raw IS NOT DISTINCT FROM page.order_no_raw ORDER BY _row"""
PREVIEW_HEADERS = """SELECT _row AS "row", order_no_raw AS order_no, coalesce(customer_code_raw, customer_name_raw)
        AS customer, created_at, status, wh AS warehouse, CAST(round(order_total, 2) AS DECIMAL(14,2)) AS order_total
    FROM imp_rows ORDER BY _row LIMIT ?"""


def preview_sql(ctx: Context) -> str:
    if has_lines(ctx):
        return PREVIEW_LINES.format(total="order_total" if file_total(ctx) else "coalesce(loading.total, 0)")
    return PREVIEW_HEADERS
