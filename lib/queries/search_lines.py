"""Searches that filter on order lines (SKU, product, category): the count and the page without a big semi-join.

`o.id IN (SELECT order_id FROM order_lines WHERE sku IN …)` makes DuckDB hash every matching line (a category is
a fifth of 15 million lines) and probe every order with it: 120–250 ms at 5 million orders. So:
- a filter naming a few SKUs keeps that semi-join, in one statement with the count: its build side is small;
- otherwise the count sets one bit per matching order id (`bitstring_agg` over the lines: one pass, no hashing),
  and the page takes the first K orders by the sort key from `orders` alone and keeps those with a matching
  line, widening K until the page is full; a dense filter fills a page from a few hundred candidates, a rare
  one goes to the semi-join after all.
Every line filter is a small SKU set as SQL (`sku_sql`, its `params`); an order must match all of them.
"""
import math

FEW_SKUS = 0.02       # a line filter naming less of the catalogue than this keeps the one-statement semi-join
DENSE = 0.01          # below this share of orders matching, the semi-join page is the cheaper plan
ROUNDS = 3            # candidate windows tried (each 8× the last) before falling back to the semi-join
MIN_WINDOW = 200      # candidates in the first window at least
OVERSHOOT = 3         # the first window holds this many times the candidates the density predicts a page needs


def few_skus(cur, sets: list[tuple[str, list]]) -> bool:
    """Whether some set names only a sliver of the catalogue (then the semi-join's build side is small)."""
    shares = cur.execute(" UNION ALL ".join(f"SELECT 1.0 * count(*) / greatest((SELECT count(*) FROM products), 1)"
                                            f" FROM ({sql}) skus" for sql, _ in sets),
                         [p for _, ps in sets for p in ps]).fetchall()
    return min(share for (share,) in shares) < FEW_SKUS


def order_bounds(cur) -> tuple[int, int] | None:
    """(smallest, largest) order id in this snapshot, or None without orders; every line's order is inside."""
    lo, hi = cur.execute("SELECT min(id), max(id) FROM orders").fetchall()[0]
    return None if lo is None else (lo, hi)


def _bits(sets: list[tuple[str, list]], bounds: tuple[int, int]) -> tuple[str, list]:
    """A scalar subquery: the bitstring over [lo, hi] of the order ids that have a line in every set."""
    lo, hi = bounds
    agg = "bitstring_agg(l.order_id, ?::BIGINT, ?::BIGINT)"
    any_set = " OR ".join(f"l.sku IN ({sql})" for sql, _ in sets)
    set_params = [p for _, ps in sets for p in ps]
    where = f"l.order_id BETWEEN ? AND ? AND ({any_set})"   # a plain filter: DuckDB pushes it into the scan
    if len(sets) == 1:
        return f"(SELECT {agg} FROM order_lines l WHERE {where})", [lo, hi, lo, hi] + set_params
    each = ", ".join(f"{agg} FILTER (WHERE l.sku IN ({sql})) AS b{i}" for i, (sql, _) in enumerate(sets))
    both = " & ".join(f"b{i}" for i in range(len(sets)))
    each_params = [p for _, ps in sets for p in (lo, hi, *ps)]
    return f"(SELECT {both} FROM (SELECT {each} FROM order_lines l WHERE {where}))", each_params + [lo, hi] + set_params


def count(cur, where: str, params: list, sets: list, bounds: tuple[int, int]) -> int:
    """How many orders match `where` (over `orders o`) and have a line in every set."""
    bits, bits_params = _bits(sets, bounds)
    if where != "TRUE":   # and the orders' own filters as a second bitstring over the same ids
        bits = f"({bits} & (SELECT bitstring_agg(o.id, ?::BIGINT, ?::BIGINT) FROM orders o WHERE {where}))"
        bits_params = bits_params + [*bounds] + params
    return cur.execute(f"SELECT coalesce(bit_count({bits}), 0)", bits_params).fetchall()[0][0]


def page_ids(cur, where: str, params: list, sets: list, order: tuple[str, str, str], want: int,
             total: int, bounds: tuple[int, int]) -> list[int]:
    """The ids of the first `want` matching orders in sort order (`order` = sort expression, join, direction)."""
    expr, join, direction = order
    density = total / (bounds[1] - bounds[0] + 1)
    if total and density >= DENSE:
        k = max(math.ceil(want / density * OVERSHOOT), MIN_WINDOW)
        for _ in range(ROUNDS):
            candidates = [r[0] for r in cur.execute(
                f"SELECT o.id FROM orders o {join} WHERE {where} ORDER BY {expr} {direction}, o.id {direction} LIMIT ?",
                params + [k]).fetchall()]
            hits = _having_lines(cur, candidates, sets)
            found = [i for i in candidates if i in hits]
            if len(found) >= want or len(candidates) < k:
                return found[:want]
            k *= 8
    semi = " AND ".join(f"o.id IN (SELECT l.order_id FROM order_lines l WHERE l.sku IN ({sql}))" for sql, _ in sets)
    return [r[0] for r in cur.execute(
        f"SELECT o.id FROM orders o {join} WHERE {where} AND {semi} ORDER BY {expr} {direction}, o.id {direction}"
        " LIMIT ?", params + [p for _, ps in sets for p in ps] + [want]).fetchall()]


def _having_lines(cur, ids: list[int], sets: list) -> set[int]:
    """The ids among `ids` with a line in every set (their lines sit together: the id range skips the rest)."""
    if not ids:
        return set()
    having = " AND ".join(f"bool_or(l.sku IN ({sql}))" for sql, _ in sets)
    return {r[0] for r in cur.execute(
        f"SELECT l.order_id FROM order_lines l JOIN (SELECT unnest(?::BIGINT[]) AS id) k ON k.id = l.order_id"
        f" WHERE l.order_id BETWEEN ? AND ? GROUP BY l.order_id HAVING {having}",
        [ids, min(ids), max(ids)] + [p for _, ps in sets for p in ps]).fetchall()}
