"""Dashboard figures for `python -m lib.cli bench`: the void and returns dashboards, uncached, for the default
90-day period and for two full years, as an analyst sees them; and explaining the change between the last two
30-day windows over every dimension (issue #17), as the dashboards' Explain view asks for it."""
from collections.abc import Callable
from datetime import timedelta

from lib.analytics.explain import explain_all
from lib.analytics.filters import AnalyticsFilters
from lib.analytics.returns import returns_dashboard
from lib.analytics.voids import dashboard
from lib.db import Database, scalar

# figure -> (dashboard function, days in the period ending on the newest order's day)
FIGURES = {"void_dashboard_ms": (dashboard, None), "void_dashboard_two_years_ms": (dashboard, 730),
           "returns_dashboard_ms": (returns_dashboard, None), "returns_dashboard_two_years_ms": (returns_dashboard, 730)}
EXPLAIN_FIGURES = {"explain_voids_ms": "voids", "explain_returns_ms": "returns"}
WINDOW_DAYS = 30


def dashboard_figures(db: Database, analyst, median: Callable) -> dict:
    """figure -> median milliseconds of one dashboard (lib.analytics never caches; the app does, in lib.ui.cached)."""
    with db.read() as cur:
        newest = scalar(cur, "SELECT max(created_at) FROM orders")
    if newest is None:
        return {}
    today = newest.date()
    out = {}
    for name, (fn, days) in FIGURES.items():
        f = AnalyticsFilters.default(today) if days is None else AnalyticsFilters(today - timedelta(days=days - 1),
                                                                                    today)
        out[name] = median(lambda fn=fn, f=f: fn(db, analyst, f, "week"))
    after = (today - timedelta(days=WINDOW_DAYS - 1), today)
    before = (today - timedelta(days=2 * WINDOW_DAYS - 1), today - timedelta(days=WINDOW_DAYS))
    for name, kind in EXPLAIN_FIGURES.items():
        out[name] = median(lambda kind=kind: explain_all(db, analyst, kind, before, after))
    return out
