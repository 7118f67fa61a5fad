"""Voiding orders (SPEC §4): void one or many, decide void requests, restore. Everything in one transaction.

Reads of the rules live in lib.services.void_rules, the set-based writes in lib.services.void_apply, deciding
requests in lib.services.void_decide and the restore in lib.services.void_restore; this module is the list of
verbs the pages and the CLI call.
"""
import uuid
from collections.abc import Callable

from lib import clock
from lib.db import Database
from lib.domain import User
from lib.errors import ConcurrentChange
from lib.services.orders import load_for_update
from lib.queries.settings import read_rules
from lib.services.void_apply import Plan, once, refused_result, write
from lib.services.void_decide import approve, decide_many, reject
from lib.services.void_restore import restore
from lib.services.void_rules import (Reason, actor_refusal, approval_reason, clean_numbers, clean_void_note,
                                     has_pending_request, load_orders, not_found, pending_requests, require_reason,
                                     state_refusal, visible)

__all__ = ["approve", "decide_many", "reject", "restore", "void_batch", "void_order"]

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
        return write(cur, user, [plan], now=clock.now(), changed_key="orders.changed_meanwhile")[0]

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
        batch_id, now = uuid.uuid4().hex, clock.now()
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
            refused[number] = refused_result(number, not_found(number))
            continue
        if number in expected and expected[number] is not None and order["version"] != int(expected[number]):
            raise ConcurrentChange("voids.batch_changed", order_no=number)
        why = state_refusal(order, order["id"] in pending)
        if why is not None:
            refused[number] = refused_result(number, why)
            continue
        plans.append(Plan(order, reason, note, approval_reason(user, order["total"], rules)))
    return plans, refused


def _raise(exc) -> None:
    if exc is not None:
        raise exc
