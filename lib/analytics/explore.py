"""Explore (SPEC §8): one measure by up to two dimensions and an optional time grain, as a pivot.

Only names from the allow-lists below ever reach the SQL text; every value is a parameter. Everything is
aggregated in DuckDB and the result is capped at ROW_CAP rows (`frame.attrs["capped"]` says so).

Counting rules (the same as the dashboards): a void counts when it is in effect (status 'applied'); every
return note counts. Dates follow the filter's basis: "event" = the void's applied / the note's created /
the order's shipped date, "order" = the order's created date; orders and revenue always use the created date.
Splitting by category or SKU works on lines: an order counts once in each category it has a line in, and
money is the value of those lines (a return's refund shared out over its lines by value). Counts of orders and
voids by category read the orders' category bit masks instead of the lines (the same numbers, ~10× faster at 5M).
"""
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from lib import i18n
from lib.analytics.filters import GRAINS, AnalyticsFilters, period_end
from lib.db import Database, analytics_db
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.queries.category_mask import every_category_has_a_bit

DIMENSIONS = ("reason", "category", "sku", "warehouse", "rep", "customer", "status", "payment_status", "source")
LINE_DIMENSIONS = ("category", "sku")
MEASURES = ("orders", "revenue", "voids", "voided_value", "void_rate", "returns", "units_returned",
            "refunded_value", "return_rate")
MONEY = ("revenue", "voided_value", "refunded_value")
RATES = {"void_rate": ("voids", "orders"), "return_rate": ("returns", "shipped_orders")}   # rate: (count, base)
_TYPES = {**{m: "DECIMAL(18, 2)" for m in MONEY}, **{r: "DOUBLE" for r in RATES}}   # counts are BIGINT
MAX_DIMENSIONS = 2
ROW_CAP = 5_000


@dataclass(frozen=True)
class _Fact:
    source: str              # FROM text over `orders o`
    lines: str               # joins giving each row one line and its product `p`
    sku: str                 # the line's SKU once `lines` is joined
    dates: tuple[str, str]   # date column for the event basis, for the order basis
    where: str
    reason: str | None = None
    reason_kind: str | None = None


_ORDER_LINES = " JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.sku = l.sku"
_RETURN_LINES = (" JOIN (SELECT return_id, sku, qty, qty * unit_price AS value,"
                 " sum(qty * unit_price) OVER (PARTITION BY return_id) AS note_value FROM return_lines) rl"
                 " ON rl.return_id = r.id JOIN products p ON p.sku = rl.sku")
_FACTS = {
    "order": _Fact("orders o", _ORDER_LINES, "l.sku", ("o.created_at", "o.created_at"), "TRUE"),
    "shipped": _Fact("orders o", _ORDER_LINES, "l.sku", ("o.shipped_at", "o.created_at"), "o.shipped_at IS NOT NULL"),
    "void": _Fact("voids v JOIN orders o ON o.id = v.order_id", _ORDER_LINES, "l.sku",
                  ("v.applied_at", "o.created_at"), "v.status = 'applied'", "v.reason_code", "void"),
    "return": _Fact("return_notes r JOIN orders o ON o.id = r.order_id", _RETURN_LINES, "rl.sku",
                    ("r.created_at", "o.created_at"), "TRUE", "r.reason_code", "return"),
}
# count or sum -> (fact, SQL per order, SQL when split by line)
_AGGREGATES = {
    "orders": ("order", "count(*)", "count(DISTINCT o.id)"),
    "revenue": ("order", "sum(o.total)", "sum(l.qty * l.unit_price)"),
    "shipped_orders": ("shipped", "count(*)", "count(DISTINCT o.id)"),
    "voids": ("void", "count(*)", "count(DISTINCT v.id)"),
    "voided_value": ("void", "sum(o.total)", "sum(l.qty * l.unit_price)"),
    "returns": ("return", "count(*)", "count(DISTINCT r.id)"),
    "units_returned": ("return", "sum((SELECT sum(x.qty) FROM return_lines x WHERE x.return_id = r.id))",
                       "sum(rl.qty)"),
    "refunded_value": ("return", "sum(r.refund_amount)", "sum(r.refund_amount * rl.value / nullif(rl.note_value, 0))"),
}
_KEYS = {"warehouse": "o.warehouse", "rep": "coalesce(o.rep_id, 0)", "customer": "o.customer_id", "status": "o.status",
         "payment_status": "o.payment_status", "source": "o.source", "category": "p.category"}
# dimension -> (key shown, label, join) over the aggregated rows `g`; {lang} is en or zh
_LABELS = {
    "warehouse": ("g.warehouse", "wh.name_{lang}", "LEFT JOIN warehouses wh ON wh.code = g.warehouse"),
    "rep": ("rp.username", "rp.display_name", "LEFT JOIN users rp ON rp.id = g.rep"),
    "customer": ("cu.code", "cu.name", "LEFT JOIN customers cu ON cu.id = g.customer"),
    "category": ("g.category", "ca.name_{lang}", "LEFT JOIN categories ca ON ca.code = g.category"),
    "sku": ("g.sku", "pr.name", "LEFT JOIN products pr ON pr.sku = g.sku"),
    "reason": ("g.reason", "coalesce(rs.label_{lang}, g.reason)",
               "LEFT JOIN reasons rs ON rs.kind = '{kind}' AND rs.code = g.reason"),
}
_WORDS = {"status": "status", "payment_status": "payment", "source": "order_source"}   # labels from i18n


def pivot(db: Database, user: User, dims: list[str], measure: str, grain: str | None, f: AnalyticsFilters,
          lang: str = "en") -> pd.DataFrame:
    """Long form: per dimension `<dim>` (code) and `<dim>_label`, `period` when a grain is given, the measure
    (a rate also has its count and base beside it). attrs["capped"] is True when rows were left off."""
    require(user, "analytics.view")
    dims, f = check_choice(dims, measure, grain), f.cleaned()
    lang = lang if lang in i18n.LANGUAGES else "en"
    with analytics_db(db).read() as cur:
        sql, params = _pivot_sql(dims, measure, grain, f, lang, _category_bits(cur, f))
        frame = cur.execute(sql, params + [ROW_CAP + 1]).df()
    capped = len(frame) > ROW_CAP
    frame = _with_words(frame.head(ROW_CAP), dims, lang)
    frame.attrs["capped"] = capped
    return frame


# dimension -> the Search filter (AnalyticsFilters.search_params narrowing) that lists its orders
_SEARCH_NARROW = {"reason": "reason", "category": "category", "sku": "sku", "warehouse": "warehouse", "rep": "rep",
                  "customer": "customer", "status": "status", "payment_status": "payment", "source": "source"}


def drill_params(f: AnalyticsFilters, measure: str, grain: str | None, cell: dict) -> dict:
    """Search URL params listing the orders behind one pivot cell: `cell` maps dimensions to codes and "period"
    to the first day of its period (returns split by SKU or category: what was returned); dimensions
    left out of `cell` are not narrowed. A rate opens the orders it counts (the voided or returned ones).
    InvalidInput when a dimension has no value (an order without a rep): Search cannot ask for that."""
    narrow = {}
    for dim, value in cell.items():
        if dim == "period":
            start = pd.Timestamp(value).date()
            narrow.update(period_start=start, period_end=period_end(start, grain or "day"))
        elif value is None or (isinstance(value, float) and pd.isna(value)):
            raise InvalidInput("explore.drill_no_value", dimension=f"explore.dim.{dim}")
        else:
            narrow[_SEARCH_NARROW[dim]] = str(value)
    params = f.cleaned().search_params(_fact_of(measure), **narrow)
    if _fact_of(measure) == "return" and "category" not in cell and "category" in params:
        # Explore counts the returns of goods in the filter's categories (their returned lines), not every return
        # from an order that has such a line: Search is asked the same.
        params["returned_category"] = params.pop("category")
    return params


def columns_of(measure: str) -> list[str]:
    """The measure's value columns in a pivot frame: the measure, or for a rate its count, base and rate."""
    return [*RATES[measure], measure] if measure in RATES else [measure]


def period_starts(f: AnalyticsFilters, grain: str) -> list[date]:
    """The first day of every day / week (Monday) / month that overlaps the filter period."""
    day = {"day": f.date_from, "week": f.date_from - timedelta(days=f.date_from.weekday()),
           "month": f.date_from.replace(day=1)}[grain]
    starts = []
    while day <= f.date_to:
        starts.append(day)
        day = (day + timedelta(days=1 if grain == "day" else 7) if grain != "month"
               else date(day.year + day.month // 12, day.month % 12 + 1, 1))
    return starts


def check_choice(dims, measure: str, grain: str | None) -> list[str]:
    """The dimensions as a list when the choice is allowed; InvalidInput naming what is not."""
    dims = list(dims or [])
    if len(dims) > MAX_DIMENSIONS or len(set(dims)) != len(dims):
        raise InvalidInput("explore.too_many_dimensions", n=MAX_DIMENSIONS)
    for field, value, allowed in [("dimension", d, DIMENSIONS) for d in dims] + [
            ("measure", measure, MEASURES), ("grain", grain, (None,) + GRAINS)]:
        if value not in allowed:
            raise InvalidInput("explore.bad_choice", field=f"explore.field.{field}", value=str(value)[:40],
                               allowed=", ".join(a for a in allowed if a))
    if "reason" in dims and _fact_of(measure) == "order":
        raise InvalidInput("explore.reason_needs_event")
    return dims


def _fact_of(measure: str) -> str:
    return _AGGREGATES[RATES.get(measure, (measure,))[0]][0]


def _category_bits(cur, f: AnalyticsFilters) -> int | None:
    """The mask of the filter's categories (0 without a filter) when every category has a bit in
    orders.category_mask, else None (then categories are read from the order lines)."""
    if not every_category_has_a_bit(cur):
        return None
    chosen = cur.execute("SELECT bit FROM category_bits WHERE list_contains(?, code)",
                         [list(f.categories)]).fetchall() if f.categories else []
    return sum(1 << bit for (bit,) in chosen)   # an unknown code adds nothing, as it matches no line


def _pivot_sql(dims: list[str], measure: str, grain: str | None, f: AnalyticsFilters, lang: str,
               bits: int | None = None) -> tuple[str, list]:
    keys = dims + (["period"] if grain else [])
    count, base = RATES.get(measure, (measure, None))
    num_sql, params = _fact_sql(count, keys, dims, grain, f, bits)
    ctes = [f"num AS ({num_sql})"]
    if base is None:
        body, order = "SELECT * FROM num", measure
    else:
        base_keys = [k for k in keys if k != "reason"]      # orders have no reason: every reason shares the base
        base_sql, base_params = _fact_sql(base, base_keys, dims, grain, f, bits)
        ctes, params = ctes + [f"base AS ({base_sql})"], params + base_params
        join = "LEFT JOIN" if "reason" in keys else "FULL JOIN"
        on = f"{join} base USING ({', '.join(base_keys)})" if base_keys else "CROSS JOIN base"
        body = (f"SELECT {''.join(k + ', ' for k in keys)}coalesce({count}, 0) AS {count},"
                f" coalesce({base}, 0) AS {base}, coalesce({count}, 0) / nullif({base}, 0) AS {measure} FROM num {on}")
        order = base
    shown, joins = _label_sql(dims, _FACTS[_fact_of(measure)].reason_kind or "void", lang)
    values = ", ".join(f"g.{c}::{_TYPES.get(c, 'BIGINT')} AS {c}" for c in columns_of(measure))
    period = "g.period, " if grain else ""
    sort = ", ".join(["g.period"] * bool(grain) + [f"g.{order} DESC NULLS LAST"] + [f"g.{d}" for d in dims])
    return (f"WITH {', '.join(ctes)}, g AS ({body}) SELECT {shown}{period}{values} FROM g {joins}"
            f" ORDER BY {sort} LIMIT ?", params)


# Counts of orders (or of voids, one per order) by category come from the orders' category bit masks when every
# category has a bit: an order counts once in each category it has a line in, without reading its lines. The rows
# are counted per mask first and only those counts spread over the categories (as the dashboard's heat map does):
# joining every row to category_bits on its bits made DuckDB 2.0.0 fail with an internal error ("dict-surviving
# cache: global dictionary column … changed identity") that invalidates the whole database until a restart.
_ORDER_COUNTS = ("orders", "shipped_orders", "voids")


def _fact_sql(name: str, keys: list[str], dims: list[str], grain: str | None, f: AnalyticsFilters,
              bits: int | None = None) -> tuple[str, list]:
    """One aggregate over its fact, grouped by the keys (dimension codes and the period)."""
    fact_name, per_order, per_line = _AGGREGATES[name]
    fact = _FACTS[fact_name]
    by_line = any(d in LINE_DIMENSIONS for d in dims) or bool(f.categories)
    by_mask = bits is not None and name in _ORDER_COUNTS and "sku" not in dims
    at = fact.dates[0 if f.basis == "event" else 1]
    exprs = {**_KEYS, "sku": fact.sku, "reason": fact.reason, "period": f"date_trunc('{grain}', {at})::DATE"}
    where, params = _conditions(fact, at, by_line and not by_mask, f, bits)
    if by_mask and "category" in dims:
        others = [k for k in keys if k != "category"]
        inner = "".join(f"{exprs[k]} AS {k}, " for k in others)
        outer = "".join(("cb.code" if k == "category" else f"m.{k}") + f" AS {k}, " for k in keys)
        chosen = " WHERE list_contains(?, cb.code)" if f.categories else ""   # split by category: the chosen ones
        sql = (f"SELECT {outer}sum(m.n)::BIGINT AS {name} FROM (SELECT {inner}o.category_mask AS mask, count(*) AS n"
               f" FROM {fact.source} WHERE {where} GROUP BY ALL) m"
               f" JOIN category_bits cb ON (m.mask >> cb.bit) & 1 = 1{chosen} GROUP BY ALL")
        return sql, params + ([list(f.categories)] if f.categories else [])
    if by_mask:
        joins, aggregate = "", "count(*)"
    else:
        joins, aggregate = (fact.lines if by_line else ""), (per_line if by_line else per_order)
    select = "".join(f"{exprs[k]} AS {k}, " for k in keys)
    sql = f"SELECT {select}{aggregate} AS {name} FROM {fact.source}{joins} WHERE {where} GROUP BY ALL"
    return sql, params


def _conditions(fact: _Fact, at: str, by_line: bool, f: AnalyticsFilters, bits: int | None = None) -> tuple[str, list]:
    """The WHERE text of one fact: its own condition, the period on its date column `at`, the filters."""
    start, end = f.bounds()
    parts, params = [fact.where, f"{at} >= ?", f"{at} < ?"], [start, end]
    if f.warehouses:
        parts.append("list_contains(?, o.warehouse)")
        params.append(list(f.warehouses))
    if f.reps:
        parts.append("o.rep_id IN (SELECT id FROM users WHERE list_contains(?, username))")
        params.append(list(f.reps))
    if f.categories and bits is not None:
        # An order matches when it has a line in one of the categories: one of their bits is set.
        parts.append("(o.category_mask & ?::UBIGINT) <> 0")
        params.append(bits)
    elif f.categories:
        parts.append("o.id IN (SELECT cl.order_id FROM order_lines cl JOIN products cp ON cp.sku = cl.sku"
                     " WHERE list_contains(?, cp.category))")
        params.append(list(f.categories))
    if f.categories and by_line:   # split by line: only the lines of those categories count
        parts.append("list_contains(?, p.category)")
        params.append(list(f.categories))
    if f.reasons and fact.reason:
        parts.append(f"list_contains(?, {fact.reason})")
        params.append(list(f.reasons))
    return " AND ".join(parts), params


def _label_sql(dims: list[str], kind: str, lang: str) -> tuple[str, str]:
    shown, joins = "", ""
    for d in dims:
        key, label, join = _LABELS.get(d, (f"g.{d}", f"g.{d}", ""))
        shown += f"{key} AS {d}, {label.format(lang=lang)} AS {d}_label, "
        joins += " " + join.format(kind=kind) if join else ""
    return shown, joins


def _with_words(frame: pd.DataFrame, dims: list[str], lang: str) -> pd.DataFrame:
    """Status, payment and source codes in words; a missing value (an order without a rep) as "(none)"."""
    frame = frame.copy()
    for d in dims:
        if d in _WORDS:
            frame[f"{d}_label"] = frame[d].map(lambda code, kind=_WORDS[d]: i18n.label(kind, code, lang))
        frame[f"{d}_label"] = frame[f"{d}_label"].where(frame[d].notna(), i18n.t("explore.none", lang))
        frame[f"{d}_label"] = frame[f"{d}_label"].fillna(frame[d]).astype(str)
    return frame
