"""Demo returns and refunds for `lib.seed`, and the payment state they leave on each order."""
import numpy as np

from lib.seed.data import (DAMAGE_WAREHOUSE, FRAGILE_CATEGORIES, RETURN_NOTES, RETURN_REASONS, USER_INDEX,
                           WAREHOUSES)
from lib.seed.orders import DAY, HOUR, NEVER, Orders, category_indexes, lognormal, pick_ops
from lib.seed.voids import APPLIED, Rows, reason_notes, take

BJ = [w[0] for w in WAREHOUSES].index(DAMAGE_WAREHOUSE)
DISPOSITIONS = ("restock", "repair", "scrap")
# reason -> chances of restock, repair, scrap at inspection (order of RETURN_REASONS)
DISPOSITION_ODDS = np.array([[0.15, 0.50, 0.35], [0.88, 0.10, 0.02], [0.90, 0.08, 0.02], [0.15, 0.30, 0.55],
                             [0.60, 0.25, 0.15]])
PAYOUT_DELAY = 14 * DAY   # finance pays void refunds out within about two weeks
FINANCE, WAREHOUSE, LEAD = USER_INDEX["finance"], USER_INDEX["warehouse"], USER_INDEX["lead"]


def _pick_lines(rng, o: Orders, idx):
    """One or two distinct lines of each returning order, and how many units come back."""
    k = np.diff(o.line_start)[idx]
    first = rng.integers(0, k)
    two = (k >= 2) & (rng.random(len(idx)) < 0.3)
    second = (first + 1 + rng.integers(0, np.maximum(k - 1, 1))) % k
    note = np.concatenate([np.arange(len(idx)), np.nonzero(two)[0]])
    line = o.line_start[idx][note] + np.concatenate([first, second[two]])
    order = np.argsort(note, kind="stable")
    note, line = note[order], line[order]
    qty = o.l_qty[line]
    back = np.where(rng.random(len(line)) < 0.55, qty, rng.integers(1, qty + 1))
    return note, line, back.astype(np.int32)


def plan_returns(rng, o: Orders, seen: dict, now: int) -> tuple[Rows, Rows]:
    """Return notes (one per returning order) and their lines, sorted by creation time."""
    n = len(o.t0)
    p = 0.03 * np.where(o.has_fragile, 1.7, 1.0) * np.where(o.wh == BJ, 1.4, 1.0)
    t_ret = o.t_ship + lognormal(rng, n, 6 * DAY, 0.6, DAY, 30 * DAY)
    ok = (seen["ship"] < NEVER) & (rng.random(n) < p) & (t_ret <= now) & (t_ret < seen["arch"])
    idx = np.nonzero(ok)[0]
    idx = idx[np.argsort(t_ret[idx], kind="stable")]
    m = len(idx)
    note_of, line, qty = _pick_lines(rng, o, idx)
    fragile = np.zeros(m, bool)   # quality complaints come with electronics and phones
    np.logical_or.at(fragile, note_of, np.isin(o.l_cat[line], category_indexes(FRAGILE_CATEGORIES)))
    w = np.column_stack([0.22 * np.where(fragile, 3.0, 1.0), np.full(m, 0.40), np.full(m, 0.15),
                         0.10 * np.where(o.wh[idx] == BJ, 4.0, 1.0), np.full(m, 0.05)])
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    reason = (rng.random(m)[:, None] > cum).sum(axis=1).clip(0, len(RETURN_REASONS) - 1)
    value = np.bincount(note_of, weights=qty * o.l_price[line], minlength=m).round().astype(np.int64)
    fee = (reason == RETURN_REASONS.index("changed_mind")) & (rng.random(m) < 0.3)
    t_recv = t_ret[idx] + rng.integers(DAY, 6 * DAY, m)
    t_insp = t_recv + lognormal(rng, m, DAY, 0.6, 3 * HOUR, 6 * DAY)
    refunded = o.t_pay[idx] <= t_ret[idx]
    t_paid = np.where(refunded, t_insp + rng.integers(DAY // 2, 4 * DAY, m), NEVER)
    t_close = np.where(rng.random(m) < 0.9, np.maximum(t_insp, np.where(refunded, t_paid, 0))
                       + rng.integers(HOUR * 4, 2 * DAY, m), NEVER)
    notes_rows = {
        "order": idx, "t_ret": t_ret[idx], "reason": reason,
        "note": reason_notes(rng, reason, RETURN_REASONS, RETURN_NOTES, 0.3),
        "wh": np.where(rng.random(m) < 0.92, o.wh[idx], rng.integers(0, len(WAREHOUSES), m)),
        "refund": np.where(fee, value * 9 // 10, value), "has_refund": refunded, "by": pick_ops(rng, m),
        "t_recv": _seen(t_recv, now), "t_insp": _seen(t_insp, now), "t_close": _seen(t_close, now),
        "t_paid": _seen(t_paid, now), "inspector": np.where(rng.random(m) < 0.8, WAREHOUSE, LEAD)}
    odds = np.cumsum(DISPOSITION_ODDS[reason[note_of]], axis=1)
    disp = (rng.random(len(line))[:, None] > odds).sum(axis=1).clip(0, 2)
    inspected = notes_rows["t_insp"][note_of] < NEVER
    lines = {"note": note_of, "line": line, "qty": qty, "disp": np.where(inspected, disp, -1)}
    return notes_rows, lines


def _seen(t, now):
    return np.where(t <= now, t, NEVER)


def plan_refunds(rng, o: Orders, voids: Rows, notes: Rows, now: int) -> Rows:
    """Refund records: the amount paid of a voided order, the refund value of a return; sorted by time."""
    paid_void = (voids["status"] == APPLIED) & (voids["paid"] > 0)
    v = np.nonzero(paid_void)[0]
    t_v = voids["t_app"][v]
    paid_v = np.where(t_v < now - PAYOUT_DELAY, t_v + rng.integers(DAY // 2, 6 * DAY, len(v)), NEVER)
    actor_v = np.where(voids["appr"][v] > 0, voids["decided_by"][v], voids["by"][v])
    r = np.nonzero(notes["has_refund"])[0]
    rows = {"order": np.concatenate([voids["order"][v], notes["order"][r]]),
            "source": np.concatenate([np.zeros(len(v), int), np.ones(len(r), int)]),
            "ref": np.concatenate([v, r]),
            "amount": np.concatenate([voids["paid"][v], notes["refund"][r]]),
            "t": np.concatenate([t_v, notes["t_ret"][r]]),
            "by": np.concatenate([actor_v, notes["by"][r]]),
            "t_paid": np.concatenate([paid_v, notes["t_paid"][r]])}
    return take(rows, np.argsort(rows["t"], kind="stable"))


def settle_payments(o: Orders, seen: dict, refunds: Rows) -> None:
    """amount_refunded is what has been paid out; the payment state follows from it."""
    out = refunds["t_paid"] < NEVER
    refunded = np.zeros(len(o.t0), np.int64)
    np.add.at(refunded, refunds["order"][out], refunds["amount"][out])
    paid = seen["paid"]
    seen["refunded"] = refunded
    seen["payment"] = np.select([(paid > 0) & (refunded >= paid), (refunded > 0) & (refunded < paid), paid > 0],
                                [3, 2, 1], 0)
