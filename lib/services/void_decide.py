"""Deciding void requests (SPEC §4): approve (the void takes effect then) or reject, one request or many.

Someone other than the requester decides, against the order as it is at that moment. Deciding many is one
transaction: every request is checked first, the ones that cannot be decided are reported (not yours to decide,
already decided, order no longer voidable), the rest are approved with the set-based writes a batch void uses,
or rejected. An error while writing (e.g. stock that would go negative) applies none of them.
"""

from lib import clock
from lib.db import insert_rows, rows_as_dicts
from lib.domain import User, require
from lib.errors import ConcurrentChange, InvalidInput, RuleViolation, VoidDeskError
from lib.services.audit import AUDIT_COLUMNS, to_json
from lib.services.notify import active_users, notify_many
from lib.services.orders import load_for_update
from lib.services.void_apply import Plan, once, outcome, refused_result, write
from lib.services.void_rules import (Reason, clean_note, clean_numbers, load_orders, not_found, pending_requests,
                                     state_refusal, visible)

DECISIONS = ("approve", "reject")
_COUNTS = (("approved", "voided"), ("rejected", "rejected"), ("refused", "refused"))   # (count, outcome)


def approve(db, user: User, order_no: str, note: str | None = None, *, submission_key: str | None = None) -> dict:
    """Approve the order's pending void request (not one's own): the void takes effect now.

    Returns the void_order shape plus decision 'approved'.
    """
    require(user, "void.approve")
    order_no = (order_no or "").strip()
    decision_note = clean_note(note)

    def work(cur):
        order, request = _decidable(cur, user, order_no, "approve")
        return _approve(cur, user, [(order, request)], decision_note, "orders.changed_meanwhile")[0]

    return once(db, submission_key, "void.approve", user, work)


def reject(db, user: User, order_no: str, note: str, *, submission_key: str | None = None) -> dict:
    """Reject the order's pending void request with a note; the order goes on unchanged.

    Returns {order_no, outcome: 'rejected', decision: 'rejected', message, void_id, …}.
    """
    require(user, "void.approve")
    order_no = (order_no or "").strip()
    decision_note = clean_note(note, required_key="voids.reject_note_required")

    def work(cur):
        return _reject(cur, user, [_decidable(cur, user, order_no, "reject")], decision_note,
                       "orders.changed_meanwhile")[0]

    return once(db, submission_key, "void.reject", user, work)


def decide_many(db, user: User, order_nos: list[str], decision: str, note: str | None = None, *,
                submission_key: str | None = None) -> dict:
    """Approve or reject the pending void requests of many orders in ONE transaction (a reject needs a note).

    Returns {results: [per order: approve's or reject's result, or outcome 'refused' with the reason],
    approved, rejected, refused}.
    """
    require(user, "void.approve")
    if decision not in DECISIONS:
        raise InvalidInput("voids.bad_decision", value=str(decision)[:40], allowed=", ".join(DECISIONS))
    numbers = clean_numbers(order_nos)
    decision_note = clean_note(note, required_key="voids.reject_note_required" if decision == "reject" else None)

    def work(cur):
        orders = load_orders(cur, numbers)
        requests = pending_requests(cur, [o["id"] for o in orders.values()])
        results, ready = {}, []
        for number in numbers:
            order = orders.get(number)
            request = requests.get(order["id"]) if order else None
            why = _refusal(user, number, order, request, decision)
            if why is None:
                ready.append((order, request))
            else:
                results[number] = refused_result(number, why)
        if decision == "approve":
            done = _approve(cur, user, ready, decision_note, "voids.batch_changed")
        else:
            done = _reject(cur, user, ready, decision_note, "voids.batch_changed")
        results.update({r["order_no"]: r for r in done})
        ordered = [results[n] for n in numbers]
        return {"results": ordered, **{name: sum(r["outcome"] == kind for r in ordered)
                                       for name, kind in _COUNTS}}

    return once(db, submission_key, f"void.{decision}_many", user, work)


def _decidable(cur, user: User, order_no: str, decision: str) -> tuple[dict, dict]:
    """The order and its pending request, or the refusal raised."""
    order = load_for_update(cur, user, order_no)
    rows = rows_as_dicts(cur, "SELECT * FROM voids WHERE order_id = ? AND status = 'pending_approval'"
                              " ORDER BY requested_at DESC, id DESC LIMIT 1", [order["id"]])
    request = rows[0] if rows else None
    why = _refusal(user, order_no, order, request, decision)
    if why is not None:
        raise why
    return order, request


def _refusal(user: User, order_no: str, order: dict | None, request: dict | None,
             decision: str) -> VoidDeskError | None:
    """Why this user cannot decide this order's request now, or None."""
    if not visible(user, order):
        return not_found(order_no)
    if order["status"] == "archived":
        return RuleViolation("orders.archived_read_only", order_no=order_no)
    if request is None:
        return RuleViolation("voids.no_pending_request", order_no=order_no, status=f"status.{order['status']}")
    if request["requested_by"] == user.id:
        return RuleViolation("voids.own_request", order_no=order_no)
    if decision == "approve" and state_refusal(order, False) is not None:
        # The request stays open: the approver sees why and can reject it instead.
        return RuleViolation("voids.approve_not_voidable", order_no=order_no, status=f"status.{order['status']}")
    return None


def _approve(cur, user: User, ready: list[tuple[dict, dict]], note: str | None, changed_key: str) -> list[dict]:
    plans = [Plan(order, Reason(r["reason_code"], r["reason_label_en"], r["reason_label_zh"], False), r["note"],
                  r["approval_reason"], r, note) for order, r in ready]
    return [{**result, "decision": "approved"}
            for result in write(cur, user, plans, now=clock.now(), changed_key=changed_key)]


def _reject(cur, user: User, ready: list[tuple[dict, dict]], note: str, changed_key: str) -> list[dict]:
    """Reject the requests: one statement per table whatever their number; the orders move on (version) only."""
    if not ready:
        return []
    now = clock.now()
    ids = [request["id"] for _, request in ready]
    rejected = cur.execute("UPDATE voids SET status = 'rejected', decided_by = ?, decided_at = ?, decision_note = ?"
                           " WHERE list_contains(?, id) AND status = 'pending_approval'",
                           [user.id, now, note, ids]).fetchall()[0][0]
    # In place and counted, as every order write (lib.services.orders.bump): stale screens notice the new version.
    bumped = cur.execute("UPDATE orders SET version = orders.version + 1, updated_at = ?"
                         " FROM (SELECT unnest(?) AS id, unnest(?) AS version) AS x"
                         " WHERE orders.id = x.id AND orders.version = x.version",
                         [now, [o["id"] for o, _ in ready], [o["version"] for o, _ in ready]]).fetchall()[0][0]
    if rejected != len(ready) or bumped != len(ready):
        raise ConcurrentChange(changed_key, order_no=ready[0][0]["order_no"])
    insert_rows(cur, "audit_log", AUDIT_COLUMNS,
                [(now, user.id, user.username, "void.reject", "void", str(r["id"]), o["order_no"],
                  to_json({"status": "pending_approval"}), to_json({"status": "rejected", "reason": r["reason_code"]}),
                  note) for o, r in ready])
    told = [(u, "void.rejected", {"order_no": o["order_no"], "reason": r["reason_code"]}, o)
            for o, r in ready for u in (r["requested_by"], o["rep_id"])]
    notify_many(cur, active_users(cur), told, exclude=user.id, now=now)
    return [{**outcome(o["order_no"], "rejected", "voids.result.rejected", {"order_no": o["order_no"]},
                       void_id=r["id"]), "decision": "rejected"} for o, r in ready]
