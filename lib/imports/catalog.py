"""Importing customers, products and stock. Customers and products are new records only (a code or SKU already in
the database is refused, never overwritten) unless the run is an upsert (lib.imports.upsert), which compares them.
Stock quantities are received: added to what is on hand (and in quarantine) through the ledger, one ledger row per
warehouse and SKU, kind 'import', with an audit entry each; in an upsert a warehouse and SKU already held is set to
the file's count instead, by an adjustment."""
from lib.imports.base import KNOWN_WAREHOUSES, WAREHOUSE_KEYS, Context, audit_rows, check_repeats, count
from lib.imports.stage import reject

ROWS = "imp_rows"
# A category may be named by its code or by its English or Chinese name, in any case.
_CATEGORY_KEYS = """(SELECT DISTINCT ON (k) k, code FROM (
    SELECT lower(code) AS k, code, 1 AS pref FROM categories
    UNION ALL SELECT lower(name_en), code, 2 FROM categories
    UNION ALL SELECT lower(name_zh), code, 3 FROM categories) ORDER BY k, pref)"""


# --- customers --------------------------------------------------------------------------------------------------

def resolve_customers(cur, ctx: Context) -> None:
    cur.execute("""CREATE OR REPLACE TEMP TABLE imp_rows AS
        SELECT s.*, c.id IS NOT NULL AS in_db, c.id AS current_id, c.name AS cur_name, c.city AS cur_city,
               c.phone AS cur_phone FROM imp_stage s
        LEFT JOIN customers c ON c.code = s.customer_code_raw""")


def check_customers(cur, ctx: Context) -> None:
    if not ctx.upsert:
        reject(cur, "customer_code", "import.reject.customer_exists", "in_db", table=ROWS)
    check_repeats(cur, "customer_code", "customer_code_raw", "import.reject.duplicate_code",
                  "customer_code_raw IS NOT NULL")


def load_customers(cur, ctx: Context) -> dict[str, int]:
    return {"customers": count(cur, """INSERT INTO customers (code, name, city, phone, created_at)
        SELECT customer_code_raw, customer_name_raw, city_raw, phone_raw, ? FROM imp_rows ORDER BY _row""",
                                [ctx.now])}


PREVIEW_CUSTOMERS = """SELECT _row AS "row", customer_code_raw AS code, customer_name_raw AS name, city_raw AS city,
        phone_raw AS phone
    FROM imp_rows ORDER BY _row LIMIT ?"""


# --- products ---------------------------------------------------------------------------------------------------

def resolve_products(cur, ctx: Context) -> None:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_rows AS
        SELECT s.*, p.sku IS NOT NULL AS in_db, k.code AS category_code, p.name AS cur_name,
               p.category AS cur_category, p.unit_price AS cur_price FROM imp_stage s
        LEFT JOIN products p ON p.sku = s.sku LEFT JOIN {_CATEGORY_KEYS} k ON k.k = lower(s.category_raw)""")


def check_products(cur, ctx: Context) -> None:
    if not ctx.upsert:
        reject(cur, "sku", "import.reject.product_exists", "in_db", table=ROWS)
    check_repeats(cur, "sku", "sku", "import.reject.duplicate_sku", "sku IS NOT NULL")
    reject(cur, "category", "import.reject.unknown_category", "category_raw IS NOT NULL AND category_code IS NULL",
           info="(SELECT string_agg(code, ', ' ORDER BY sort_order, code) FROM categories)", table=ROWS)


def load_products(cur, ctx: Context) -> dict[str, int]:
    return {"products": count(cur, """INSERT INTO products (sku, name, category, unit_price, active)
        SELECT sku, product_name_raw, category_code, CAST(round(unit_price, 2) AS DECIMAL(14,2)), TRUE
        FROM imp_rows ORDER BY _row""")}


PREVIEW_PRODUCTS = """SELECT _row AS "row", sku, product_name_raw AS name, category_code AS category,
        CAST(round(unit_price, 2) AS DECIMAL(14,2)) AS unit_price
    FROM imp_rows ORDER BY _row LIMIT ?"""


# --- stock ------------------------------------------------------------------------------------------------------

def resolve_stock(cur, ctx: Context) -> None:
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_rows AS
        SELECT s.*, w.code AS wh, p.sku AS product, b.sku IS NOT NULL AS in_db, b.on_hand AS cur_on_hand,
               b.reserved AS cur_reserved, b.quarantine AS cur_quarantine FROM imp_stage s
        LEFT JOIN {WAREHOUSE_KEYS} w ON w.k = lower(s.warehouse_raw) LEFT JOIN products p ON p.sku = s.sku
        LEFT JOIN stock_balances b ON b.warehouse = w.code AND b.sku = s.sku""")


def check_stock_rows(cur, ctx: Context) -> None:
    reject(cur, "warehouse", "import.reject.unknown_warehouse", "warehouse_raw IS NOT NULL AND wh IS NULL",
           info=KNOWN_WAREHOUSES, table=ROWS)
    reject(cur, "sku", "import.reject.unknown_sku", "sku IS NOT NULL AND product IS NULL", table=ROWS)
    check_repeats(cur, "sku", "wh, sku", "import.reject.duplicate_stock", "wh IS NOT NULL AND sku IS NOT NULL")


def load_stock(cur, ctx: Context) -> dict[str, int]:
    cur.execute("""CREATE OR REPLACE TEMP TABLE imp_moves AS
        SELECT wh AS warehouse, sku, CAST(qty AS BIGINT) AS d_on, CAST(coalesce(quarantine, 0) AS BIGINT) AS d_q
        FROM imp_rows WHERE qty > 0 OR quarantine > 0""")
    counts = {"stock_ledger": count(cur, """INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand,
        d_quarantine, ref_type, actor_id, note) SELECT ?, warehouse, sku, 'import', d_on, d_q, 'import', ?, ?
        FROM imp_moves ORDER BY warehouse, sku""", [ctx.now, ctx.actor.id, ctx.note])}
    counts["stock_balances"] = count(cur, """INSERT INTO stock_balances (warehouse, sku, on_hand, reserved,
        quarantine, updated_at) SELECT warehouse, sku, d_on, 0, d_q, ? FROM imp_moves
        ON CONFLICT (warehouse, sku) DO UPDATE SET on_hand = stock_balances.on_hand + excluded.on_hand,
            quarantine = stock_balances.quarantine + excluded.quarantine, updated_at = excluded.updated_at""",
                                     [ctx.now])
    counts["audit_log"] = audit_rows(cur, ctx, "stock.import", "stock", """SELECT warehouse || '/' || sku AS entity_id,
        NULL AS order_no, NULL AS before, CAST(json_object('d_on_hand', d_on, 'd_quarantine', d_q) AS VARCHAR) AS after
        FROM imp_moves ORDER BY warehouse, sku""")
    return counts


PREVIEW_STOCK = """SELECT _row AS "row", wh AS warehouse, sku, CAST(qty AS BIGINT) AS qty,
        CAST(coalesce(quarantine, 0) AS BIGINT) AS quarantine
    FROM imp_rows ORDER BY _row LIMIT ?"""
