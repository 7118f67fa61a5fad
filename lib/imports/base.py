"""What every kind of import shares: the run's context, id blocks, and the checks several kinds make in SQL."""
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from lib.domain import User
from lib.errors import RuleViolation
from lib.imports.mapping import Mapping
from lib.imports.stage import reject

OPEN = "('pending', 'processing')"
SHIPPED = "('shipped', 'completed')"
# A warehouse may be named by its code or by its English or Chinese name, in any case.
WAREHOUSE_KEYS = """(SELECT DISTINCT ON (k) k, code FROM (
    SELECT lower(code) AS k, code, 1 AS pref FROM warehouses
    UNION ALL SELECT lower(name_en), code, 2 FROM warehouses
    UNION ALL SELECT lower(name_zh), code, 3 FROM warehouses) ORDER BY k, pref)"""
KNOWN_WAREHOUSES = "(SELECT string_agg(code, ', ' ORDER BY code) FROM warehouses)"


@dataclass
class Context:
    """One run: the mapping, who imports, when (one moment for every row written), and the file's name."""
    mapping: Mapping
    actor: User
    now: datetime
    file_name: str
    mode: str = "insert"   # or "upsert": records already in the database compared and updated (lib.imports.upsert)

    @property
    def kind(self) -> str:
        return self.mapping.kind

    @property
    def upsert(self) -> bool:
        return self.mode == "upsert"

    @property
    def mapped(self) -> set[str]:
        return self.mapping.mapped()

    @property
    def note(self) -> str:
        return f"import: {self.file_name}"[:200]


# Set while an import runs in a workspace for a PostgreSQL server (lib.imports.server): (sequence, n) -> the first
# of n consecutive ids reserved in that server's sequence.
ID_SOURCE: ContextVar[Callable[[str, int], int] | None] = ContextVar("import_id_source", default=None)


def take_ids(cur, sequence: str, n: int) -> int:
    """Draw n values from a sequence and return the first; consecutive, because writers of this process take
    turns (Database.transaction) and only this process can write the file. In a server's workspace the block is
    reserved in the server's own sequence (ID_SOURCE)."""
    if n <= 0:
        return 0
    source = ID_SOURCE.get()
    if source is not None:
        return source(sequence, n)
    first = cur.execute("SELECT nextval(?)", [sequence]).fetchall()[0][0]
    if n > 1:
        cur.execute("SELECT max(nextval(?)) FROM range(?)", [sequence, n - 1]).fetchall()
    return int(first)


def count(cur, sql: str, params=None) -> int:
    return int(cur.execute(sql, params or []).fetchall()[0][0] or 0)


# A line whose SKU is on an earlier line of its order (order_lines.repeat_sku, migration 009), over imp_lines.
REPEAT_SKU = "row_number() OVER (PARTITION BY order_id, sku ORDER BY line_no) > 1"


def line_number(order: str, row: str = "") -> str:
    """SQL of a staged row's line number within its order (`order`: the column naming it; `row`: the staged rows'
    alias and a dot, if any): the file's when given,
    else after the order's highest given number in file order (1, 2, 3 … when none is given). Counting every row
    instead gave a blank line the number of a numbered one ("2" and a blank → two lines 2), and the main line's
    tie rule (lib.queries.main_line) then had no first line to pick."""
    return f"""CAST(coalesce({row}line_no, coalesce(max({row}line_no) OVER (PARTITION BY {order}), 0)
        + row_number() OVER (PARTITION BY {order}, {row}line_no IS NULL ORDER BY {row}_row)) AS INTEGER)"""


def check_line_repeats(cur, ctx: "Context") -> None:
    """A line number, when mapped, given twice for one order in the file. One SKU may be on several lines of an
    order (the same item at two prices, a free gift line), as ERPs write them."""
    if "line_no" in ctx.mapped:
        check_repeats(cur, "line_no", "order_no_raw, line_no", "import.reject.duplicate_line_no",
                      "line_no IS NOT NULL AND order_no_raw IS NOT NULL")


def check_repeats(cur, field: str, partition: str, reason: str, where: str = "TRUE") -> None:
    """Rows repeating an earlier row's `partition` key (within the file) are rejected, naming the first row."""
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_repeats AS SELECT _row, {field}_raw,
        min(_row) OVER (PARTITION BY {partition}) AS first_row FROM imp_rows WHERE {where}""")
    reject(cur, field, reason, "_row <> first_row", info="first_row", table="imp_repeats")


def check_stock(cur, where: str) -> None:
    """Rows whose reservation (running total per warehouse and SKU, in file order) exceeds available stock."""
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE imp_reserve AS
        SELECT r._row, r.sku, r.wanted, coalesce(b.on_hand - b.reserved, 0) AS available
        FROM (SELECT _row, wh, sku, sum(qty) OVER (PARTITION BY wh, sku ORDER BY _row
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS wanted
              FROM imp_rows WHERE {where}) r
        LEFT JOIN stock_balances b ON b.warehouse = r.wh AND b.sku = r.sku""")
    reject(cur, "qty", "import.reject.short_stock", "wanted > available", value="sku",
           info="CAST(wanted AS BIGINT)", extra="available", table="imp_reserve")


def reserve(cur, ctx: Context, lines: str) -> int:
    """Reserve stock through the ledger for `lines` (a query of order_id, order_no, warehouse, sku, qty): one
    ledger row per line, one balance update per warehouse and SKU. Returns the ledger rows written."""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE imp_reserved AS {lines}")
    written = count(cur, """INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_reserved, ref_type, ref_id,
        order_no, actor_id, note) SELECT ?, warehouse, sku, 'reserve', qty, 'order', order_id, order_no, ?, ?
        FROM imp_reserved ORDER BY order_id""", [ctx.now, ctx.actor.id, ctx.note])
    cur.execute("""UPDATE stock_balances SET reserved = stock_balances.reserved + d.qty, updated_at = ?
        FROM (SELECT warehouse, sku, sum(qty) AS qty FROM imp_reserved GROUP BY warehouse, sku) d
        WHERE stock_balances.warehouse = d.warehouse AND stock_balances.sku = d.sku""", [ctx.now])
    short = cur.execute("""SELECT b.warehouse, b.sku FROM stock_balances b
        JOIN (SELECT DISTINCT warehouse, sku FROM imp_reserved) d USING (warehouse, sku)
        WHERE b.on_hand - b.reserved < 0 LIMIT 1""").fetchall()
    if short:   # validation saw the same balances in this transaction; this guards the arithmetic
        raise RuleViolation("stock.would_go_negative", warehouse=short[0][0], sku=short[0][1])
    return written


def audit_rows(cur, ctx: Context, action: str, entity_type: str, query: str, params=None) -> int:
    """One audit entry per row of `query` (entity_id, order_no, before, after JSON text), all at ctx.now."""
    return count(cur, f"""INSERT INTO audit_log (created_at, actor_id, actor_name, action, entity_type, entity_id,
        order_no, before, after, note) SELECT ?, ?, ?, '{action}', '{entity_type}', CAST(entity_id AS VARCHAR),
        order_no, before, after, ? FROM ({query})""",
                 [ctx.now, ctx.actor.id, ctx.actor.username, ctx.note] + (params or []))
