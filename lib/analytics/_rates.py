"""Void rates per dimension and the category × month heat map (the SQL behind voids.rates_by and voids.heatmap).

Rates divide the voids that count (dated in the period by the basis: the temporary table `vs`, see
_sql.load_voids) by the orders created in the period.
"""
import math

import pandas as pd

from lib.analytics._sql import Span, marks, orders_cte, period_sql, unscoped, wilson_sql
from lib.analytics.filters import AnalyticsFilters

RATE_COLUMNS = ["key", "label", "orders", "voids", "rate", "score"]
HEAT_COLUMNS = ["category", "label", "month", "orders", "voids", "rate"]

# dimension -> (grouping column of po / vs, SQL of (g, key, label) per grouping value; {name}: the label column)
_SIMPLE = {
    "rep": ("rep_id", "SELECT id AS g, username AS key, display_name AS label FROM users"),
    "customer": ("customer_id", "SELECT id AS g, code AS key, name AS label FROM customers"),
    "warehouse": ("warehouse", "SELECT code AS g, code AS key, {name} AS label FROM warehouses"),
}
_ORDER = "ORDER BY t.score DESC NULLS LAST, t.voids DESC, t.g"


def wilson_lower(hits, base, z: float = 1.96) -> float | None:
    """Lower bound of the 95% Wilson interval of hits / base (None when base is 0; the rate is capped at 1)."""
    if not base:
        return None
    n, p = float(base), min(float(hits) / float(base), 1.0)
    return (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)


def _ranked(inner: str) -> str:
    """g, orders, voids, rate, score from `inner` (g, orders, voids): the `?` best scores."""
    return f"""SELECT g, orders, voids, voids::DOUBLE / nullif(orders, 0) AS rate,
                      {wilson_sql('voids', 'orders')} AS score
               FROM ({inner}) r ORDER BY score DESC NULLS LAST, voids DESC, g LIMIT ?"""


def rates_simple(cur, f: AnalyticsFilters, s: Span, dimension: str, lang: str, limit: int) -> pd.DataFrame:
    """Rates per sales rep, customer or warehouse (of the order); names are looked up for the top rows only."""
    column, names = _SIMPLE[dimension]
    po, params = orders_cte(f, s)
    both = """SELECT coalesce(a.g, b.g) AS g, coalesce(a.orders, 0) AS orders, coalesce(b.voids, 0) AS voids
              FROM a FULL JOIN b ON a.g = b.g WHERE coalesce(a.g, b.g) IS NOT NULL"""
    sql = f"""WITH {po},
        a AS (SELECT {column} AS g, count(*) AS orders FROM po GROUP BY 1),
        b AS (SELECT {column} AS g, count(*) AS voids FROM vs GROUP BY 1),
        t AS ({_ranked(both)}),
        n AS ({names.format(name=_name_column(lang))})
        SELECT coalesce(n.key, CAST(t.g AS VARCHAR)) AS key, n.label, t.orders, t.voids, t.rate, t.score
        FROM t LEFT JOIN n ON n.g = t.g {_ORDER}"""
    return cur.execute(sql, params + [limit]).df()[RATE_COLUMNS]


def rates_sku(cur, f: AnalyticsFilters, s: Span, limit: int) -> pd.DataFrame:
    """Rates per product: voided orders containing the SKU / orders containing it (an order's lines repeating a
    SKU, order_lines.repeat_sku, are not counted again)."""
    po, p1 = orders_cte(f, s)
    only, p2 = _category_limit(f, "p.category")
    if s.contiguous and unscoped(f):   # the period's orders are exactly an id range: no join needed
        sold = ("SELECT sku, count(*) AS n FROM order_lines WHERE order_id BETWEEN ? AND ? AND NOT repeat_sku"
                " GROUP BY 1")
    else:
        sold = ("SELECT l.sku, count(*) AS n FROM order_lines l JOIN po ON po.id = l.order_id"
                " WHERE l.order_id BETWEEN ? AND ? AND NOT l.repeat_sku GROUP BY 1")
    both = f"""SELECT coalesce(a.sku, b.sku) AS g, coalesce(a.n, 0) AS orders, coalesce(b.n, 0) AS voids
               FROM a FULL JOIN b ON a.sku = b.sku JOIN products p ON p.sku = coalesce(a.sku, b.sku)
               WHERE {only}"""
    sql = f"""WITH {po}, a AS ({sold}),
        b AS (SELECT l.sku, count(*) AS n FROM order_lines l JOIN vs ON vs.order_id = l.order_id
              WHERE l.order_id BETWEEN ? AND ? AND NOT l.repeat_sku GROUP BY 1),
        t AS ({_ranked(both)})
        SELECT t.g AS key, p.name AS label, t.orders, t.voids, t.rate, t.score
        FROM t JOIN products p ON p.sku = t.g {_ORDER}"""
    return cur.execute(sql, p1 + [s.olo, s.ohi, s.lo, s.hi] + p2 + [limit]).df()[RATE_COLUMNS]


def heat_cells(cur, f: AnalyticsFilters, s: Span, lang: str) -> pd.DataFrame:
    """Orders and voids per (category, month): an order counts once in every category it has a line in.

    Each order's categories are folded into one bit mask (one aggregate over its lines), the masks are counted
    per month, and only those few (month, mask) counts are spread over the categories. (Measured slower: a second
    pass over the lines for the voided orders' masks, and counting orders and voids in one pass over the masks.)
    """
    mask = _mask_type(cur)
    if mask is None:
        return _heat_cells_by_pairs(cur, f, s, lang)
    orders_side, p1 = _orders_per_month_and_mask(cur, f, s)
    only, p2 = _category_limit(f, "cb.category")
    sql = f"""WITH
        cb AS (SELECT code AS category, {_name_column(lang)} AS label,
                      CAST(row_number() OVER (ORDER BY code) - 1 AS INTEGER) AS bit FROM categories),
        pc AS (SELECT p.sku, cb.bit FROM products p JOIN cb ON cb.category = p.category),
        om AS (SELECT l.order_id, bit_or(CAST(1 AS {mask}) << pc.bit) AS mask
               FROM order_lines l JOIN pc ON pc.sku = l.sku WHERE l.order_id BETWEEN ? AND ? GROUP BY 1),
        a AS ({orders_side}),
        b AS (SELECT {period_sql('month', 'vs.dated')} AS month, om.mask, count(*) AS n
              FROM vs JOIN om ON om.order_id = vs.order_id GROUP BY ALL),
        ca AS (SELECT cb.category, a.month, sum(a.n) AS orders FROM a JOIN cb ON (a.mask >> cb.bit) & 1 = 1
               GROUP BY ALL),
        cv AS (SELECT cb.category, b.month, sum(b.n) AS voids FROM b JOIN cb ON (b.mask >> cb.bit) & 1 = 1
               GROUP BY ALL)
        SELECT cb.category, cb.label, x.month, x.orders, x.voids, x.voids::DOUBLE / nullif(x.orders, 0) AS rate
        FROM (SELECT coalesce(ca.category, cv.category) AS category, coalesce(ca.month, cv.month) AS month,
                     CAST(coalesce(ca.orders, 0) AS BIGINT) AS orders, CAST(coalesce(cv.voids, 0) AS BIGINT) AS voids
              FROM ca FULL JOIN cv ON ca.category = cv.category AND ca.month = cv.month) x
        JOIN cb ON cb.category = x.category
        WHERE {only}
        ORDER BY cb.category, x.month"""
    return cur.execute(sql, [s.lo, s.hi] + p1 + p2).df()[HEAT_COLUMNS]


def _orders_per_month_and_mask(cur, f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    """SQL of (month, mask, n) for the period's orders in scope, over `om` (order_id, mask).

    When each month's orders fill an id range of their own (orders stored in time order) and no filter narrows
    them, the month follows from the id alone, which spares joining every order of the period to its mask.
    """
    months = _month_ranges(cur, s) if s.contiguous and unscoped(f) else None
    if months:
        case, params = _month_case(months)
        return (f"SELECT {case} AS month, mask, count(*) AS n FROM om WHERE order_id BETWEEN ? AND ? GROUP BY ALL",
                params + [s.olo, s.ohi])
    po, params = orders_cte(f, s)
    return (f"""WITH {po} SELECT {period_sql('month', 'po.created_at')} AS month, om.mask, count(*) AS n
                FROM po JOIN om ON om.order_id = po.id GROUP BY ALL""", params)


def _month_case(months: list[tuple]) -> tuple[str, list]:
    """A CASE giving the month of `order_id` from [(month, highest id)]: nested halves, so each row takes about
    log2(months) comparisons instead of up to one per month."""
    if len(months) == 1:
        return "CAST(? AS DATE)", [months[0][0]]
    half = len(months) // 2
    low, p1 = _month_case(months[:half])
    high, p2 = _month_case(months[half:])
    return f"CASE WHEN order_id <= ? THEN {low} ELSE {high} END", [months[half - 1][1]] + p1 + p2


def _month_ranges(cur, s: Span) -> list[tuple] | None:
    """[(month, highest id)] in id order when every month of the period holds exactly an id range, else None."""
    # year * 12 + month groups about twice as fast as date_trunc; the few groups become dates afterwards
    rows = cur.execute("""SELECT make_date(CAST(m // 12 AS INTEGER), CAST(m % 12 + 1 AS INTEGER), 1), lo, hi, n
        FROM (SELECT year(created_at) * 12 + month(created_at) - 1 AS m, min(id) AS lo, max(id) AS hi, count(*) AS n
              FROM orders WHERE created_at >= ? AND created_at < ? AND id BETWEEN ? AND ? GROUP BY 1) ORDER BY lo""",
                       [s.start, s.end, s.olo, s.ohi]).fetchall()
    if not all(n == hi - lo + 1 for _, lo, hi, n in rows):
        return None
    if any(a[2] >= b[1] for a, b in zip(rows, rows[1:])):
        return None
    return [(month, hi) for month, _, hi, _ in rows]


def _mask_type(cur) -> str | None:
    """The smallest integer type with a bit per category (None beyond 127 categories)."""
    n = cur.execute("SELECT count(*) FROM categories").fetchall()[0][0]
    return next((t for t, bits in (("INTEGER", 31), ("BIGINT", 63), ("HUGEINT", 127)) if n <= bits), None)


def _heat_cells_by_pairs(cur, f: AnalyticsFilters, s: Span, lang: str) -> pd.DataFrame:
    """heat_cells for catalogues with more categories than a mask holds: distinct (order, category) pairs."""
    po, p1 = orders_cte(f, s)
    only, p2 = _category_limit(f, "c.code")
    sql = f"""WITH {po},
        oc AS (SELECT DISTINCT l.order_id, p.category FROM order_lines l JOIN products p ON p.sku = l.sku
               WHERE l.order_id BETWEEN ? AND ?),
        ca AS (SELECT oc.category, {period_sql('month', 'po.created_at')} AS month, count(*) AS orders
               FROM po JOIN oc ON oc.order_id = po.id GROUP BY ALL),
        cv AS (SELECT oc.category, {period_sql('month', 'vs.dated')} AS month, count(*) AS voids
               FROM vs JOIN oc ON oc.order_id = vs.order_id GROUP BY ALL)
        SELECT c.code AS category, c.{_name_column(lang)} AS label, x.month, x.orders, x.voids,
               x.voids::DOUBLE / nullif(x.orders, 0) AS rate
        FROM (SELECT coalesce(ca.category, cv.category) AS category, coalesce(ca.month, cv.month) AS month,
                     CAST(coalesce(ca.orders, 0) AS BIGINT) AS orders, CAST(coalesce(cv.voids, 0) AS BIGINT) AS voids
              FROM ca FULL JOIN cv ON ca.category = cv.category AND ca.month = cv.month) x
        JOIN categories c ON c.code = x.category
        WHERE {only}
        ORDER BY c.code, x.month"""
    return cur.execute(sql, p1 + [s.lo, s.hi] + p2).df()[HEAT_COLUMNS]


def rates_category(cells: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Category rates from the heat-map cells (an order lies in one month, so the months add up)."""
    if cells.empty:
        return pd.DataFrame({c: [] for c in RATE_COLUMNS})
    g = cells.groupby(["category", "label"], as_index=False)[["orders", "voids"]].sum()
    g = g.rename(columns={"category": "key"})
    g["rate"] = [v / o if o else None for o, v in zip(g["orders"], g["voids"])]
    g["score"] = [wilson_lower(v, o) for o, v in zip(g["orders"], g["voids"])]
    g = g.sort_values(["score", "voids", "key"], ascending=[False, False, True], na_position="last")
    return g.head(limit).reset_index(drop=True)[RATE_COLUMNS]


def _category_limit(f: AnalyticsFilters, column: str) -> tuple[str, list]:
    """With a category filter, only those categories' rows are shown."""
    if not f.categories:
        return "TRUE", []
    return f"{column} IN ({marks(f.categories)})", list(f.categories)


def _name_column(lang: str) -> str:
    return "name_zh" if lang == "zh" else "name_en"
