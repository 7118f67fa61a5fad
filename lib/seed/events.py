"""The story around each demo order for `lib.seed`: assignments, comments, status history, audit, inbox."""
import numpy as np

from lib.seed.data import COMMENTS, NOTE_INDEX, OPS_USER_IDS, RETURN_REASONS, USER_INDEX, VOID_REASONS
from lib.seed.orders import (ARCHIVED, COMPLETED, DAY, HOUR, NEVER, PENDING, PROCESSING, SHIPPED, STATUSES, VOIDED,
                             Orders, lognormal, pick_ops)
from lib.seed.returns import FINANCE, WAREHOUSE
from lib.seed.voids import APPLIED, PENDING_APPROVAL, REJECTED, VOID_STATUSES, Rows, concat, take

ACTIONS = ("order.create", "order.status", "order.payment", "order.assign", "order.comment", "void.request",
           "void.approve", "void.reject", "void.apply", "refund.create", "refund.paid", "return.create",
           "return.receive", "return.inspect", "return.close")
ENTITIES = ("order", "void", "refund", "return", "comment")
RETURN_STATUSES = ("requested", "received", "inspected", "closed")
WORDS = STATUSES + VOID_STATUSES + RETURN_STATUSES + ("paid",)   # status words in audit before/after
W = {word: i for i, word in enumerate(WORDS)}                     # order statuses keep their own codes
KINDS = ("void.applied", "void.requested", "void.approved", "void.rejected", "refund.created", "return.created",
         "order.assigned")
INBOX_DAYS = 90
LEAD, ADMIN = USER_INDEX["lead"], USER_INDEX["admin"]
_UNREAD_FOR = tuple(USER_INDEX[u] for u in ("lead", "ops", "ops2", "finance", "warehouse", "sales", "sales2"))
# column -> dtype; small codes stay small so millions of rows sort and gather quickly
_AUDIT_KEYS = {"ts": np.int64, "actor": np.int8, "action": np.int8, "etype": np.int8, "entity": np.int64,
               "order": np.int32, "w1": np.int8, "w2": np.int8, "reason": np.int8, "amount": np.int64,
               "ref": np.int32, "note": np.int16, "u1": np.int8, "u2": np.int8, "wh": np.int8}
# reason words: void reasons, then return reasons, then refund sources
RETURN_OFFSET = len(VOID_REASONS)
SOURCE_OFFSET = RETURN_OFFSET + len(RETURN_REASONS)
REASON_WORDS = VOID_REASONS + RETURN_REASONS + ("void", "return")


def _audit(ts, actor, action, etype, entity, order, **extra) -> Rows:
    m = len(ts)
    rows = {"ts": ts, "actor": actor, "action": ACTIONS.index(action), "etype": ENTITIES.index(etype),
            "entity": entity, "order": order, **extra}
    return {k: np.broadcast_to(np.asarray(rows.get(k, -1), dt), (m,)) for k, dt in _AUDIT_KEYS.items()}


def plan_assignments(rng, o: Orders, seen: dict, now: int) -> tuple[Rows, np.ndarray]:
    """Most orders get picked up by an ops user before processing; a few are handed on later."""
    n = len(o.t0)
    end = np.minimum(np.minimum(seen["proc"], seen["void"]), np.minimum(o.t0 + 2 * DAY, now))
    t1 = o.t0 + (rng.uniform(0.05, 0.9, n) * (end - o.t0)).astype(np.int64)
    first = (rng.random(n) < 0.55) & (t1 <= now) & (end > o.t0 + 60)
    ops = np.asarray(OPS_USER_IDS)
    pos1 = rng.integers(0, len(ops), n)
    to1 = ops[pos1]
    to2 = ops[(pos1 + rng.integers(1, len(ops), n)) % len(ops)]
    t2 = t1 + rng.integers(HOUR, 3 * DAY, n)
    again = first & (rng.random(n) < 0.06) & (t2 <= now) & (t2 < seen["void"]) & (t2 < seen["arch"])
    a, b = np.nonzero(first)[0], np.nonzero(again)[0]
    rows = {"order": np.concatenate([a, b]), "from": np.concatenate([np.full(len(a), -1), to1[b]]),
            "to": np.concatenate([to1[a], to2[b]]), "ts": np.concatenate([t1[a], t2[b]]),
            "by": np.concatenate([np.where(rng.random(len(a)) < 0.4, LEAD, to1[a]), np.full(len(b), LEAD)])}
    assignee = np.full(n, -1)
    assignee[a] = to1[a]
    assignee[b] = to2[b]
    return take(rows, np.argsort(rows["ts"], kind="stable")), assignee


def plan_comments(rng, o: Orders, seen: dict, assignee, now: int) -> Rows:
    """Comments on about one order in twenty, written while the order was being worked on."""
    n = len(o.t0)
    idx = np.nonzero(rng.random(n) < 0.05)[0]
    idx = np.repeat(idx, rng.integers(1, 4, len(idx)))
    last = o.t0[idx].copy()
    for key in ("proc", "ship", "comp", "void"):
        t = seen[key][idx]
        last = np.where(t < NEVER, np.maximum(last, t), last)
    end = np.minimum(last + 2 * DAY, now)
    ts = o.t0[idx] + 60 + (rng.uniform(0.02, 1.0, len(idx)) * np.maximum(end - o.t0[idx] - 60, 0)).astype(np.int64)
    handler = np.where(assignee[idx] >= 0, assignee[idx], pick_ops(rng, len(idx)))
    who = rng.random(len(idx))
    author = np.where(who < 0.45, o.rep[idx], np.where(who < 0.9, handler, WAREHOUSE))
    body = np.asarray([NOTE_INDEX[c] for c in COMMENTS])[rng.integers(0, len(COMMENTS), len(idx))]
    rows = {"order": idx, "author": author, "ts": ts, "body": body}
    return take(rows, np.argsort(ts, kind="stable"))


def build_history(rng, o: Orders, seen: dict, voids: Rows, assignee) -> tuple[Rows, list[Rows]]:
    """Every status transition of every order (grouped by order) and the audit entries that match them."""
    n = len(o.t0)
    handler = np.where(assignee >= 0, assignee, pick_ops(rng, n))
    applied = np.nonzero(voids["status"] == APPLIED)[0]
    void_of = np.full(n, -1)
    void_of[voids["order"][applied]] = applied
    finisher = np.where(rng.random(n) < 0.7, -1, handler)
    archiver = np.where(rng.random(n) < 0.5, LEAD, pick_ops(rng, n))
    steps = [("proc", PENDING, PROCESSING, handler), ("ship", PROCESSING, SHIPPED, np.full(n, WAREHOUSE)),
             ("comp", SHIPPED, COMPLETED, finisher), ("arch", COMPLETED, ARCHIVED, archiver)]
    all_ = np.arange(n)
    parts = [{"order": all_, "from": np.full(n, -1), "to": np.full(n, PENDING), "by": o.creator, "ts": o.t0,
              "note": np.full(n, -1)}]
    audit = [_audit(o.t0, o.creator, "order.create", "order", all_, all_, amount=o.total, w2=PENDING, wh=o.wh)]
    for key, before, after, by in steps:
        i = np.nonzero(seen[key] < NEVER)[0]
        parts.append({"order": i, "from": np.full(len(i), before), "to": np.full(len(i), after), "by": by[i],
                      "ts": seen[key][i], "note": np.full(len(i), -1)})
        audit.append(_audit(seen[key][i], by[i], "order.status", "order", i, i, w1=before, w2=after))
    v = void_of[void_of >= 0]
    actor = np.where(voids["appr"][v] > 0, voids["decided_by"][v], voids["by"][v])
    parts.append({"order": voids["order"][v], "from": voids["before"][v], "to": np.full(len(v), VOIDED),
                  "by": actor, "ts": voids["t_app"][v], "note": voids["note"][v]})
    rows = concat(parts)
    return take(rows, np.argsort(rows["order"], kind="stable")), audit


def void_audit(voids: Rows) -> list[Rows]:
    """Requests, decisions and applications of voids."""
    st, appr = voids["status"], voids["appr"]
    v = np.arange(len(st))
    asked, decided = appr > 0, (appr > 0) & (st != PENDING_APPROVAL)
    applied, rejected = st == APPLIED, st == REJECTED
    actor = np.where(appr > 0, voids["decided_by"], voids["by"])
    pick = lambda m, **kw: {k: (a[m] if isinstance(a, np.ndarray) else a) for k, a in kw.items()}  # noqa: E731
    base = dict(entity=v, order=voids["order"], reason=voids["reason"])
    return [
        _audit(**pick(asked, ts=voids["t_req"], actor=voids["by"], **base), action="void.request", etype="void",
               w2=W["pending_approval"]),
        _audit(**pick(decided & applied, ts=voids["t_dec"], actor=voids["decided_by"], **base), action="void.approve",
               etype="void", w1=W["pending_approval"], w2=W["applied"]),
        _audit(**pick(rejected, ts=voids["t_dec"], actor=voids["decided_by"], note=voids["decision_note"], **base),
               action="void.reject", etype="void", w1=W["pending_approval"], w2=W["rejected"]),
        _audit(**pick(applied, ts=voids["t_app"], actor=actor, note=voids["note"], w1=voids["before"], **base),
               action="void.apply", etype="void", w2=VOIDED)]


def money_audit(o: Orders, seen: dict, refunds: Rows, notes: Rows) -> list[Rows]:
    """Payments received after ordering, refunds created and paid out, return notes moving on."""
    paid = np.nonzero((seen["paid_at"] < NEVER) & (o.paymode != 0))[0]
    out = np.nonzero(refunds["t_paid"] < NEVER)[0]
    f = np.arange(len(refunds["t"]))
    r = np.arange(len(notes["t_ret"]))
    # a return note comes before the refund it creates (same moment; the sort by time is stable)
    parts = [_audit(seen["paid_at"][paid], np.full(len(paid), FINANCE), "order.payment", "order", paid, paid,
                    amount=o.total[paid]),
             _audit(notes["t_ret"], notes["by"], "return.create", "return", r, notes["order"], amount=notes["refund"],
                    ref=r, note=notes["note"], reason=notes["reason"] + RETURN_OFFSET),
             _audit(refunds["t"], refunds["by"], "refund.create", "refund", f, refunds["order"],
                    amount=refunds["amount"], reason=refunds["source"] + SOURCE_OFFSET),
             _audit(refunds["t_paid"][out], np.full(len(out), FINANCE), "refund.paid", "refund", out,
                    refunds["order"][out], w1=W["pending"], w2=W["paid"])]
    steps = (("t_recv", "return.receive", np.full(len(r), WAREHOUSE)), ("t_insp", "return.inspect", notes["inspector"]),
             ("t_close", "return.close", notes["inspector"]))
    for step, (key, action, actor) in enumerate(steps):
        i = np.nonzero(notes[key] < NEVER)[0]
        parts.append(_audit(notes[key][i], actor[i], action, "return", i, notes["order"][i],
                            w1=W[RETURN_STATUSES[step]], w2=W[RETURN_STATUSES[step + 1]]))
    return parts


def collab_audit(assigns: Rows, comments: Rows) -> list[Rows]:
    c = np.arange(len(comments["ts"]))
    return [_audit(assigns["ts"], assigns["by"], "order.assign", "order", assigns["order"], assigns["order"],
                   u1=assigns["from"], u2=assigns["to"]),
            _audit(comments["ts"], comments["author"], "order.comment", "comment", c, comments["order"],
                   note=comments["body"])]


def _inbox(kind, user, ts, order, actor, **extra) -> Rows:
    m = len(ts)
    rows = {"kind": KINDS.index(kind), "user": user, "ts": ts, "order": order, "actor": actor, **extra}
    keys = ("kind", "user", "ts", "order", "actor", "reason", "amount", "ref", "source")
    return {k: np.broadcast_to(np.asarray(rows.get(k, -1), np.int64), (m,)) for k in keys}


def build_inbox(rng, o: Orders, voids: Rows, refunds: Rows, notes: Rows, assigns: Rows, now: int) -> Rows:
    """Notifications of the last 90 days; older ones read, recent ones often still unread."""
    st, appr, vo = voids["status"], voids["appr"], voids["order"]
    applier = np.where(appr > 0, voids["decided_by"], voids["by"])
    ap = st == APPLIED
    to_wh = ap & (voids["before"] == PROCESSING)
    asked = appr > 0
    decider = np.where(voids["by"] == LEAD, ADMIN, LEAD)
    approved, rejected = ap & asked, st == REJECTED
    parts = [
        _inbox("void.applied", o.rep[vo[ap]], voids["t_app"][ap], vo[ap], applier[ap], reason=voids["reason"][ap]),
        _inbox("void.applied", np.full(to_wh.sum(), WAREHOUSE), voids["t_app"][to_wh], vo[to_wh], applier[to_wh],
               reason=voids["reason"][to_wh]),
        _inbox("void.requested", decider[asked], voids["t_req"][asked], vo[asked], voids["by"][asked],
               reason=voids["reason"][asked]),
        _inbox("void.approved", voids["by"][approved], voids["t_dec"][approved], vo[approved],
               voids["decided_by"][approved], reason=voids["reason"][approved]),
        _inbox("void.rejected", voids["by"][rejected], voids["t_dec"][rejected], vo[rejected],
               voids["decided_by"][rejected], reason=voids["reason"][rejected]),
        _inbox("refund.created", np.full(len(refunds["t"]), FINANCE), refunds["t"], refunds["order"], refunds["by"],
               amount=refunds["amount"], source=refunds["source"])]
    r = np.arange(len(notes["t_ret"]))
    for user in (o.rep[notes["order"]], np.full(len(r), WAREHOUSE)):
        parts.append(_inbox("return.created", user, notes["t_ret"], notes["order"], notes["by"],
                            reason=notes["reason"] + RETURN_OFFSET, ref=r))
    parts.append(_inbox("order.assigned", assigns["to"], assigns["ts"], assigns["order"], assigns["by"]))
    rows = concat(parts)
    rows = take(rows, (rows["ts"] >= now - INBOX_DAYS * DAY) & (rows["ts"] <= now) & (rows["user"] != rows["actor"]))
    rows = take(rows, np.argsort(rows["ts"], kind="stable"))
    m = len(rows["ts"])
    old = rows["ts"] < now - 2 * DAY
    waiting = (rows["kind"] == KINDS.index("void.requested")) & np.isin(rows["order"], vo[st == PENDING_APPROVAL])
    read = np.where(old, rng.random(m) < 0.97, rng.random(m) < 0.3) & ~(waiting & (rng.random(m) < 0.85))
    read_at = np.minimum(rows["ts"] + lognormal(rng, m, 2 * HOUR, 1.0, 60, 3 * DAY), now)
    rows["read_at"] = np.where(read, read_at, NEVER)
    for user in _UNREAD_FOR:   # every working role finds something new in the inbox on first login
        mine = np.nonzero(rows["user"] == user)[0]
        if len(mine) and (rows["read_at"][mine] < NEVER).all():
            rows["read_at"][mine[-1]] = NEVER
    return rows
