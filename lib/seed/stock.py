"""The demo stock ledger for `lib.seed`: every reservation, shipment, release and return inspection,
plus purchase receipts planned so available stock never runs negative at any point in time."""
import numpy as np

from lib.seed.orders import DAY, HOUR, NEVER, Orders
from lib.seed.returns import DISPOSITIONS, WAREHOUSE
from lib.seed.voids import APPLIED, Rows
from lib.seed.world import Catalog

WEEK = 7 * DAY
KINDS = ("receipt", "reserve", "ship", "release") + DISPOSITIONS
REF_TYPES = ("receipt", "order", "void", "return")
LOW_STOCK_SHARE = 0.06


def _period(t, start_s):
    return (t - start_s) // WEEK


def _weekly(pair, period, qty, pairs, weeks) -> np.ndarray:
    flat = np.bincount(pair * weeks + period, weights=qty, minlength=pairs * weeks)
    return flat.reshape(pairs, weeks).round().astype(np.int64)


def plan_receipts(rng, demand: np.ndarray, gains: np.ndarray, case: np.ndarray) -> np.ndarray:
    """Weekly purchase receipts per (warehouse, sku).

    Receipts arrive before the week's reservations and cover them, so available stock never dips below
    zero. Most pairs keep a safety stock; a few are run lean and end the horizon nearly empty.
    """
    pairs, weeks = demand.shape
    low = rng.random(pairs) < LOW_STOCK_SHARE
    leftover = rng.integers(0, 15, pairs)
    # safety stock: at least a few dozen units, so only the lean pairs show up as low stock
    safety = np.maximum(np.ceil(demand.mean(axis=1) * 0.75).astype(np.int64), rng.integers(25, 80, pairs)) + case
    opening = case * rng.integers(3, 12, pairs)
    receipts = np.zeros_like(demand)
    avail = np.zeros(pairs, np.int64)
    for p in range(weeks):
        nxt = demand[:, p + 1] if p + 1 < weeks else demand[:, p]
        short = avail < demand[:, p] + safety
        refill = np.ceil((demand[:, p] + nxt + safety - avail) / case).astype(np.int64) * case
        normal = np.where(short, refill, 0)
        lean = np.maximum(demand[:, p] + (leftover + 1 if p in (0, weeks - 1) else 0) - avail, 0)
        got = np.where(low, lean, normal)
        if p == 0:
            got = np.where(low, got, np.maximum(got, opening))
        receipts[:, p] = got
        avail += got - demand[:, p] + gains[:, p]
    return receipts


def _rows(ts, pair, n_prod, kind, d_on, d_res, d_q, ref_type, ref_id, order, actor) -> Rows:
    m = len(ts)
    full = lambda v, dt: np.broadcast_to(np.asarray(v, dt), (m,))  # noqa: E731
    return {"ts": ts, "wh": (pair // n_prod).astype(np.int8), "prod": (pair % n_prod).astype(np.int32),
            "kind": full(KINDS.index(kind), np.int8), "d_on": full(d_on, np.int32), "d_res": full(d_res, np.int32),
            "d_q": full(d_q, np.int32), "ref_type": full(REF_TYPES.index(ref_type), np.int8),
            "ref_id": full(ref_id, np.int64), "order": full(order, np.int32), "actor": full(actor, np.int16)}


def build_ledger(rng, o: Orders, seen: dict, voids: Rows, notes: Rows, lines: Rows, catalog: Catalog,
                 start_s: int, now: int) -> Rows:
    """All ledger rows, sorted by time; `ref_id` is the index of the order, void or return note."""
    n_prod = len(catalog.sku)
    weeks = int(_period(now, start_s)) + 1
    lo = o.l_order
    pair = o.wh[lo].astype(np.int64) * n_prod + o.l_prod
    qty = o.l_qty
    parts = [_rows(o.t0[lo], pair, n_prod, "reserve", 0, qty, 0, "order", lo, lo, o.creator[lo])]
    shipped = seen["ship"][lo] < NEVER
    s_lo = lo[shipped]
    parts.append(_rows(seen["ship"][s_lo], pair[shipped], n_prod, "ship", -qty[shipped], -qty[shipped], 0,
                       "order", s_lo, s_lo, WAREHOUSE))
    applied = np.nonzero(voids["status"] == APPLIED)[0]
    void_of = np.full(len(o.t0), -1)
    void_of[voids["order"][applied]] = applied
    released = void_of[lo] >= 0
    v = void_of[lo[released]]
    actor = np.where(voids["appr"][v] > 0, voids["decided_by"][v], voids["by"][v])
    parts.append(_rows(voids["t_app"][v], pair[released], n_prod, "release", 0, -qty[released], 0, "void",
                       v, lo[released], actor))
    done = lines["disp"] >= 0
    note = lines["note"][done]
    r_pair = notes["wh"][note].astype(np.int64) * n_prod + o.l_prod[lines["line"][done]]
    r_qty, disp = lines["qty"][done], lines["disp"][done]
    for d, name in enumerate(DISPOSITIONS):
        sel = disp == d
        parts.append(_rows(notes["t_insp"][note][sel], r_pair[sel], n_prod, name,
                           r_qty[sel] if name == "restock" else 0, 0, r_qty[sel] if name == "repair" else 0,
                           "return", note[sel], notes["order"][note][sel],
                           notes["inspector"][note][sel]))
    pairs = 3 * n_prod
    demand = _weekly(pair, _period(o.t0[lo], start_s), qty, pairs, weeks)
    gain_rows = [parts[2], parts[3]]   # releases and restocks make stock available again
    g_pair = np.concatenate([p["wh"].astype(np.int64) * n_prod + p["prod"] for p in gain_rows])
    g_qty = np.concatenate([p["d_on"] - p["d_res"] for p in gain_rows])
    g_t = np.concatenate([p["ts"] for p in gain_rows])
    gains = _weekly(g_pair, _period(g_t, start_s), g_qty, pairs, weeks)
    receipts = plan_receipts(rng, demand, gains, catalog.case[np.arange(pairs) % n_prod])
    r_pair, r_week = np.nonzero(receipts)
    r_ts = np.where(r_week == 0, start_s - DAY + 9 * HOUR, start_s + r_week * WEEK - 14 * HOUR)
    parts.insert(0, _rows(r_ts, r_pair, n_prod, "receipt", receipts[r_pair, r_week], 0, 0, "receipt", -1, -1,
                          WAREHOUSE))
    rows = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(rows["ts"], kind="stable")
    return {key: value[order] for key, value in rows.items()}
