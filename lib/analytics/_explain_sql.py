"""The SQL behind lib.analytics.explain: both periods' counted records and bases in one temporary table, then one
grouped query per dimension that ranks the segments and folds the long tail into one row.

The counts and bases are the dashboards' own (_sql.orders_cte / voids_select for voids, shipped_cte /
returns_select for returns), so the totals equal the KPIs of the same filters.
"""
from lib.analytics._sql import Span, orders_cte, returns_select, shipped_cte, unscoped, voids_select
from lib.analytics.filters import AnalyticsFilters

# dimension -> (segment column of `xe x`, SQL of (g, key, label_en, label_zh)); sku and category read `xs` instead
GROUPS = {
    "rep": ("x.rep_id", "SELECT id, username, display_name, display_name FROM users"),
    "customer": ("x.customer_id", "SELECT id, code, name, name FROM customers"),
    "warehouse": ("x.warehouse", "SELECT code, code, name_en, name_zh FROM warehouses"),
    "source": ("x.source", None),
    "reason": ("x.reason_code", None),
    "sku": ("x.sku", "SELECT sku, sku, name, name FROM products"),
    "category": ("x.category", "SELECT code, code, name_en, name_zh FROM categories"),
}
COUNT_ONLY = ("reason",)   # dimensions of the counted records only: each segment's base is the whole base
_COUNTS = """count(*) FILTER (WHERE x.p = 0 AND NOT x.is_count) AS b0, count(*) FILTER (WHERE x.p = 1 AND NOT x.is_count) AS b1,
             count(*) FILTER (WHERE x.p = 0 AND x.is_count) AS c0, count(*) FILTER (WHERE x.p = 1 AND x.is_count) AS c1"""
_ATTRS = "rep_id, customer_id, warehouse, source"


def load(cur, kind: str, periods: list[tuple[AnalyticsFilters, Span]]) -> None:
    """Temporary table `xe` (p, is_count, order_id, reason_code, rep_id, customer_id, warehouse, source): per
    period p (0 before, 1 after) the orders of the base and the counted records (voids / return notes)."""
    parts, params = [], []
    for p, (f, s) in enumerate(periods):
        sql, more = (_void_rows if kind == "voids" else _return_rows)(p, f, s)
        parts.append(f"SELECT * FROM ({sql})")
        params += more
    cur.execute(f"CREATE OR REPLACE TEMP TABLE xe AS {' UNION ALL '.join(parts)}", params)


def load_products(cur, kind: str, periods: list[tuple[AnalyticsFilters, Span]]) -> None:
    """Temporary table `xs` (sku, b0, b1, c0, c1): base and count per period by each order's main SKU (the SKU of
    its line of largest value, qty × unit price; on a tie the first line), NULL for orders without lines.

    When each period's base is exactly its orders' id range (void rates, orders stored in time order, no filter on
    orders), the bases are counted straight from the lines' aggregate by id range: joining ~0.7M orders to their
    main SKU cost more than everything else together at 5M orders.
    """
    _load_main_lines(cur, [s for _, s in periods])
    if kind == "voids" and all(s.contiguous and unscoped(f) for f, s in periods):
        (_, s0), (_, s1) = periods
        bases = """SELECT sku, count(*) FILTER (WHERE order_id BETWEEN ? AND ?) AS b0,
                          count(*) FILTER (WHERE order_id BETWEEN ? AND ?) AS b1, 0 AS c0, 0 AS c1 FROM xd GROUP BY 1"""
        params = [s0.olo, s0.ohi, s1.olo, s1.ohi]
        counted = f"SELECT xd.sku, {_COUNTS} FROM xe x LEFT JOIN xd ON xd.order_id = x.order_id WHERE x.is_count GROUP BY 1"
        cur.execute(f"""CREATE OR REPLACE TEMP TABLE xs AS
            SELECT sku, sum(b0) AS b0, sum(b1) AS b1, sum(c0) AS c0, sum(c1) AS c1
            FROM ({bases} UNION ALL {counted}) GROUP BY 1""", params)
        # base orders without any line are in no SKU's count: they make the NULL segment
        cur.execute("""INSERT INTO xs SELECT NULL, b0, b1, 0, 0 FROM (
            SELECT (SELECT count(*) FROM xe WHERE p = 0 AND NOT is_count) - sum(b0) AS b0,
                   (SELECT count(*) FROM xe WHERE p = 1 AND NOT is_count) - sum(b1) AS b1 FROM xs)
            WHERE b0 <> 0 OR b1 <> 0""")
        return
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE xs AS
        SELECT xd.sku, {_COUNTS} FROM xe x LEFT JOIN xd ON xd.order_id = x.order_id GROUP BY 1""")


def _void_rows(p: int, f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    po, p1 = orders_cte(f, s)
    vs, p2 = voids_select(f, s)
    return (f"""WITH {po}
        SELECT {p} AS p, FALSE AS is_count, id AS order_id, NULL::VARCHAR AS reason_code, {_ATTRS} FROM po
        UNION ALL SELECT {p}, TRUE, order_id, reason_code, {_ATTRS} FROM ({vs})""", p1 + p2)


def _return_rows(p: int, f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    ps, p1 = shipped_cte(f, s)
    rn, p2 = returns_select(f, s)
    attrs = ", ".join(f"o.{a.strip()}" for a in _ATTRS.split(","))
    return (f"""WITH {ps}
        SELECT {p} AS p, FALSE AS is_count, o.id AS order_id, NULL::VARCHAR AS reason_code, {attrs}
        FROM ps JOIN orders o ON o.id = ps.id WHERE o.id BETWEEN ? AND ?
        UNION ALL SELECT {p}, TRUE, o.id, n.reason_code, {attrs}
        FROM ({rn}) n JOIN orders o ON o.id = n.order_id WHERE o.id BETWEEN ? AND ?""",
            p1 + [s.lo, s.hi] + p2 + [s.lo, s.hi])


def _load_main_lines(cur, spans: list[Span]) -> None:
    """Temporary table `xd` (order_id, sku): the main SKU of each order of the periods' id ranges.

    The value and line number are folded into one integer for arg_max (a struct key took 60% longer at 5M orders),
    and the id ranges are read without a semi-join on `xe` (the periods' own orders are most of them anyway).
    """
    ranges = _merged([(s.lo, s.hi) for s in spans if s.lo <= s.hi])
    lines = " UNION ALL ".join("SELECT order_id, sku, qty, unit_price, line_no FROM order_lines"
                               " WHERE order_id BETWEEN ? AND ?" for _ in ranges) or \
        "SELECT order_id, sku, qty, unit_price, line_no FROM order_lines WHERE FALSE"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE xd AS
        SELECT order_id, arg_max(sku, CAST(qty * unit_price * 100 AS BIGINT) * 65536 - line_no) AS sku
        FROM ({lines}) GROUP BY 1""", [n for r in ranges for n in r])


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping id ranges joined, so no line is read twice."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def totals(cur) -> tuple[int, int, int, int]:
    """(base before, count before, base after, count after) from `xe`."""
    row = cur.execute("""SELECT count(*) FILTER (WHERE p = 0 AND NOT is_count), count(*) FILTER (WHERE p = 0 AND is_count),
        count(*) FILTER (WHERE p = 1 AND NOT is_count), count(*) FILTER (WHERE p = 1 AND is_count) FROM xe""").fetchall()
    return tuple(int(n) for n in row[0])


def _seg(dimension: str, group: str) -> str:
    """SQL of (g, b0, b1, c0, c1) per segment."""
    if dimension == "sku":
        return "SELECT sku AS g, b0, b1, c0, c1 FROM xs"
    if dimension == "category":
        return """SELECT p.category AS g, sum(b0) AS b0, sum(b1) AS b1, sum(c0) AS c0, sum(c1) AS c1
                  FROM xs LEFT JOIN products p ON p.sku = xs.sku GROUP BY 1"""
    only = "WHERE x.is_count" if dimension in COUNT_ONLY else ""
    return f"SELECT {group} AS g, {_COUNTS} FROM xe x {only} GROUP BY 1"


def _rate_sql(c: str, b: str) -> str:
    return f"{c}::DOUBLE / nullif({b}, 0)"


def segments(cur, dimension: str, measure: str, totals_: tuple, top: int) -> list[tuple]:
    """The `top` segments of largest |contribution|, then one row for the rest when there is any, each
    (named, g, key, label_en, label_zh, b0, b1, c0, c1, mix, members); g is NULL for orders without a value.

    Ranking and the rest's mix are in doubles; the caller recomputes the named rows exactly from their counts.
    """
    group, names = GROUPS[dimension]
    b0, b1 = ("t.base0", "t.base1") if dimension in COUNT_ONLY else ("s.b0", "s.b1")
    r0 = f"coalesce({_rate_sql('s.c0', b0)}, {_rate_sql('s.c1', b1)}, 0)"
    r1 = f"coalesce({_rate_sql('s.c1', b1)}, {_rate_sql('s.c0', b0)}, 0)"
    if measure == "count":
        contribution, mix = "s.c1 - s.c0", f"({b1} - {b0}) * ({r0} + {r1}) / 2"
    else:
        contribution = "s.c1::DOUBLE / t.base1 - s.c0::DOUBLE / t.base0"
        mix = f"({b1}::DOUBLE / t.base1 - {b0}::DOUBLE / t.base0) * ({r0} + {r1}) / 2"
    label_sql = (f"LEFT JOIN ({names}) n(g, key, en, zh) ON k.named AND n.g = k.g" if names else
                 "LEFT JOIN (SELECT NULL AS g, NULL AS key, NULL AS en, NULL AS zh) n ON FALSE")
    sql = f"""WITH t AS (SELECT greatest(?, 1) AS base0, greatest(?, 1) AS base1),
        seg AS ({_seg(dimension, group)}),
        r AS (SELECT s.*, {mix} AS mix,
                     row_number() OVER (ORDER BY abs({contribution}) DESC, s.g NULLS LAST) <= ? AS named,
                     row_number() OVER (ORDER BY abs({contribution}) DESC, s.g NULLS LAST) AS rk
              FROM seg s, t),
        k AS (SELECT named, CASE WHEN named THEN g END AS g, min(rk) AS rk, sum(b0) AS b0, sum(b1) AS b1,
                     sum(c0) AS c0, sum(c1) AS c1, sum(mix) AS mix, count(*) AS members
              FROM r GROUP BY 1, 2)
        SELECT k.named, k.g, n.key, n.en, n.zh, k.b0, k.b1, k.c0, k.c1, k.mix, k.members
        FROM k {label_sql} ORDER BY k.rk"""
    return cur.execute(sql, [totals_[0], totals_[2], top]).fetchall()
