"""SQL pieces shared by the analytics queries: the period's order-id range, the order scope, the set of voids
that count, return notes, shipped orders, periods and scores.

Every value reaches DuckDB as a `?` parameter; only fixed column names and expressions from this module are
put into SQL text.
"""
from dataclasses import dataclass
from datetime import datetime

from lib.analytics.filters import REASON_KEY_SEP, AnalyticsFilters

Z = 1.96   # 95% two-sided

# grain -> SQL of the period start of a timestamp `{}` (a week starts on Monday)
PERIOD_SQL = {"day": "CAST({} AS DATE)", "week": "CAST(date_trunc('week', {}) AS DATE)",
              "month": "CAST(date_trunc('month', {}) AS DATE)"}


def period_sql(grain: str, column: str) -> str:
    return PERIOD_SQL[grain].format(column)


def wilson_sql(hits: str, base: str) -> str:
    """Lower bound of the 95% Wilson interval of hits / base (NULL when base is 0; the rate is capped at 1)."""
    p = f"least({hits}::DOUBLE / nullif({base}, 0), 1.0)"
    n = f"nullif({base}, 0)::DOUBLE"
    return (f"(({p} + {Z * Z}/(2*{n}) - {Z}*sqrt({p}*(1-{p})/{n} + {Z * Z}/(4*{n}*{n})))"
            f" / (1 + {Z * Z}/{n}))")


@dataclass(frozen=True)
class Span:
    """A period as [start, end) timestamps plus order-id ranges.

    Orders are stored in id order and their lines in order-id order, so `id BETWEEN lo AND hi` lets DuckDB skip
    the row groups of other periods. [lo, hi] holds every order the period touches (created in it, or with a
    void / return note / shipment dated in it); [olo, ohi] the orders created in it, and `contiguous` says
    that every order in [olo, ohi] was created in the period (then its lines need no join to find them).
    """
    start: datetime
    end: datetime
    lo: int
    hi: int
    olo: int
    ohi: int
    contiguous: bool


_EVENTS = {
    "void": "SELECT min(order_id), max(order_id) FROM voids WHERE applied_at >= $1 AND applied_at < $2",
    "return": """SELECT min(order_id), max(order_id) FROM return_notes WHERE created_at >= $1 AND created_at < $2
                 UNION ALL SELECT min(id), max(id) FROM orders WHERE shipped_at >= $1 AND shipped_at < $2""",
}


def span(cur, f: AnalyticsFilters, kind: str = "void") -> Span:
    """The period of `f` with its order-id ranges (empty ranges when nothing falls in it)."""
    start, end = f.bounds()
    row = cur.execute(f"""WITH p AS (SELECT min(id) AS olo, max(id) AS ohi, count(*) AS n FROM orders
                                      WHERE created_at >= $1 AND created_at < $2)
        SELECT min(lo), max(hi), any_value(p.olo), any_value(p.ohi), any_value(p.n)
        FROM p, (SELECT olo, ohi FROM p UNION ALL {_EVENTS[kind]}) e(lo, hi)""", [start, end]).fetchall()[0]
    lo, hi, olo, ohi, n = row
    olo, ohi = _or(olo, 0), _or(ohi, -1)
    in_range = cur.execute("SELECT count(*) FROM orders WHERE id BETWEEN ? AND ?", [olo, ohi]).fetchall()[0][0]
    return Span(start, end, _or(lo, 0), _or(hi, -1), olo, ohi, n == in_range)


def _or(value, default: int) -> int:
    return default if value is None else int(value)


def unscoped(f: AnalyticsFilters) -> bool:
    """True when no filter narrows the orders (warehouse, rep, category)."""
    return not (f.warehouses or f.reps or f.categories)


def scope_sql(f: AnalyticsFilters, lo: int, hi: int, alias: str = "o") -> tuple[str, list]:
    """Conditions on `orders {alias}` for the warehouse, rep and category filters (TRUE when none).

    An order matches the category filter when it has at least one line in one of the categories; lo/hi bound
    the order ids the lines are looked for in.
    """
    conds, params = ["TRUE"], []
    if f.warehouses:
        conds.append(f"{alias}.warehouse IN ({marks(f.warehouses)})")
        params += list(f.warehouses)
    if f.reps:
        conds.append(f"{alias}.rep_id IN (SELECT id FROM users WHERE username IN ({marks(f.reps)}))")
        params += list(f.reps)
    if f.categories:
        conds.append(f"""{alias}.id IN (SELECT l.order_id FROM order_lines l WHERE l.order_id BETWEEN ? AND ?
                         AND l.sku IN (SELECT sku FROM products WHERE category IN ({marks(f.categories)})))""")
        params += [lo, hi, *f.categories]
    return " AND ".join(conds), params


def reasons_sql(f: AnalyticsFilters, column: str) -> tuple[str, list]:
    if not f.reasons:
        return "TRUE", []
    return f"{column} IN ({marks(f.reasons)})", list(f.reasons)


def reason_key_sql(code: str, label_en: str, label_zh: str) -> str:
    """SQL of a reason's "as recorded" key: the code, REASON_KEY_SEP and a hash of the two labels.

    hash() costs a tenth of md5() per row; the keys are only compared within one process (results, cache), never
    stored, so a hash that may differ between DuckDB versions is fine.
    """
    return f"({code} || '{REASON_KEY_SEP}' || to_hex(hash({label_en}, {label_zh})))"


def code_of_key_sql(key: str) -> str:
    """SQL of the reason code of a key (as filters.reason_code_of)."""
    return f"split_part({key}, '{REASON_KEY_SEP}', 1)"


def reason_sql(f: AnalyticsFilters, alias: str) -> str:
    """The reason column of `{alias}` (voids / return_notes) to group by: the code, or its "as recorded" key."""
    if f.labels == "recorded":
        return reason_key_sql(f"{alias}.reason_code", f"{alias}.reason_label_en", f"{alias}.reason_label_zh")
    return f"{alias}.reason_code"


def orders_cte(f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    """`po`: orders created in the period within the scope (id, created_at, rep_id, customer_id, warehouse,
    category_mask, source)."""
    scope, params = scope_sql(f, s.olo, s.ohi)
    sql = f"""po AS (SELECT o.id, o.created_at, o.rep_id, o.customer_id, o.warehouse, o.category_mask, o.source
              FROM orders o
              WHERE o.created_at >= ? AND o.created_at < ? AND o.id BETWEEN ? AND ? AND {scope})"""
    return sql, [s.start, s.end, s.olo, s.ohi] + params


def voids_select(f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    """The voids that count (status applied) dated in the period by the filters' basis, within the scope.

    Columns: id, order_id, reason_code (the "as recorded" key with labels "recorded"), dated (the basis date:
    applied or order created), requested_at, ordered_at, total, rep_id, customer_id, warehouse, category_mask,
    source.
    """
    scope, params = scope_sql(f, s.lo, s.hi)
    reasons, more = reasons_sql(f, "v.reason_code")
    at = "v.applied_at" if f.basis == "event" else "o.created_at"
    sql = f"""SELECT v.id, v.order_id, {reason_sql(f, 'v')} AS reason_code, {at} AS dated, v.requested_at,
                     o.created_at AS ordered_at, o.total, o.rep_id, o.customer_id, o.warehouse,
                     o.category_mask, o.source
              FROM voids v JOIN orders o ON o.id = v.order_id
              WHERE v.status = 'applied' AND {at} >= ? AND {at} < ? AND o.id BETWEEN ? AND ?
                AND {reasons} AND {scope}"""
    return sql, [s.start, s.end, s.lo, s.hi] + more + params


def load_voids(cur, f: AnalyticsFilters, s: Span) -> None:
    """The voids of voids_select as temporary table `vs` of this cursor (gone when its transaction ends).

    Most dashboard statements read this set; computing it once instead of in each saves most of its cost.
    """
    sql, params = voids_select(f, s)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE vs AS {sql}", params)


def returns_select(f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    """Return notes (any status) dated in the period by the basis (note created / order created), in scope.

    Columns: id, order_id, reason_code (or key, as voids_select), dated, refund (owed or paid for the note;
    cancelled refunds left out).
    """
    scope, params = scope_sql(f, s.lo, s.hi)
    reasons, more = reasons_sql(f, "n.reason_code")
    at = "n.created_at" if f.basis == "event" else "o.created_at"
    sql = f"""WITH n AS (SELECT n.id, n.order_id, {reason_sql(f, 'n')} AS reason_code, {at} AS dated
                         FROM return_notes n JOIN orders o ON o.id = n.order_id
                         WHERE {at} >= ? AND {at} < ? AND o.id BETWEEN ? AND ? AND {reasons} AND {scope}),
                  r AS (SELECT source_id AS id, sum(amount) AS refund FROM refunds
                        WHERE source = 'return' AND status <> 'cancelled' AND source_id IN (SELECT id FROM n)
                        GROUP BY 1)
              SELECT n.*, coalesce(r.refund, 0) AS refund FROM n LEFT JOIN r ON r.id = n.id"""
    return sql, [s.start, s.end, s.lo, s.hi] + more + params


def load_returns(cur, f: AnalyticsFilters, s: Span) -> None:
    """The notes of returns_select as temporary table `rn` of this cursor."""
    sql, params = returns_select(f, s)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE rn AS {sql}", params)


def shipped_cte(f: AnalyticsFilters, s: Span) -> tuple[str, list]:
    """`ps`: orders shipped in the period (basis event) or created in it and shipped (basis order), in scope."""
    scope, params = scope_sql(f, s.lo, s.hi)
    at = "o.shipped_at" if f.basis == "event" else "o.created_at"
    sql = f"""ps AS (SELECT o.id, {at} AS dated FROM orders o
              WHERE o.shipped_at IS NOT NULL AND {at} >= ? AND {at} < ? AND o.id BETWEEN ? AND ? AND {scope})"""
    return sql, [s.start, s.end, s.lo, s.hi] + params


def marks(values) -> str:
    return ", ".join("?" for _ in values)
