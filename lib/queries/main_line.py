"""An order's main line (issue #17): its line of largest value, quantity × unit price; on a tie the first line (the
smallest line number). Explain counts an order under its main line's product and category, and Search's "main
product" / "main category" filters list the orders counted so — both read it from here.

Order lines never change once written (only their shipped and returned quantities), so each order keeps the SKU of
its main line in orders.main_sku (migration 015): set by every write of order lines through set_main_skus, checked
by `check` (DRIFT_SQL). Reading one column spares a search or Explain folding millions of lines at query time: a
search by main category alone 127 → 16 ms at 1,000,000 orders (README "Performance").
"""


def value(line: str) -> str:
    """SQL of the value of `line` (an alias of order lines)."""
    return f"{line}.qty * {line}.unit_price"


def main_first(line: str) -> str:
    """SQL ORDER BY keys that put an order's main line first among its lines `line`: the largest value, then the
    smallest line number, then the first written (imports before migration 017 could give two lines one number).
    The rule's only SQL form (migrations 015 and 017 repeat it, as migrations are frozen text)."""
    return f"{value(line)} DESC, {line}.line_no, {line}.id"


def main_lines(lines_sql: str) -> str:
    """SQL of (order_id, sku): the main line of each order among the lines `lines_sql` yields (columns id, order_id,
    line_no, sku, qty, unit_price). DuckDB and PostgreSQL alike."""
    return f"""SELECT m.order_id, m.sku FROM (
        SELECT l.order_id, l.sku, row_number() OVER (PARTITION BY l.order_id ORDER BY {main_first('l')}) AS n
        FROM ({lines_sql}) l) m WHERE m.n = 1"""


def set_main_skus(cur, lines_sql: str, params: list | None = None) -> None:
    """Set orders.main_sku of the orders whose lines `lines_sql` yields — all their lines: lines are written once,
    whole, per order (a new order, a seed, an import of orders or of lines into orders that have none)."""
    cur.execute(f"""UPDATE orders SET main_sku = m.sku FROM ({main_lines(lines_sql)}) m
        WHERE orders.id = m.order_id""", params or [])


# Every order's lines, for set_main_skus and main_lines.
ALL_LINES = "SELECT id, order_id, line_no, sku, qty, unit_price FROM order_lines"
# The lines of the orders an import just wrote (its staged lines, imp_lines, name them).
IMPORTED_LINES = f"{ALL_LINES} WHERE order_id IN (SELECT order_id FROM imp_lines)"
# Orders whose main_sku differs from their lines' main line (NULL: no lines), for `check`.
DRIFT_SQL = f"""SELECT o.order_no FROM orders o LEFT JOIN ({main_lines(ALL_LINES)}) m ON m.order_id = o.id
    WHERE o.main_sku IS DISTINCT FROM m.sku"""


def main_sku_in(sets: list[tuple[str, list]]) -> tuple[str, list]:
    """SQL over `orders o` of the orders whose main SKU is in every one of `sets` (each a small set of SKUs as SQL
    and its parameters), and its parameters."""
    return (" AND ".join(f"o.main_sku IN ({sql})" for sql, _ in sets),
            [p for _, params in sets for p in params])
