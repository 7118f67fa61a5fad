"""Writing voids and void requests for many orders at once: one set-based statement per table.

void_order (one order), void_batch (thousands) and approve share this, so a single void and a 1,000-order
batch run the same few statements (SPEC §12: a batch in a couple of seconds, not 1,000 round trips).
"""
import json
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from lib.domain import User
from lib.errors import ConcurrentChange, RuleViolation
from lib.i18n import fmt_money, t
from lib.services.audit import to_json
from lib.services.idempotency import run_once
from lib.services.void_rules import Reason, describe, owed

ZERO = Decimal("0.00")

_locks: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def once(db, key: str | None, kind: str, actor: User, work):
    """run_once, with this process's void writes taken one at a time (only one process may write the file).

    A racing double submit then finds the first result instead of a conflict, and the loser of a race reads
    the winner's state. It is also a second line of defence: DuckDB 2.0 misses the conflict between an
    in-place UPDATE (no RETURNING) and a delete+insert one (UPDATE … RETURNING on a table with an index), so
    every UPDATE here has RETURNING.
    """
    with _locks_guard:
        lock = _locks.setdefault(db, threading.RLock())
    with lock:
        return run_once(db, key, kind, actor, work)


@dataclass
class Plan:
    """One order to void now, or to record a void request for."""
    order: dict
    reason: Reason
    note: str | None
    approval_reason: str | None = None   # set (and no request): a request waits for approval
    request: dict | None = None          # the pending request being approved: applied now
    decision_note: str | None = None

    @property
    def applies(self) -> bool:
        return self.request is not None or self.approval_reason is None


def write(cur, actor: User, plans: list[Plan], *, now: datetime, changed_key: str,
          batch_id: str | None = None) -> list[dict]:
    """Apply the plans in the caller's transaction; one result dict per plan, in order."""
    if not plans:
        return []
    _claim_orders(cur, plans, now, changed_key)
    void_ids = _record_voids(cur, actor, plans, now, batch_id)
    applied = [p for p in plans if p.applies]
    released = _release_stock(cur, actor, applied, void_ids, now)
    refunds = _create_refunds(cur, actor, applied, void_ids, now)
    _record_history(cur, actor, applied, now)
    _record_audit(cur, actor, plans, void_ids, released, refunds, now)
    _notify(cur, actor, plans, refunds, now)
    return [_result(p, void_ids, released, refunds) for p in plans]


_SETS = """status = CASE WHEN {applies} THEN 'voided' ELSE orders.status END,
        voided_at = CASE WHEN {applies} THEN $now ELSE orders.voided_at END, version = orders.version + 1,
        updated_at = $now"""
_OPEN = "orders.status IN ('pending', 'processing')"
# One order: a plain guarded UPDATE by id (the fastest form); many: joined to the lists of ids and versions.
_CLAIM_ONE = f"""UPDATE orders SET {_SETS.format(applies='$applies[1]')}
    WHERE orders.id = $ids[1] AND orders.version = $versions[1] AND {_OPEN} RETURNING orders.id"""
_CLAIM_MANY = f"""UPDATE orders SET {_SETS.format(applies='x.applies')}
    FROM (SELECT unnest($ids) AS id, unnest($versions) AS version, unnest($applies) AS applies) AS x
    WHERE orders.id = x.id AND orders.version = x.version AND {_OPEN} RETURNING orders.id"""


def _claim_orders(cur, plans: list[Plan], now: datetime, changed_key: str) -> None:
    """Void the orders (or only bump the version of those getting a request), guarded by version and status."""
    params = {"now": now, "ids": [p.order["id"] for p in plans], "versions": [p.order["version"] for p in plans],
              "applies": [p.applies for p in plans]}
    try:
        claimed = {r[0] for r in cur.execute(_CLAIM_ONE if len(plans) == 1 else _CLAIM_MANY, params).fetchall()}
    except duckdb.TransactionException:
        if len(plans) == 1:
            raise ConcurrentChange(changed_key, order_no=plans[0].order["order_no"]) from None
        raise ConcurrentChange("voids.batch_conflict") from None
    missing = [p.order["order_no"] for p in plans if p.order["id"] not in claimed]
    if missing:
        raise ConcurrentChange(changed_key, order_no=missing[0])


_INSERT_VOIDS = """
    INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh, note,
        requested_by, requested_at, needs_approval, approval_reason, applied_at, status_before, amount_paid,
        batch_id)
    SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?::VARCHAR[]), ?, ?,
        unnest(?), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]), unnest(?::VARCHAR[]),
        unnest(?::DECIMAL(14, 2)[]), ?
    RETURNING id, order_id"""


def _record_voids(cur, actor: User, plans: list[Plan], now: datetime, batch_id) -> dict[int, int]:
    """order id -> void id: new rows for direct voids and requests, approved requests become 'applied'."""
    void_ids = {p.order["id"]: _approve_request(cur, actor, p, now) for p in plans if p.request}
    new = [p for p in plans if not p.request]
    if new:
        cols = list(zip(*[(p.order["id"], p.order["order_no"], "applied" if p.applies else "pending_approval",
                           p.reason.code, p.reason.label_en, p.reason.label_zh, p.note, not p.applies,
                           p.approval_reason, now if p.applies else None,
                           p.order["status"] if p.applies else None, str(p.order["amount_paid"])) for p in new]))
        rows = cur.execute(_INSERT_VOIDS, [*map(list, cols[:7]), actor.id, now, *map(list, cols[7:]),
                                           batch_id]).fetchall()
        void_ids.update({order_id: void_id for void_id, order_id in rows})
    return void_ids


def _approve_request(cur, actor: User, p: Plan, now: datetime) -> int:
    rows = cur.execute("UPDATE voids SET status = 'applied', decided_by = ?, decided_at = ?, decision_note = ?,"
                       " applied_at = ?, status_before = ?, amount_paid = ?"
                       " WHERE id = ? AND status = 'pending_approval' RETURNING id",
                       [actor.id, now, p.decision_note, now, p.order["status"], p.order["amount_paid"],
                        p.request["id"]]).fetchall()
    if not rows:
        raise ConcurrentChange("orders.changed_meanwhile", order_no=p.order["order_no"])
    return rows[0][0]


_RELEASE_BALANCES = """
    UPDATE stock_balances SET reserved = stock_balances.reserved - x.qty, updated_at = ?
    FROM (SELECT unnest(?) AS warehouse, unnest(?) AS sku, unnest(?) AS qty) AS x
    WHERE stock_balances.warehouse = x.warehouse AND stock_balances.sku = x.sku
      AND stock_balances.reserved >= x.qty
    RETURNING stock_balances.warehouse, stock_balances.sku"""

_RELEASE_LEDGER = """
    INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand, d_reserved, d_quarantine, ref_type,
        ref_id, order_no, actor_id)
    SELECT ?, unnest(?), unnest(?), 'release', 0, unnest(?), 0, 'void', unnest(?), unnest(?), ?"""


def _release_stock(cur, actor: User, plans: list[Plan], void_ids: dict, now: datetime) -> dict[int, list]:
    """Release what the orders still hold reserved: one ledger row per order and SKU, balances per pair."""
    if not plans:
        return {}
    by_id = {p.order["id"]: p.order for p in plans}
    lines = cur.execute("SELECT order_id, sku, sum(qty - qty_shipped)::BIGINT FROM order_lines"
                        " WHERE list_contains(?, order_id) GROUP BY ALL"
                        " HAVING sum(qty - qty_shipped) > 0 ORDER BY ALL", [list(by_id)]).fetchall()
    released: dict[int, list] = {}
    totals: dict[tuple[str, str], int] = {}
    for order_id, sku, qty in lines:
        warehouse = by_id[order_id]["warehouse"]
        released.setdefault(order_id, []).append({"warehouse": warehouse, "sku": sku, "qty": int(qty)})
        totals[(warehouse, sku)] = totals.get((warehouse, sku), 0) + int(qty)
    if not totals:
        return released
    pairs = list(totals)
    done = set(cur.execute(_RELEASE_BALANCES, [now, [w for w, _ in pairs], [s for _, s in pairs],
                                               [totals[p] for p in pairs]]).fetchall())
    for warehouse, sku in pairs:
        if (warehouse, sku) not in done:
            raise RuleViolation("stock.would_go_negative", warehouse=warehouse, sku=sku)
    rows = [(r["warehouse"], r["sku"], -r["qty"], void_ids[oid], by_id[oid]["order_no"])
            for oid, rel in released.items() for r in rel]
    cur.execute(_RELEASE_LEDGER, [now, *map(list, zip(*rows)), actor.id])
    return released


def _create_refunds(cur, actor: User, plans: list[Plan], void_ids: dict, now: datetime) -> dict[int, tuple]:
    """order id -> (refund id, amount) for the orders with money to give back."""
    due = [(p.order, owed(p.order)) for p in plans if owed(p.order) > 0]
    if not due:
        return {}
    rows = cur.execute(
        "INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at, created_by)"
        " SELECT unnest(?), unnest(?), 'void', unnest(?), unnest(?::DECIMAL(14, 2)[]), 'pending', ?, ?"
        " RETURNING id, order_id",
        [[o["id"] for o, _ in due], [o["order_no"] for o, _ in due], [void_ids[o["id"]] for o, _ in due],
         [str(a) for _, a in due], now, actor.id]).fetchall()
    amounts = {o["id"]: a for o, a in due}
    return {order_id: (refund_id, amounts[order_id]) for refund_id, order_id in rows}


def _record_history(cur, actor: User, plans: list[Plan], now: datetime) -> None:
    if plans:
        cur.execute("INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at, note)"
                    " SELECT unnest(?), unnest(?), 'voided', ?, ?, unnest(?::VARCHAR[])",
                    [[p.order["id"] for p in plans], [p.order["status"] for p in plans], actor.id, now,
                     [p.note for p in plans]])


def _record_audit(cur, actor: User, plans: list[Plan], void_ids, released, refunds, now: datetime) -> None:
    entries = []   # (action, entity_type, entity_id, order_no, before, after, note)
    for p in plans:
        o, vid = p.order, void_ids[p.order["id"]]
        reason = {"reason": p.reason.code, "reason_label_en": p.reason.label_en,
                  "reason_label_zh": p.reason.label_zh}
        if not p.applies:
            entries.append(("void.request", "void", vid, o["order_no"], None,
                            {"status": "pending_approval", "approval_reason": p.approval_reason, **reason}, p.note))
            continue
        if p.request:
            entries.append(("void.approve", "void", vid, o["order_no"], {"status": "pending_approval"},
                            {"status": "applied"}, p.decision_note))
        refund = refunds.get(o["id"], (None, ZERO))
        entries.append(("void.apply", "void", vid, o["order_no"], {"status": o["status"], "version": o["version"]},
                        {"status": "voided", **reason, "refund": refund[1],
                         "released": released.get(o["id"], [])}, p.note))
        if refund[0] is not None:
            entries.append(("refund.create", "refund", refund[0], o["order_no"], None,
                            {"amount": refund[1], "source": "void", "status": "pending"}, None))
    cols = list(zip(*[(a, e, str(i), n, to_json(b), to_json(af), note) for a, e, i, n, b, af, note in entries]))
    cur.execute("INSERT INTO audit_log (created_at, actor_id, actor_name, action, entity_type, entity_id, order_no,"
                " before, after, note) SELECT ?, ?, ?, unnest(?), unnest(?), unnest(?), unnest(?),"
                " unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                [now, actor.id, actor.username, *map(list, cols)])


def _notify(cur, actor: User, plans: list[Plan], refunds: dict, now: datetime) -> None:
    people = active_users(cur)
    role = lambda *roles: [u for u, p in people.items() if p["role"] in roles]  # noqa: E731
    approvers = [u for u in role("ops_lead") if u != actor.id] or role("admin")
    items = []
    for p in plans:
        o = p.order
        base = {"order_no": o["order_no"], "reason": p.reason.code}
        if not p.applies:
            items += [(u, "void.requested", {**base, "by": actor.display_name}, o) for u in approvers + [o["rep_id"]]]
            continue
        told = [p.request["requested_by"], o["rep_id"]] if p.request else [o["rep_id"]]
        items += [(u, "void.approved" if p.request else "void.applied", base, o) for u in told]
        if o["status"] == "processing":
            items += [(u, "void.applied", base, o) for u in role("warehouse")]
        if o["id"] in refunds:
            amount = {"order_no": o["order_no"], "amount": str(refunds[o["id"]][1]), "source": "void"}
            items += [(u, "refund.created", amount, o) for u in role("finance")]
    notify_many(cur, people, items, exclude=actor.id, now=now)


def active_users(cur) -> dict[int, dict]:
    """id -> {role, email, language, username, display_name} of every active user (a small table)."""
    return {r[0]: {"role": r[1], "email": r[2], "language": r[3] or "en", "username": r[4], "display_name": r[5]}
            for r in cur.execute("SELECT id, role, email, language, username, display_name FROM users"
                                 " WHERE active").fetchall()}


def notify_many(cur, people: dict, items: list[tuple], *, exclude: int | None, now: datetime) -> None:
    """Inbox rows (and queued mails, as lib.services.notify does) for (user id, kind, params, order) items;
    the actor, inactive users and repeats of the same message to the same person are left out."""
    seen, rows = set(), []
    for user_id, kind, params, order in items:
        key = (user_id, kind, order["order_no"])
        if user_id in people and user_id != exclude and key not in seen:
            seen.add(key)
            rows.append((user_id, kind, json.dumps(params, ensure_ascii=False, default=str), order["order_no"]))
    if not rows:
        return
    made = cur.execute("INSERT INTO notifications (user_id, created_at, kind, params, order_no)"
                       " SELECT unnest(?), ?, unnest(?), unnest(?), unnest(?) RETURNING id, user_id, kind, params",
                       [[r[0] for r in rows], now, [r[1] for r in rows], [r[2] for r in rows],
                        [r[3] for r in rows]]).fetchall()
    mails = []
    for nid, user_id, kind, params in made:
        person = people[user_id]
        if person["email"]:
            subject = t(f"notification.{kind}", person["language"], **json.loads(params))
            mails.append((nid, person["email"], f"[VoidDesk] {subject}", subject))
    if mails:
        cur.execute("INSERT INTO mail_outbox (notification_id, to_address, subject, body, created_at)"
                    " SELECT unnest(?), unnest(?), unnest(?), unnest(?), ?", [*map(list, zip(*mails)), now])


def _result(p: Plan, void_ids: dict, released: dict, refunds: dict) -> dict:
    o = p.order
    if not p.applies:
        key, params = "voids.result.pending", {"order_no": o["order_no"],
                                               "why": f"approval_reason.{p.approval_reason}"}
        return outcome(o["order_no"], "pending_approval", key, params, void_id=void_ids[o["id"]])
    gone = released.get(o["id"], [])
    amount = refunds.get(o["id"], (None, ZERO))[1]
    params = {"order_no": o["order_no"], "units": sum(r["qty"] for r in gone), "refund": fmt_money(amount)}
    return outcome(o["order_no"], "voided", "voids.result.voided", params, refund=amount, released=gone,
                   void_id=void_ids[o["id"]])


def outcome(order_no: str, what: str, key: str, params: dict, *, refund=ZERO, released=None,
            void_id=None) -> dict:
    """The per-order result shape shared by void_order, void_batch and approve."""
    return {"order_no": order_no, "outcome": what, "message": describe(key, params, "en"),
            "refund": str(Decimal(str(refund)).quantize(ZERO)), "released": released or [], "void_id": void_id,
            "message_key": key, "message_params": params}
