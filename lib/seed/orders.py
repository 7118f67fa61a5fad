"""The demo order book for `lib.seed`: when orders arrive, what is on them, and when they move on.

Times are int64 seconds since the epoch (naive local time); NEVER marks an event that has not happened.
"""
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from lib.seed.data import (CATEGORIES, FRAGILE_CATEGORIES, HOUR_WEIGHTS, LUNAR_NEW_YEAR, OPS_USER_IDS, OPS_WEIGHTS,
                           REP_USERS, REP_WEIGHTS, SHORTAGE_CATEGORIES, WEEKDAY_FACTOR)
from lib.seed.world import Catalog, Customers

DAY = 86_400
HOUR = 3_600
NEVER = np.int64(2 ** 61)
MAX_LINES = 5
STATUSES = ("pending", "processing", "shipped", "completed", "voided", "archived")
PENDING, PROCESSING, SHIPPED, COMPLETED, VOIDED, ARCHIVED = range(6)


@dataclass
class Orders:
    t0: np.ndarray           # created, ascending
    day: np.ndarray          # horizon day of creation
    seq: np.ndarray          # number within the day (SO-YYYYMMDD-NNNNN)
    cust: np.ndarray
    rep: np.ndarray          # user index
    creator: np.ndarray      # user index
    wh: np.ndarray
    paymode: np.ndarray      # 0 prepaid, 1 pays after ordering, 2 on credit
    total: np.ndarray        # cents
    line_start: np.ndarray   # offsets into the line arrays, length n + 1
    l_order: np.ndarray
    l_no: np.ndarray
    l_prod: np.ndarray
    l_qty: np.ndarray
    l_price: np.ndarray      # cents
    l_cat: np.ndarray        # category index of the line's product
    has_short: np.ndarray    # holds a product of a category that often runs out
    has_fragile: np.ndarray
    # planned life; `observe` cuts it at "now" and at the void
    t_pay: np.ndarray | None = None
    t_proc: np.ndarray | None = None
    t_ship: np.ndarray | None = None
    t_comp: np.ndarray | None = None
    t_arch: np.ndarray | None = None
    t_void: np.ndarray | None = None


def lognormal(rng, n, median, sigma, lo, hi) -> np.ndarray:
    return np.clip(rng.lognormal(np.log(median), sigma, n), lo, hi).astype(np.int64)


def pick_ops(rng, n) -> np.ndarray:
    return np.asarray(OPS_USER_IDS)[rng.choice(len(OPS_USER_IDS), n, p=OPS_WEIGHTS)]


def _day_weights(rng, start: date, days: int) -> np.ndarray:
    """Growth, weekly rhythm, shopping festivals (618, Double 11) and the Spring Festival lull."""
    weights = np.empty(days)
    for d in range(days):
        day = start + timedelta(days=d)
        w = 1.5 ** (d / 365) * WEEKDAY_FACTOR[day.weekday()]
        if day.month == 11 and day.day <= 11:
            w *= 1 + 0.09 * day.day
        elif day.month == 6 and day.day <= 18:
            w *= 1.25
        elif day.month == 10 and day.day <= 7:
            w *= 0.6
        lny = LUNAR_NEW_YEAR.get(day.year)
        if lny:
            offset = (day - date.fromisoformat(f"{day.year}-{lny}")).days
            w *= 0.35 if -4 <= offset <= 7 else 1.2 if -14 <= offset < -4 else 1.0
        weights[d] = w
    return weights * rng.lognormal(0, 0.08, days)


def _arrivals(rng, n: int, start: date, start_s: int, days: int):
    counts = rng.multinomial(n, (w := _day_weights(rng, start, days)) / w.sum())
    day = np.repeat(np.arange(days), counts)
    hours = np.asarray(HOUR_WEIGHTS)
    secs = rng.choice(24, n, p=hours / hours.sum()) * HOUR + rng.integers(0, HOUR, n)
    t0 = np.sort(start_s + day * DAY + secs)
    day = (t0 - start_s) // DAY
    seq = np.arange(n) - np.searchsorted(day, day) + 1
    return t0, day, seq


def _sample_products(rng, catalog: Catalog, pref_cat: np.ndarray) -> np.ndarray:
    """Products by popularity; 45% of picks come from the customer's favourite category."""
    m = len(pref_cat)
    own = rng.random(m) < 0.45
    lo = np.where(own, catalog.cat_bounds[pref_cat, 0], 0.0)
    hi = np.where(own, catalog.cat_bounds[pref_cat, 1], 1.0)
    pos = np.searchsorted(catalog.cum_weight, lo + rng.random(m) * (hi - lo), side="right")
    return np.minimum(pos, len(catalog.sku) - 1).astype(np.int32)


def _distinct_basket(rng, catalog, pref_cat, k):
    """Up to five distinct products per order; duplicates are redrawn a few times, then dropped."""
    n = len(k)
    picks = _sample_products(rng, catalog, np.repeat(pref_cat, MAX_LINES)).reshape(n, MAX_LINES)
    used = np.arange(MAX_LINES)[None, :] < k[:, None]
    for _ in range(6):
        dup = np.zeros_like(used)
        for j in range(1, MAX_LINES):
            dup[:, j] = (picks[:, :j] == picks[:, j:j + 1]).any(axis=1)
        dup &= used
        if not dup.any():
            break
        rows = np.nonzero(dup)[0]
        picks[dup] = _sample_products(rng, catalog, pref_cat[rows])
    return picks, used & ~dup


def _quantities(rng, price: np.ndarray) -> np.ndarray:
    """Fewer units of dear things; now and then a bulk order."""
    tiers = [price >= 300_000, price >= 100_000, price >= 20_000, price >= 5_000]
    qty = np.minimum(rng.geometric(np.select(tiers, [0.85, 0.7, 0.5, 0.3], 0.15)), np.select(tiers, [2, 4, 8, 20], 50))
    return np.where(rng.random(len(price)) < 0.02, qty * 3, qty).astype(np.int32)


def place_orders(rng, n: int, start: date, start_s: int, days: int, cust: Customers, catalog: Catalog) -> Orders:
    """Orders with their customers, reps, warehouses and lines; ids ascend with creation time."""
    t0, day, seq = _arrivals(rng, n, start, start_s, days)
    active = np.searchsorted(cust.active_day, day, side="right")
    c = np.searchsorted(cust.cum_weight, rng.random(n) * cust.cum_weight[active - 1], side="right")
    c = np.minimum(c, active - 1)
    rep_idx = np.where(rng.random(n) < 0.92, cust.rep[c], rng.choice(len(REP_USERS), n, p=REP_WEIGHTS))
    rep = np.asarray(REP_USERS)[rep_idx]
    creator = np.where(rng.random(n) < 0.85, rep, pick_ops(rng, n))
    wh = np.where(rng.random(n) < 0.85, cust.home_wh[c], rng.integers(0, 3, n))
    paymode = np.where(rng.random(n) < 0.75, cust.pay_pref[c], rng.choice(3, n, p=[0.55, 0.3, 0.15]))
    k = rng.choice(np.arange(1, MAX_LINES + 1), n, p=[0.17, 0.22, 0.28, 0.18, 0.15])
    picks, used = _distinct_basket(rng, catalog, cust.pref_cat[c], k)
    l_order = np.repeat(np.arange(n), MAX_LINES).reshape(n, MAX_LINES)[used]
    l_no = np.cumsum(used, axis=1)[used].astype(np.int32)
    l_prod = picks[used]
    list_price = catalog.price[l_prod]
    discount = np.where(rng.random(len(l_prod)) < 0.12, rng.choice([5, 8, 10], len(l_prod)), 0)
    l_price = list_price * (100 - discount) // 100
    l_qty = _quantities(rng, list_price)
    line_start = np.concatenate([[0], np.cumsum(used.sum(axis=1))])
    starts = line_start[:-1]
    total = np.add.reduceat(l_qty.astype(np.int64) * l_price, starts)
    l_cat = catalog.cat[l_prod]
    short = np.isin(l_cat, category_indexes(SHORTAGE_CATEGORIES))
    fragile = np.isin(l_cat, category_indexes(FRAGILE_CATEGORIES))
    return Orders(t0, day, seq, c, rep, creator, wh, paymode, total, line_start, l_order, l_no, l_prod, l_qty,
                  l_price, l_cat, np.maximum.reduceat(short, starts), np.maximum.reduceat(fragile, starts))


def category_indexes(codes) -> list[int]:
    names = [cat[0] for cat in CATEGORIES]
    return [names.index(code) for code in codes]


def plan_lifecycle(rng, o: Orders) -> None:
    """Planned payment, processing, shipping, completion and archiving, ignoring voids and "now"."""
    n = len(o.t0)
    later = o.paymode == 1
    never_pays = later & (rng.random(n) < 0.04)
    t_pay = np.where(later, o.t0 + lognormal(rng, n, 1.2 * DAY, 0.8, HOUR, 10 * DAY), o.t0)
    t_pay = np.where(never_pays, NEVER, t_pay)
    quick = o.t0 + lognormal(rng, n, 3 * HOUR, 1.0, 600, 2 * DAY)
    t_proc = np.where(later, t_pay + lognormal(rng, n, HOUR, 0.8, 300, 8 * HOUR), quick)
    backorder = np.where(rng.random(n) < 0.03, rng.integers(3 * DAY, 12 * DAY, n), 0)
    t_ship = t_proc + lognormal(rng, n, 1.2 * DAY, 0.6, 2 * HOUR, 8 * DAY) + backorder
    t_comp = t_ship + lognormal(rng, n, 4.5 * DAY, 0.45, DAY, 20 * DAY)
    t_arch = np.where(rng.random(n) < 0.45, t_comp + rng.integers(45 * DAY, 200 * DAY, n), NEVER)
    t_pay = np.where(o.paymode == 2, t_ship + rng.integers(10 * DAY, 60 * DAY, n), t_pay)
    o.t_pay, o.t_proc, o.t_ship, o.t_comp, o.t_arch = (np.minimum(t, NEVER) for t in
                                                       (t_pay, t_proc, t_ship, t_comp, t_arch))
    o.t_void = np.full(n, NEVER)


def observe(o: Orders, now: int) -> dict:
    """What has happened by `now`: event times (NEVER if not), status and payment per order."""
    voided = o.t_void <= now
    cut = np.where(voided, o.t_void, now)
    proc = np.where(np.where(voided, o.t_proc < o.t_void, o.t_proc <= now), o.t_proc, NEVER)
    ship, comp, arch = (np.where((t <= now) & ~voided, t, NEVER) for t in (o.t_ship, o.t_comp, o.t_arch))
    status = np.select([voided, arch < NEVER, comp < NEVER, ship < NEVER, proc < NEVER],
                       [VOIDED, ARCHIVED, COMPLETED, SHIPPED, PROCESSING], PENDING).astype(np.int8)
    paid_at = np.where(o.t_pay <= cut, o.t_pay, NEVER)
    return {"proc": proc, "ship": ship, "comp": comp, "arch": arch, "void": np.where(voided, o.t_void, NEVER),
            "status": status, "paid_at": paid_at, "paid": np.where(paid_at < NEVER, o.total, 0)}
