"""Voiding orders (SPEC §4): void one or many, decide void requests, restore. Everything in one transaction.

Reads of the rules live in lib.services.void_rules, the set-based writes in lib.services.void_apply and the
restore in lib.services.void_restore; this module is the list of verbs the pages and the CLI call.
"""
import uuid
from collections.abc import Callable
from datetime import datetime

from lib.db import Database, rows_as_dicts
from lib.domain import User, require
from lib.errors import ConcurrentChange, RuleViolation
from lib.services import audit
from lib.services.notify import active_users, notify_many
from lib.services.orders import bump, load_for_update, refuse_if_archived
from lib.services.settings import read_rules
from lib.services.void_apply import Plan, once, outcome, write
from lib.services.void_restore import restore
from lib.services.void_rules import (Reason, actor_refusal, approval_reason, as_refusal, clean_note, clean_numbers,
                                     clean_void_note, has_pending_request, load_orders, not_found, pending_requests,
                                     require_reason, state_refusal, visible)

__all__ = ["approve", "reject", "restore", "void_batch", "void_order"]

CHUNK = 250   # orders written per round of statements; progress is reported after each


def void_order(db: Database, user: User, order_no: str, reason_code: str, note: str | None = None, *,
               expected_version: int | None = None, submission_key: str | None = None) -> dict:
    """Void one pending/processing order now, or record a request when it needs approval.

    Returns {order_no, outcome: 'voided'|'pending_approval', message, refund, released, void_id, message_key,
    message_params}; a refusal raises (RuleViolation, PermissionDenied, InvalidInput, NotFound, ConcurrentChange).
    """
    order_no = (order_no or "").strip()

    def work(cur):
        rules = read_rules(cur)
        _raise(actor_refusal(user, rules))
        reason = require_reason(cur, reason_code)
        cleaned = clean_void_note(note, reason)
        order = load_for_update(cur, user, order_no, expected_version)
        _raise(state_refusal(order, has_pending_request(cur, order["id"])))
        plan = Plan(order, reason, cleaned, approval_reason(user, order["total"], rules))
        return write(cur, user, [plan], now=datetime.now(), changed_key="orders.changed_meanwhile")[0]

    return once(db, submission_key, "void.order", user, work)


def void_batch(db: Database, user: User, order_nos: list[str], reason_code: str, note: str | None = None, *,
               expected_versions: dict[str, int] | None = None, submission_key: str | None = None,
               progress: Callable[[float], None] | None = None) -> dict:
    """Void many orders with one reason in ONE transaction; orders that can't be voided are reported 'refused'.

    With expected_versions (order_no -> version shown in the preview), an order that changed since the preview
    makes the whole batch refuse (ConcurrentChange 'voids.batch_changed' naming it) and nothing is applied.
    Returns {results: [per-order dict as void_order's, or 'refused' with the reason], voided, pending_approval,
    refused, batch_id}.
    """
    numbers = clean_numbers(order_nos)
    tell = progress or (lambda _fraction: None)

    def work(cur):
        rules = read_rules(cur)
        _raise(actor_refusal(user, rules))
        reason = require_reason(cur, reason_code)
        cleaned = clean_void_note(note, reason)
        plans, results = _plan_batch(cur, user, numbers, reason, cleaned, rules, expected_versions or {})
        tell(0.05)
        batch_id, now = uuid.uuid4().hex, datetime.now()
        for start in range(0, len(plans), CHUNK):
            for result in write(cur, user, plans[start:start + CHUNK], now=now, changed_key="voids.batch_changed",
                                batch_id=batch_id):
                results[result["order_no"]] = result
            tell(0.05 + 0.9 * min(1.0, (start + CHUNK) / len(plans)))
        ordered = [results[n] for n in numbers]
        counts = {k: sum(r["outcome"] == k for r in ordered) for k in ("voided", "pending_approval", "refused")}
        return {"results": ordered, **counts, "batch_id": batch_id if plans else None}

    result = once(db, submission_key, "void.batch", user, work)
    tell(1.0)
    return result


def _plan_batch(cur, user: User, numbers: list[str], reason: Reason, note, rules, expected: dict):
    """(plans for the orders to write, {order_no: refused result}) — or ConcurrentChange for a changed order."""
    orders = load_orders(cur, numbers)
    pending = pending_requests(cur, [o["id"] for o in orders.values()])
    plans, refused = [], {}
    for number in numbers:
        order = orders.get(number)
        if not visible(user, order):
            refused[number] = _refused(number, not_found(number))
            continue
        if number in expected and expected[number] is not None and order["version"] != int(expected[number]):
            raise ConcurrentChange("voids.batch_changed", order_no=number)
        why = state_refusal(order, order["id"] in pending)
        if why is not None:
            refused[number] = _refused(number, why)
            continue
        plans.append(Plan(order, reason, note, approval_reason(user, order["total"], rules)))
    return plans, refused


def _refused(order_no: str, exc) -> dict:
    key, params = as_refusal(exc)
    return outcome(order_no, "refused", key, params)


def approve(db: Database, user: User, order_no: str, note: str | None = None, *,
            submission_key: str | None = None) -> dict:
    """Approve the order's pending void request (not one's own): the void takes effect now.

    Returns the void_order shape plus decision 'approved'.
    """
    require(user, "void.approve")
    order_no = (order_no or "").strip()
    decision_note = clean_note(note)

    def work(cur):
        order, request = _decidable(cur, user, order_no)
        if state_refusal(order, False) is not None:
            # The request stays open: the approver sees why and can reject it instead.
            raise RuleViolation("voids.approve_not_voidable", order_no=order_no, status=f"status.{order['status']}")
        reason = Reason(request["reason_code"], request["reason_label_en"], request["reason_label_zh"], False)
        plan = Plan(order, reason, request["note"], request["approval_reason"], request, decision_note)
        result = write(cur, user, [plan], now=datetime.now(), changed_key="orders.changed_meanwhile")[0]
        return {**result, "decision": "approved"}

    return once(db, submission_key, "void.approve", user, work)


def reject(db: Database, user: User, order_no: str, note: str, *, submission_key: str | None = None) -> dict:
    """Reject the order's pending void request with a note; the order goes on unchanged.

    Returns {order_no, outcome: 'rejected', decision: 'rejected', message, void_id, …}.
    """
    require(user, "void.approve")
    order_no = (order_no or "").strip()
    decision_note = clean_note(note, required_key="voids.reject_note_required")

    def work(cur):
        order, request = _decidable(cur, user, order_no)
        now = datetime.now()
        if not cur.execute("UPDATE voids SET status = 'rejected', decided_by = ?, decided_at = ?, decision_note = ?"
                           " WHERE id = ? AND status = 'pending_approval' RETURNING id",
                           [user.id, now, decision_note, request["id"]]).fetchall():
            raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)
        bump(cur, order, "status = ?", [order["status"]])   # the order's state moved on: stale screens notice
        audit.record(cur, user, "void.reject", "void", request["id"], order_no=order_no, note=decision_note,
                     before={"status": "pending_approval"},
                     after={"status": "rejected", "reason": request["reason_code"]}, at=now)
        notify_many(cur, active_users(cur), [(u, "void.rejected", {"order_no": order_no,
                                                                   "reason": request["reason_code"]}, order)
                                             for u in (request["requested_by"], order["rep_id"])],
                    exclude=user.id, now=now)
        return {**outcome(order_no, "rejected", "voids.result.rejected", {"order_no": order_no},
                          void_id=request["id"]), "decision": "rejected"}

    return once(db, submission_key, "void.reject", user, work)


def _decidable(cur, user: User, order_no: str) -> tuple[dict, dict]:
    """The order and its pending request, which someone other than the requester must decide."""
    order = load_for_update(cur, user, order_no)
    refuse_if_archived(order)
    rows = rows_as_dicts(cur, "SELECT * FROM voids WHERE order_id = ? AND status = 'pending_approval'"
                              " ORDER BY requested_at DESC, id DESC LIMIT 1", [order["id"]])
    if not rows:
        raise RuleViolation("voids.no_pending_request", order_no=order_no, status=f"status.{order['status']}")
    if rows[0]["requested_by"] == user.id:
        raise RuleViolation("voids.own_request", order_no=order_no)
    return order, rows[0]


def _raise(exc) -> None:
    if exc is not None:
        raise exc
