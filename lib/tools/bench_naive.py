"""The bench's foil (SPEC §12): the same searches done the naive way, whole tables loaded into pandas.

Only for comparison — the app never does this. Each search must find the same number of orders as the real one.
"""
import time
from datetime import datetime, time as clock, timedelta
from types import SimpleNamespace

import pandas as pd

from lib.db import Database
from lib.domain import can
from lib.queries.search import parse_sort

NAIVE_MAX_ORDERS = 1_000_000   # beyond this the whole tables take gigabytes (the point being made)

_TABLES = ("orders", "order_lines", "products", "customers", "users")


def naive_searches(db: Database, cases: dict, fast_ms: dict, median) -> dict:
    """{load_ms, rss_growth_mb, searches: {name: {ms, ratio_in_memory, ratio_with_load, same_total}}}."""
    rss_before, started = _rss_mb(), time.perf_counter()
    t = load_tables(db)
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    out = {"load_ms": load_ms, "rss_growth_mb": _rss_mb() - rss_before, "searches": {}}
    for name, (user, filters, sort) in cases.items():
        ms = median(lambda: naive_search(t, user, filters.cleaned(), sort), 3)
        total = naive_search(t, user, filters.cleaned(), sort)[0]
        out["searches"][name] = {
            "ms": ms, "ratio_in_memory": round(ms / max(fast_ms[name], 0.01), 1),
            "ratio_with_load": round((ms + load_ms) / max(fast_ms[name], 0.01), 1),
            "same_total": total == _fast_total(db, user, filters, sort)}
    return out


def load_tables(db: Database) -> SimpleNamespace:
    with db.read() as cur:
        return SimpleNamespace(**{name: cur.execute(f"SELECT * FROM {name}").df() for name in _TABLES})


def naive_search(t, user, f, sort: str, limit: int = 50) -> tuple[int, pd.DataFrame]:
    """(total, first page) computed in pandas, following lib.queries.search's rules."""
    o = t.orders
    keep = pd.Series(True, index=o.index)
    if not can(user, "order.view_all"):
        keep &= o.rep_id == user.id
    if f.customer:
        names = t.customers.name.str.lower().str.contains(f.customer.lower(), regex=False)
        keep &= o.customer_id.isin(t.customers.id[names])
    if f.date_from:
        keep &= o.created_at >= datetime.combine(f.date_from, clock.min)
    if f.date_to:
        keep &= o.created_at < datetime.combine(f.date_to + timedelta(days=1), clock.min)
    for column, values in (("status", f.statuses), ("payment_status", f.payment), ("warehouse", f.warehouse)):
        if values:
            keep &= o[column].isin(values)
    for skus in _sku_sets(t.products, f):
        keep &= o.id.isin(t.order_lines.order_id[t.order_lines.sku.isin(skus)])
    for column, names in (("rep_id", f.rep), ("assignee_id", f.assignee)):
        if names:
            keep &= o[column].isin(t.users.id[t.users.username.isin(names)])
    if f.min_total is not None:
        keep &= o.total >= float(f.min_total)
    if f.max_total is not None:
        keep &= o.total <= float(f.max_total)
    hits = o[keep]
    name, desc = parse_sort(sort)
    key = name if name in hits.columns else "created_at"
    page = hits.sort_values([key, "id"], ascending=not desc).head(limit)
    page = page.merge(t.customers[["id", "name"]].rename(columns={"id": "customer_id", "name": "customer"}),
                      on="customer_id", how="left")
    return len(hits), page


def _sku_sets(products: pd.DataFrame, f) -> list:
    sets = []
    if f.product:
        text = f.product
        match = (products.sku.str.upper().str.startswith(text.upper())
                 | products.name.str.lower().str.contains(text.lower(), regex=False))
        sets.append(set(products.sku[match]) | {text})
    if f.category:
        sets.append(set(products.sku[products.category.isin(f.category)]))
    return sets


def _fast_total(db, user, filters, sort) -> int:
    from lib.queries.search import search_orders

    return search_orders(db, user, filters, sort=sort).total


def _rss_mb() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * 4096 / 2**20)
