"""An order's main line (issue #17): its line of largest value, quantity × unit price; on a tie the first line (the
smallest line number). Explain counts an order under its main line's product and category, and Search's "main
product" / "main category" filters list the orders counted so — both take the rule from here.

The rule has two SQL forms over the same ordering (a test proves they pick the same line):
- `beats(m, l)`, portable (DuckDB and PostgreSQL): line m comes before line l of the same order. A line is the
  main line when no line of its order beats it (main_line_orders: Search).
- `packed(l, k)`, DuckDB only: the ordering as one number, largest first, with a small rank `k` in its low bits, so
  folding millions of lines into their orders is a plain max() (lib.analytics._explain_sql: Explain).
"""

RANK_BITS = 24        # the low bits of packed(): a SKU's rank among the products
_LINE_BITS = 16       # then the line number, reversed (an order has far fewer lines)
RANK_MASK = (1 << RANK_BITS) - 1


def value(line: str) -> str:
    """SQL of the value of `line` (an alias of order_lines)."""
    return f"{line}.qty * {line}.unit_price"


def beats(line: str, other: str) -> str:
    """SQL: `line` comes before `other` of the same order (a larger value, or the same value and an earlier line)."""
    return (f"({value(line)} > {value(other)}"
            f" OR ({value(line)} = {value(other)} AND {line}.line_no < {other}.line_no))")


def packed(line: str, k: str) -> str:
    """SQL of one HUGEINT that orders an order's lines as beats() does, largest first: the value in cents (prices
    have two decimals), then the line number reversed, then `k` (0 ≤ k < 2^RANK_BITS) in the low bits to be read
    back with `& RANK_MASK` from the max."""
    return (f"(((CAST({value(line)} * 100 AS HUGEINT) << {_LINE_BITS}) - {line}.line_no) << {RANK_BITS})"
            f" | coalesce({k}, 0)")


def main_line_orders(sets: list[tuple[str, list]], scope: tuple[str, list] | None = None) -> tuple[str, list]:
    """SQL of the ids of orders whose main line's SKU is in every one of `sets` (each a small set of SKUs as SQL and
    its parameters), and its parameters: the lines of such SKUs that no line of their order beats.

    `scope`, a condition over `orders o` (SQL, parameters) the caller asks too, only narrows which lines are read:
    a drill-down's 30 days of voids take 20 ms instead of 120 at 1M orders (DuckDB does not push the caller's
    filters into this subquery)."""
    scoped = [f"l.order_id IN (SELECT o.id FROM orders o WHERE {scope[0]})"] if scope else []
    where = " AND ".join(scoped + [f"l.sku IN ({sql})" for sql, _ in sets])
    params = (scope[1] if scope else []) + [p for _, ps in sets for p in ps]
    return (f"""SELECT l.order_id FROM order_lines l WHERE {where} AND NOT EXISTS (
        SELECT 1 FROM order_lines m WHERE m.order_id = l.order_id AND {beats('m', 'l')})""", params)
