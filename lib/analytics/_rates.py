"""Void rates per dimension and the category × month heat map (the SQL behind voids.rates_by and voids.heatmap).

Rates divide the voids that count (dated in the period by the basis: the temporary table `vs`, see
_sql.load_voids) by the orders created in the period.
"""
import math

import pandas as pd

from lib.analytics._sql import Span, marks, orders_cte, period_sql, unscoped, wilson_sql
from lib.analytics.filters import AnalyticsFilters
from lib.queries.category_mask import every_category_has_a_bit

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

    Each order carries those categories as one bit mask (orders.category_mask, kept by every write of its lines:
    lib.queries.category_mask), so the period's orders and voids are counted per (month, mask) without reading a
    line, and only those few counts are spread over the categories — 5× faster than folding the lines into masks
    here (measured at 5,000,000 orders: 21 against 102 ms for 90 days, 100 against 643 ms for two years). A
    catalogue with categories beyond the mask's 64 bits is counted from the lines (_heat_cells_by_pairs).
    """
    if not every_category_has_a_bit(cur):
        return _heat_cells_by_pairs(cur, f, s, lang)
    po, p1 = orders_cte(f, s)
    only, p2 = _category_limit(f, "cb.category")
    sql = f"""WITH {po},
        cb AS (SELECT c.code AS category, c.{_name_column(lang)} AS label, b.bit
               FROM categories c JOIN category_bits b ON b.code = c.code),
        a AS (SELECT {period_sql('month', 'po.created_at')} AS month, po.category_mask AS mask, count(*) AS n
              FROM po GROUP BY ALL),
        b AS (SELECT {period_sql('month', 'vs.dated')} AS month, vs.category_mask AS mask, count(*) AS n
              FROM vs GROUP BY ALL),
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
    return cur.execute(sql, p1 + p2).df()[HEAT_COLUMNS]


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
