"""The returns dashboard's numbers (SPEC §8): return rate by product and category, reasons, dispositions, value.

Every return note counts (any status). With basis "event" a note is dated by its creation and the orders behind
the rate are those shipped in the period; with basis "order" both are dated by the order's creation. Value is
the refund owed or paid for the notes (cancelled refunds left out). With labels "recorded" a reason is grouped
by the labels each note carried (its "as recorded" key, see lib.analytics.filters).
"""
from dataclasses import dataclass, field

import pandas as pd

from lib.analytics._sql import Span, load_returns, marks, period_sql, shipped_cte, span, wilson_sql
from lib.analytics.filters import AnalyticsFilters, check_grain
from lib.analytics._base import language, prepare, reason_labels_in, snapshot
from lib.db import Database
from lib.domain import User
from lib.errors import InvalidInput

DISPOSITIONS = ("restock", "repair", "scrap", "pending")
RATE_COLUMNS = ["key", "label", "units_sold", "units_returned", "rate", "score"]
RATE_DIMENSIONS = ("category", "sku")
KPI_KEYS = ("shipped_orders", "returns", "return_rate", "units_returned", "value_refunded")


@dataclass
class ReturnsDashboard:
    """Everything the returns dashboard shows, read from one snapshot."""
    filters: AnalyticsFilters
    grain: str
    lang: str
    kpis: dict
    trend: pd.DataFrame                # period, reason_code, returns, value
    reasons: pd.DataFrame              # reason_code, returns, units, share
    dispositions: pd.DataFrame         # disposition, units
    rates_by_category: pd.DataFrame    # RATE_COLUMNS
    rates_by_sku: pd.DataFrame
    reason_labels: dict[str, tuple[str, str]]   # reason code (or "as recorded" key) -> (label_en, label_zh)
    spikes: list = field(default_factory=list)


def returns_dashboard(db: Database, user: User, f: AnalyticsFilters, grain: str = "week",
                      lang: str | None = None, limit: int = 15) -> ReturnsDashboard:
    """Every figure of the returns dashboard from one snapshot (the app caches it: lib.ui.cached)."""
    from lib.analytics.spikes import return_spikes

    f, grain, lang = prepare(user, f), check_grain(grain), language(user, lang)
    with snapshot(db) as cur:
        before = f.previous()
        previous = _kpis(cur, before, span(cur, before, "return"))
        s = span(cur, f, "return")
        current = _kpis(cur, f, s)                    # loads this period's notes as `rn` for what follows
        _load_units(cur, f, s)
        return ReturnsDashboard(
            filters=f, grain=grain, lang=lang, kpis={"current": current, "previous": previous},
            trend=_trend(cur, grain), reasons=_reasons(cur), dispositions=_dispositions(cur),
            rates_by_category=_rates(cur, f, "category", lang, limit), rates_by_sku=_rates(cur, f, "sku", lang, limit),
            reason_labels=reason_labels_in(cur, "return", f.labels), spikes=return_spikes(cur, f))


def kpis(db: Database, user: User, f: AnalyticsFilters) -> dict:
    """{"current": {...}, "previous": {...}} with the KPI_KEYS of each period (return_rate None without shipments)."""
    f = prepare(user, f)
    with snapshot(db) as cur:
        before = f.previous()
        return {"previous": _kpis(cur, before, span(cur, before, "return")),
                "current": _kpis(cur, f, span(cur, f, "return"))}


def trend(db: Database, user: User, f: AnalyticsFilters, grain: str) -> pd.DataFrame:
    """[period, reason_code, returns, value] per day / week (Monday) / month and reason."""
    f, grain = prepare(user, f), check_grain(grain)
    with snapshot(db) as cur:
        load_returns(cur, f, span(cur, f, "return"))
        return _trend(cur, grain)


def rates_by(db: Database, user: User, f: AnalyticsFilters, dimension: str, limit: int = 15,
             lang: str | None = None) -> pd.DataFrame:
    """[key, label, units_sold, units_returned, rate, score] per category or SKU, ranked by score."""
    f = prepare(user, f)
    if dimension not in RATE_DIMENSIONS:
        raise InvalidInput("analytics.bad_dimension", value=str(dimension)[:40], allowed=", ".join(RATE_DIMENSIONS))
    with snapshot(db) as cur:
        s = span(cur, f, "return")
        load_returns(cur, f, s)
        _load_units(cur, f, s)
        return _rates(cur, f, dimension, language(user, lang), limit)


def shipped_by_period(db: Database, user: User, f: AnalyticsFilters, grain: str) -> pd.DataFrame:
    """[period, shipped_orders] per day / week / month (the base of a return rate trend)."""
    f, grain = prepare(user, f), check_grain(grain)
    with snapshot(db) as cur:
        ps, params = shipped_cte(f, span(cur, f, "return"))
        return cur.execute(f"""WITH {ps} SELECT {period_sql(grain, 'dated')} AS period, count(*) AS shipped_orders
                               FROM ps GROUP BY 1 ORDER BY 1""", params).df()


# --- SQL (over the temporary table `rn` of the period's return notes, see _sql.load_returns) -------

def _kpis(cur, f: AnalyticsFilters, s: Span) -> dict:
    load_returns(cur, f, s)
    ps, params = shipped_cte(f, s)
    row = cur.execute(f"""WITH {ps}
        SELECT (SELECT count(*) FROM ps), (SELECT count(*) FROM rn),
               (SELECT sum(qty) FROM return_lines WHERE return_id IN (SELECT id FROM rn)),
               (SELECT sum(refund) FROM rn)""", params).fetchall()[0]
    shipped, returns, units, value = row
    return {"shipped_orders": int(shipped), "returns": int(returns),
            "return_rate": returns / shipped if shipped else None,
            "units_returned": int(units or 0), "value_refunded": value or 0}


def _trend(cur, grain: str) -> pd.DataFrame:
    return cur.execute(f"""SELECT {period_sql(grain, 'dated')} AS period, reason_code, count(*) AS returns,
               sum(refund) AS value
        FROM rn GROUP BY ALL ORDER BY period, reason_code""").df()


def _reasons(cur) -> pd.DataFrame:
    return cur.execute("""WITH u AS (SELECT return_id, sum(qty) AS units FROM return_lines
                                    WHERE return_id IN (SELECT id FROM rn) GROUP BY 1)
        SELECT rn.reason_code, count(*) AS returns, CAST(coalesce(sum(u.units), 0) AS BIGINT) AS units,
               count(*) / sum(count(*)) OVER () AS share
        FROM rn LEFT JOIN u ON u.return_id = rn.id GROUP BY 1 ORDER BY returns DESC, reason_code""").df()


def _dispositions(cur) -> pd.DataFrame:
    rows = dict(cur.execute("""SELECT coalesce(disposition, 'pending'), sum(qty) FROM return_lines
        WHERE return_id IN (SELECT id FROM rn) GROUP BY 1""").fetchall())
    return pd.DataFrame({"disposition": list(DISPOSITIONS), "units": [int(rows.get(d) or 0) for d in DISPOSITIONS]})


def _load_units(cur, f: AnalyticsFilters, s: Span) -> None:
    """Temporary table `su` (sku, sold, back): units shipped in the period and units on its return notes, per SKU.

    Units add up, so categories are summed from it; the lines are read once for both rankings.
    """
    ps, params = shipped_cte(f, s)
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE su AS WITH {ps}
        SELECT sku, sum(sold) AS sold, sum(back) AS back FROM (
            SELECT l.sku, sum(l.qty_shipped) AS sold, 0 AS back FROM order_lines l JOIN ps ON ps.id = l.order_id
            WHERE l.order_id BETWEEN ? AND ? GROUP BY 1
            UNION ALL
            SELECT sku, 0, sum(qty) FROM return_lines WHERE return_id IN (SELECT id FROM rn) GROUP BY 1)
        GROUP BY 1""", params + [s.lo, s.hi])


def _rates(cur, f: AnalyticsFilters, dimension: str, lang: str, limit: int) -> pd.DataFrame:
    """Units returned / units shipped per category or SKU (from `su`), ranked by the Wilson lower bound."""
    name = "c.name_zh" if lang == "zh" else "c.name_en"
    key, label = ("p.category", f"any_value({name})") if dimension == "category" else ("p.sku", "any_value(p.name)")
    only, params = ("TRUE", []) if not f.categories else (f"p.category IN ({marks(f.categories)})", list(f.categories))
    sql = f"""WITH g AS (SELECT {key} AS key, {label} AS label, sum(su.sold) AS units_sold, sum(su.back) AS units_returned
              FROM su JOIN products p ON p.sku = su.sku LEFT JOIN categories c ON c.code = p.category
              WHERE {only} GROUP BY 1)
        SELECT key, label, CAST(units_sold AS BIGINT) AS units_sold, CAST(units_returned AS BIGINT) AS units_returned,
               units_returned::DOUBLE / nullif(units_sold, 0) AS rate, {wilson_sql('units_returned', 'units_sold')} AS score
        FROM g ORDER BY score DESC NULLS LAST, units_returned DESC, key LIMIT ?"""
    return cur.execute(sql, params + [limit]).df()[RATE_COLUMNS]
