"""Demo void requests for `lib.seed`: who asked, why, who decided, and the spike an analyst should find."""
import numpy as np

from lib.seed.data import (ERROR_PRONE_REP, NOTE_INDEX, REJECT_NOTES, SHORTAGE_WAREHOUSE,
                           USER_INDEX, VOID_NOTES, VOID_REASONS, WAREHOUSES)
from lib.seed.orders import DAY, HOUR, NEVER, PENDING, PROCESSING, Orders, category_indexes, lognormal, pick_ops

WEEK = 7 * DAY
APPLIED, PENDING_APPROVAL, REJECTED = 0, 1, 2
VOID_STATUSES = ("applied", "pending_approval", "rejected")
THRESHOLD, SALES_REQUEST = 1, 2
APPROVAL_REASONS = ("", "threshold", "sales_request")
SPIKE_REASON = VOID_REASONS.index("out_of_stock")
PAYMENT_FAILED = VOID_REASONS.index("payment_failed")
LEAD, ADMIN = USER_INDEX["lead"], USER_INDEX["admin"]
GZ = [w[0] for w in WAREHOUSES].index(SHORTAGE_WAREHOUSE)
PHONES = category_indexes(["phones"])[0]

Rows = dict[str, np.ndarray]


def _rows(o: Orders, idx, t_req, turn, by, sales_req, thr) -> Rows:
    """Request rows; approval is needed at or above the threshold, or when a sales rep asks."""
    appr = np.where(o.total[idx] >= thr, THRESHOLD, np.where(sales_req, SALES_REQUEST, 0))
    needs = appr > 0
    return {"order": idx, "t_req": t_req, "by": by, "appr": appr,
            "t_dec": np.where(needs, t_req + turn, NEVER), "t_app": t_req + np.where(needs, turn, 0),
            "decided_by": np.where(needs, np.where(by == LEAD, ADMIN, LEAD), -1)}


def _turnaround(rng, n, window, share=0.5):
    """Minutes to a day for a lead to decide, and never longer than part of the order's open window."""
    return np.minimum(lognormal(rng, n, 1.5 * HOUR, 1.1, 180, 26 * HOUR), (window * share).astype(np.int64))


def _reasons(rng, o: Orders, rows: Rows, thr) -> np.ndarray:
    """Reasons follow the order: shortages in some categories and one warehouse, failed payments when unpaid."""
    i = rows["order"]
    paid = o.t_pay[i] <= rows["t_req"]
    w = np.column_stack([
        np.full(len(i), 0.45),
        0.06 * np.where(o.has_short[i], 3.5, 1.0) * np.where(o.wh[i] == GZ, 2.5, 1.0),
        0.14 * np.where(o.rep[i] == USER_INDEX[ERROR_PRONE_REP], 2.5, 1.0),
        np.where(paid, 0.004, 0.12),
        0.012 * np.where(o.total[i] >= thr, 3.0, 1.0),
        np.full(len(i), 0.07)])
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(i))[:, None] > cum).sum(axis=1).clip(0, len(VOID_REASONS) - 1)


def _classify(rows: Rows, now, rejected: bool) -> np.ndarray:
    decided = rows["t_dec"] <= now
    asked = rows["t_req"] <= now
    if rejected:
        return np.where(decided, REJECTED, np.where(asked, PENDING_APPROVAL, -1))
    return np.where(rows["t_app"] <= now, APPLIED,
                    np.where(asked & (rows["appr"] > 0), PENDING_APPROVAL, -1))


def _spike(rng, o: Orders, rows: Rows, taken, thr, spike_start) -> Rows:
    """Extra out-of-stock voids in one week: the Guangzhou warehouse ran short, phones first."""
    done = (rows["status"] == APPLIED) & (rows["reason"] == SPIKE_REASON)
    week = (rows["t_app"][done] - spike_start) // WEEK
    before = np.bincount(week[(week >= -8) & (week < 0)] + 8, minlength=8)
    target = int(np.ceil(5 * max(np.median(before), before.mean(), 2.0)))
    extra = max(0, target - int((week == 0).sum()))
    window = o.t_ship - o.t0
    cand = np.nonzero((o.t0 >= spike_start) & (o.t0 < spike_start + 5 * DAY) & ~taken
                      & (o.t_pay < NEVER) & (window > 2 * HOUR))[0]
    phones = np.maximum.reduceat(o.l_cat == PHONES, o.line_start[:-1])[cand] if len(cand) else np.zeros(0, bool)
    score = (2.0 * ((o.wh[cand] == GZ) & phones) + o.has_short[cand] + (o.wh[cand] == GZ)
             + rng.random(len(cand)))
    idx = np.sort(cand[np.argsort(-score)[:extra]])
    turn = _turnaround(rng, len(idx), window[idx], 0.3)
    delay = rng.integers(HOUR // 2, 10 * HOUR, len(idx))
    t_req = o.t0[idx] + np.minimum(delay, (window[idx] * 0.5).astype(np.int64))
    spike = _rows(o, idx, t_req, turn, pick_ops(rng, len(idx)), np.zeros(len(idx), bool), thr)
    spike["status"] = np.full(len(idx), APPLIED)
    spike["reason"] = np.full(len(idx), SPIKE_REASON)
    return spike


def concat(parts: list[Rows]) -> Rows:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def take(rows: Rows, mask) -> Rows:
    return {key: value[mask] for key, value in rows.items()}


def _requests(rng, o: Orders, idx, kind: str, now: int, thr: int) -> Rows:
    """One group of void requests, kept if they were made by `now`.

    regular: voids of every kind; a sixth are asked for by the order's rep. forced: orders whose payment never
    came, voided a few days in. rejected: requests a lead turned down, so the order went on.
    """
    m = len(idx)
    asks = {"regular": rng.random(m) < 0.15, "forced": np.zeros(m, bool), "rejected": o.total[idx] < thr}[kind]
    window = np.full(m, 4 * DAY) if kind == "forced" else o.t_ship[idx] - o.t0[idx]
    turn = _turnaround(rng, m, window, 0.4)
    if kind == "forced":
        t_req = o.t0[idx] + rng.integers(3 * DAY, 10 * DAY, m)
    else:   # early in the order's open window, leaving time for a decision before it ships
        frac = rng.beta(1.2, 3.0, m) * (0.95 if kind == "regular" else 0.5)
        t_req = o.t0[idx] + 600 + (frac * np.maximum(window - turn - 600, 0)).astype(np.int64)
    rows = _rows(o, idx, t_req, turn, np.where(asks, o.rep[idx], pick_ops(rng, m)), asks, thr)
    if kind == "rejected":
        rows["t_app"] = np.full(m, NEVER)
    rows["status"] = _classify(rows, now, kind == "rejected")
    rows["reason"] = np.full(m, PAYMENT_FAILED) if kind == "forced" else _reasons(rng, o, rows, thr)
    return take(rows, rows["status"] >= 0)


def plan_voids(rng, o: Orders, now: int, thr: int, spike_start: int) -> Rows:
    """Applied voids, decisions and open requests; sets `o.t_void` for the orders that end up voided."""
    n = len(o.t0)
    never_pays = o.t_pay >= NEVER
    cust = rng.lognormal(0, 0.5, int(o.cust.max(initial=0)) + 1)   # some customers cancel far more often
    p = 0.05 * cust[o.cust] / cust.mean() * np.where(o.rep == USER_INDEX[ERROR_PRONE_REP], 1.4, 1.0)
    regular = np.nonzero(~never_pays & (rng.random(n) < p * np.where(o.has_short, 1.25, 1.0)))[0]
    rejected = np.setdiff1d(np.nonzero(~never_pays & (rng.random(n) < 0.003))[0], regular)
    forced = np.nonzero(never_pays)[0]
    rows = concat([_requests(rng, o, regular, "regular", now, thr), _requests(rng, o, forced, "forced", now, thr),
                   _requests(rng, o, rejected, "rejected", now, thr)])
    taken = np.zeros(n, bool)
    taken[np.concatenate([regular, forced, rejected])] = True
    rows = concat([rows, _spike(rng, o, rows, taken, thr, spike_start)])
    applied = rows["status"] == APPLIED
    o.t_void[rows["order"][applied]] = rows["t_app"][applied]
    return rows


def add_open_requests(rng, o: Orders, status: np.ndarray, rows: Rows, now: int, thr: int) -> Rows:
    """A few requests still waiting for a lead on recent open orders, so the approval queue has work."""
    free = np.ones(len(o.t0), bool)
    free[rows["order"]] = False
    idx = np.nonzero(free & ((status == PENDING) | (status == PROCESSING)))[0]
    k = min(len(idx), max(3, round(0.03 * len(idx))))
    idx = np.sort(rng.choice(idx, k, replace=False)) if k else idx
    lo = np.maximum(o.t0[idx] + 60, now - 2 * DAY)
    t_req = lo + (rng.uniform(0.1, 0.95, k) * (now - lo)).astype(np.int64)
    asks = o.total[idx] < thr
    extra = _rows(o, idx, t_req, np.zeros(k, np.int64), np.where(asks, o.rep[idx], pick_ops(rng, k)), asks, thr)
    extra["t_app"] = np.full(k, NEVER)
    extra["status"] = np.full(k, PENDING_APPROVAL)
    extra["reason"] = _reasons(rng, o, extra, thr)
    return concat([rows, extra])


def finish_voids(rng, o: Orders, rows: Rows, now: int) -> Rows:
    """Sort by request time (ids ascend with it) and fill notes, the status left and the amount paid."""
    rows = take(rows, np.argsort(rows["t_req"], kind="stable"))
    pending = rows["status"] == PENDING_APPROVAL
    rows["t_dec"] = np.where(pending, NEVER, rows["t_dec"])
    rows["decided_by"] = np.where(pending, -1, rows["decided_by"])
    applied = rows["status"] == APPLIED
    rows["t_app"] = np.where(applied, rows["t_app"], NEVER)  # only an applied void has an applied time
    i = rows["order"]
    rows["before"] = np.where(applied, np.where(o.t_proc[i] < rows["t_app"], PROCESSING, PENDING), -1)
    as_of = np.minimum(np.minimum(rows["t_app"], rows["t_dec"]), now)
    rows["paid"] = np.where(o.t_pay[i] <= as_of, o.total[i], 0)
    rows["note"] = reason_notes(rng, rows["reason"], VOID_REASONS, VOID_NOTES, 0.25)
    reject = np.asarray([NOTE_INDEX[t] for t in REJECT_NOTES])[rng.integers(0, len(REJECT_NOTES), len(i))]
    rows["decision_note"] = np.where(rows["status"] == REJECTED, reject, -1)
    return rows


def reason_notes(rng, reason, codes, notes: dict, share: float) -> np.ndarray:
    """A note for every "other" (required) and for `share` of the rest, from that reason's usual texts."""
    out = np.full(len(reason), -1)
    wants = (rng.random(len(reason)) < share) | (reason == codes.index("other"))
    for r, code in enumerate(codes):
        choices = np.asarray([NOTE_INDEX[t] for t in notes.get(code, ())])
        sel = wants & (reason == r)
        if len(choices) and sel.any():
            out[sel] = choices[rng.integers(0, len(choices), int(sel.sum()))]
    return out
