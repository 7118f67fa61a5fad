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


def load(cur, kind: str, periods: list[tuple[AnalyticsFilters, Span]]) -> bool:
    """Temporary table `xe` (p, is_count, order_id, reason_code, rep_id, customer_id, warehouse, source): per
    period p (0 before, 1 after) the counted records (voids / return notes) and the orders of the base.

    Returns whether the bases are id ranges: void rates with each period's orders exactly its id range (orders
    stored in time order) and no filter on orders. Then the base orders are left out of `xe` and counted straight
    from `orders` by range (base_ranges), which spares copying some 0.7M rows at 5M orders.
    """
    by_range = kind == "voids" and all(s.contiguous and unscoped(f) for f, s in periods)
    parts, params = [], []
    for p, (f, s) in enumerate(periods):
        sql, more = (_void_rows if kind == "voids" else _return_rows)(p, f, s, not by_range)
        parts.append(f"SELECT * FROM ({sql})")
        params += more
    cur.execute(f"CREATE OR REPLACE TEMP TABLE xe AS {' UNION ALL '.join(parts)}", params)
    return by_range


def base_ranges(periods) -> list[tuple[int, int]]:
    """The two periods' id ranges of orders created (when the bases are ranges, see load)."""
    return [(s.olo, s.ohi) for _, s in periods]


def totals(cur, by_range: bool, periods) -> tuple[int, int, int, int]:
    """(base before, count before, base after, count after)."""
    c0, c1, b0, b1 = cur.execute("""SELECT count(*) FILTER (WHERE p = 0 AND is_count), count(*) FILTER (WHERE p = 1 AND is_count),
        count(*) FILTER (WHERE p = 0 AND NOT is_count), count(*) FILTER (WHERE p = 1 AND NOT is_count) FROM xe""").fetchall()[0]
    if by_range:
        (lo0, hi0), (lo1, hi1) = base_ranges(periods)
        b0, b1 = cur.execute("SELECT (SELECT count(*) FROM orders WHERE id BETWEEN ? AND ?),"
                             " (SELECT count(*) FROM orders WHERE id BETWEEN ? AND ?)", [lo0, hi0, lo1, hi1]).fetchall()[0]
    return int(b0), int(c0), int(b1), int(c1)


def _void_rows(p: int, f: AnalyticsFilters, s: Span, with_base: bool) -> tuple[str, list]:
    vs, params = voids_select(f, s)
    counted = f"SELECT {p} AS p, TRUE AS is_count, order_id, reason_code, {_ATTRS} FROM ({vs})"
    if not with_base:
        return counted, params
    po, p1 = orders_cte(f, s)
    return (f"""WITH {po}
        SELECT {p} AS p, FALSE AS is_count, id AS order_id, NULL::VARCHAR AS reason_code, {_ATTRS} FROM po
        UNION ALL {counted}""", p1 + params)


def _return_rows(p: int, f: AnalyticsFilters, s: Span, with_base: bool) -> tuple[str, list]:
    ps, p1 = shipped_cte(f, s)
    rn, p2 = returns_select(f, s)
    attrs = ", ".join(f"o.{a.strip()}" for a in _ATTRS.split(","))
    return (f"""WITH {ps}
        SELECT {p} AS p, FALSE AS is_count, o.id AS order_id, NULL::VARCHAR AS reason_code, {attrs}
        FROM ps JOIN orders o ON o.id = ps.id WHERE o.id BETWEEN ? AND ?
        UNION ALL SELECT {p}, TRUE, o.id, n.reason_code, {attrs}
        FROM ({rn}) n JOIN orders o ON o.id = n.order_id WHERE o.id BETWEEN ? AND ?""",
            p1 + [s.lo, s.hi] + p2 + [s.lo, s.hi])


def load_products(cur, periods: list[tuple[AnalyticsFilters, Span]], by_range: bool) -> None:
    """Temporary table `xs` (sku, b0, b1, c0, c1): base and count per period by each order's main SKU — the SKU of
    its main line (lib.queries.main_line: largest value, the first on a tie; orders.main_sku) — NULL for orders
    without lines.

    The main SKUs of the periods' id ranges are read once (`xd`). With bases by id range the bases are counted from
    `xd` by range; joining the ~0.7M base orders to it instead cost more than all the rest.
    """
    _main_skus(cur, _merged([(s.lo, s.hi) for _, s in periods if s.lo <= s.hi]))
    counted = f"SELECT xd.sku, {_COUNTS} FROM xe x LEFT JOIN xd ON xd.order_id = x.order_id GROUP BY 1"
    if not by_range:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE xs AS {_by_sku(counted)}")
        return
    (lo0, hi0), (lo1, hi1) = base_ranges(periods)
    per_sku = f"""SELECT sku, sum(b0) AS b0, sum(b1) AS b1, sum(c0) AS c0, sum(c1) AS c1 FROM (
            SELECT sku, count(*) FILTER (WHERE order_id BETWEEN ? AND ?) AS b0,
                   count(*) FILTER (WHERE order_id BETWEEN ? AND ?) AS b1, 0 AS c0, 0 AS c1 FROM xd GROUP BY 1
            UNION ALL {counted})
        GROUP BY 1"""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE xs AS {_by_sku(per_sku)}", [lo0, hi0, lo1, hi1])
    # base orders without any line are in no SKU's count: they make the NULL segment
    cur.execute("""INSERT INTO xs SELECT NULL, b0, b1, 0, 0 FROM (
        SELECT (SELECT count(*) FROM orders WHERE id BETWEEN ? AND ?) - sum(b0) AS b0,
               (SELECT count(*) FROM orders WHERE id BETWEEN ? AND ?) - sum(b1) AS b1 FROM xs)
        WHERE b0 <> 0 OR b1 <> 0""", [lo0, hi0, lo1, hi1])


def _by_sku(per_sku: str) -> str:
    """(sku, b0, b1, c0, c1) of the catalogue's SKUs: orders without lines, or whose main SKU is not in the
    catalogue, make the NULL segment."""
    return f"""SELECT p.sku, sum(x.b0) AS b0, sum(x.b1) AS b1, sum(x.c0) AS c0, sum(x.c1) AS c1
               FROM ({per_sku}) x LEFT JOIN products p ON p.sku = x.sku GROUP BY 1"""


def _main_skus(cur, ranges: list[tuple[int, int]]) -> None:
    """Temporary table `xd` (order_id, sku): the main SKU of each order with lines in the id `ranges`."""
    orders = " OR ".join("id BETWEEN ? AND ?" for _ in ranges) or "FALSE"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE xd AS
        SELECT id AS order_id, main_sku AS sku FROM orders WHERE main_sku IS NOT NULL AND ({orders})""",
                [n for r in ranges for n in r])


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping id ranges joined, so no line is read twice."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def _seg(dimension: str, group: str, ranges: list[tuple[int, int]] | None) -> str:
    """SQL of (g, b0, b1, c0, c1) per segment; with bases by id `ranges` its parameters are $lo0 … $hi1."""
    if dimension == "sku":
        return "SELECT sku AS g, b0, b1, c0, c1 FROM xs"
    if dimension == "category":
        return """SELECT p.category AS g, sum(b0) AS b0, sum(b1) AS b1, sum(c0) AS c0, sum(c1) AS c1
                  FROM xs LEFT JOIN products p ON p.sku = xs.sku GROUP BY 1"""
    if dimension in COUNT_ONLY:
        return f"SELECT {group} AS g, {_COUNTS} FROM xe x WHERE x.is_count GROUP BY 1"
    if ranges is None:
        return f"SELECT {group} AS g, {_COUNTS} FROM xe x GROUP BY 1"
    (_, hi0), (lo1, _) = ranges
    if lo1 == hi0 + 1:   # the period just before: one scan of both ranges (a customer has 10^5 values at 5M orders)
        bases = f"""SELECT {group} AS g, count(*) FILTER (WHERE x.id <= $hi0) AS b0,
                           count(*) FILTER (WHERE x.id >= $lo1) AS b1, 0 AS c0, 0 AS c1
                    FROM orders x WHERE x.id BETWEEN $lo0 AND $hi1 GROUP BY 1"""
    else:
        bases = f"""SELECT {group} AS g, count(*) AS b0, 0 AS b1, 0 AS c0, 0 AS c1 FROM orders x
                    WHERE x.id BETWEEN $lo0 AND $hi0 GROUP BY 1
                    UNION ALL SELECT {group}, 0, count(*), 0, 0 FROM orders x WHERE x.id BETWEEN $lo1 AND $hi1
                    GROUP BY 1"""
    return f"""SELECT g, sum(b0) AS b0, sum(b1) AS b1, sum(c0) AS c0, sum(c1) AS c1 FROM (
                {bases} UNION ALL SELECT {group}, {_COUNTS} FROM xe x GROUP BY 1) GROUP BY 1"""


def _rate_sql(c: str, b: str) -> str:
    return f"{c}::DOUBLE / nullif({b}, 0)"


def segments(cur, dimension: str, measure: str, totals_: tuple, top: int, by_range: bool, periods) -> list[tuple]:
    """The `top` segments of largest |contribution|, then one row for the rest when there is any, each
    (named, g, key, label_en, label_zh, b0, b1, c0, c1, mix, members); g is NULL for orders without a value.

    Ranking and the rest's mix are in doubles; the caller recomputes the named rows exactly from their counts. The
    rest is the whole minus the named rows, so only the top rows are sorted (a customer dimension has 10^5 values).
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
    label_sql = (f"LEFT JOIN ({names}) n(g, key, en, zh) ON n.g = k.g" if names else
                 "LEFT JOIN (SELECT NULL AS g, NULL AS key, NULL AS en, NULL AS zh) n ON FALSE")
    ranges = base_ranges(periods) if by_range else None
    seg = _seg(dimension, group, ranges)
    named = f"""SELECT s.g, s.b0, s.b1, s.c0, s.c1, {mix} AS mix, abs({contribution}) AS w FROM seg s, t
                ORDER BY w DESC, s.g NULLS LAST LIMIT $top"""
    sql = f"""WITH t AS (SELECT greatest($base0, 1) AS base0, greatest($base1, 1) AS base1),
        seg AS MATERIALIZED ({seg}),
        k AS ({named})
        SELECT TRUE, k.g, n.key, n.en, n.zh, k.b0, k.b1, k.c0, k.c1, k.mix, 1 FROM k {label_sql}
        UNION ALL
        SELECT FALSE, NULL, NULL, NULL, NULL, sum(s.b0), sum(s.b1), sum(s.c0), sum(s.c1), sum({mix}), count(*)
        FROM seg s, t"""
    params = {"base0": totals_[0], "base1": totals_[2], "top": top}
    if "$lo0" in seg:
        (params["lo0"], params["hi0"]), (params["lo1"], params["hi1"]) = ranges
    rows = cur.execute(sql, params).fetchall()
    named_rows = sorted((r for r in rows if r[0]), key=lambda r: (-abs(_contribution(measure, r, totals_)),
                                                                  r[1] is None, str(r[1])))
    return named_rows + _rest(named_rows, next(r for r in rows if not r[0]))


def _contribution(measure: str, row: tuple, totals_: tuple) -> float:
    c0, c1 = row[7], row[8]
    return c1 - c0 if measure == "count" else c1 / max(totals_[2], 1) - c0 / max(totals_[0], 1)


def _rest(named: list[tuple], whole: tuple) -> list[tuple]:
    """The row of everything not named (none when every segment is named)."""
    members = int(whole[10]) - len(named)
    if members <= 0:
        return []
    sums = [int(whole[i] or 0) - sum(int(r[i]) for r in named) for i in (5, 6, 7, 8)]
    mix = float(whole[9] or 0) - sum(float(r[9] or 0) for r in named)
    return [(False, None, None, None, None, *sums, mix, members)]
