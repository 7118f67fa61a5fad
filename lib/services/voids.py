"""Voiding orders (SPEC §4): void one or many, decide void requests, restore — the verbs the pages and the CLI call.

Each reads rules → order → checks → write in one transaction, answered once per submission key (run_once). The
checks are lib.void_checks (pure, shared with the impact preview), the reads lib.queries.void_load, the writes
lib.services.void_writes (set-based) and lib.services.void_restore_writes.
"""
import uuid
from collections.abc import Callable

from lib import clock
from lib.db import Database
from lib.domain import User, require
from lib.errors import ConcurrentChange
from lib.queries.settings import read_rules
from lib.queries.void_load import applied_void, find_reason, load_orders, open_quantities, pending_requests, void_refunds
from lib.services.idempotency import run_once
from lib.services.orders import load_for_update, refuse_if_archived
from lib.services.stock import shortfalls
from lib.services.void_group import group_for
from lib.services.void_restore_writes import write_restore
from lib.services.void_writes import write_approvals, write_rejections, write_voids
from lib.void_checks import (Plan, actor_refusal, approval_reason, clean_decision, clean_note, clean_numbers,
                             clean_void_note, counted, decision_refusal, paid_refund_refusal, reason_refusal,
                             refused_result, restore_refusal, short_stock_refusal, sight_refusal, state_refusal)

__all__ = ["approve", "decide_many", "reject", "restore", "void_batch", "void_order"]

CHUNK = 250   # orders written per round of statements; progress is reported after each
_BATCH_COUNTS = (("voided", "voided"), ("pending_approval", "pending_approval"), ("refused", "refused"))
_DECIDED_COUNTS = (("approved", "voided"), ("rejected", "rejected"), ("refused", "refused"))   # (count, outcome)


def void_order(db: Database, user: User, order_no: str, reason_code: str, note: str | None = None, *,
               expected_version: int | None = None, submission_key: str | None = None) -> dict:
    """Void one pending/processing order now, or record a request when it needs approval.

    Returns {order_no, outcome: 'voided'|'pending_approval', message, refund, released, void_id, message_key,
    message_params}; a refusal raises (RuleViolation, PermissionDenied, InvalidInput, NotFound, ConcurrentChange).
    """
    order_no = (order_no or "").strip()

    def plan(cur) -> Plan:
        rules = read_rules(cur)
        _refuse(actor_refusal(user, rules))
        reason = _reason(cur, reason_code)
        cleaned = clean_void_note(note, reason)
        order, pending = _load_target(cur, user, order_no, expected_version)
        _refuse(state_refusal(order, pending))
        return Plan(order, reason, cleaned, approval_reason(user, order["total"], rules))

    if db.backend == "duckdb":   # written together with the voids other sessions make meanwhile
        return group_for(db).void(user, order_no, plan, submission_key)

    def work(cur):
        return write_voids(cur, user, [plan(cur)], now=clock.now(), changed_key="orders.changed_meanwhile")[0]

    return run_once(db, submission_key, "void.order", user, work)


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
        _refuse(actor_refusal(user, rules))
        reason = _reason(cur, reason_code)
        cleaned = clean_void_note(note, reason)
        orders = load_orders(cur, numbers)
        plans, results = _plan_batch(user, numbers, orders, reason, cleaned, rules, expected_versions or {})
        tell(0.05)
        batch_id, now = uuid.uuid4().hex, clock.now()
        for start in range(0, len(plans), CHUNK):
            for result in write_voids(cur, user, plans[start:start + CHUNK], now=now,
                                      changed_key="voids.batch_changed", batch_id=batch_id):
                results[result["order_no"]] = result
            tell(0.05 + 0.9 * min(1.0, (start + CHUNK) / len(plans)))
        return {**counted([results[n] for n in numbers], _BATCH_COUNTS), "batch_id": batch_id if plans else None}

    result = run_once(db, submission_key, "void.batch", user, work)
    tell(1.0)
    return result


def _plan_batch(user: User, numbers: list[str], orders: dict, reason, note, rules, expected: dict):
    """(plans for the orders to write, {order_no: refused result}) — or ConcurrentChange for a changed order."""
    plans, refused = [], {}
    for number in numbers:
        order = orders.get(number)
        why = sight_refusal(user, number, order)
        if why is None:
            if expected.get(number) is not None and order["version"] != int(expected[number]):
                raise ConcurrentChange("voids.batch_changed", order_no=number)
            why = state_refusal(order, order["void_requested"])
        if why is not None:
            refused[number] = refused_result(number, why)
            continue
        plans.append(Plan(order, reason, note, approval_reason(user, order["total"], rules)))
    return plans, refused


def approve(db: Database, user: User, order_no: str, note: str | None = None, *,
            submission_key: str | None = None) -> dict:
    """Approve the order's pending void request (not one's own): the void takes effect now.

    Returns the void_order shape plus decision 'approved'.
    """
    require(user, "void.approve")
    order_no, decision_note = (order_no or "").strip(), clean_note(note)

    def work(cur):
        ready = [_decidable(cur, user, order_no, "approve")]
        return write_approvals(cur, user, ready, decision_note, now=clock.now(),
                               changed_key="orders.changed_meanwhile")[0]

    return run_once(db, submission_key, "void.approve", user, work)


def reject(db: Database, user: User, order_no: str, note: str, *, submission_key: str | None = None) -> dict:
    """Reject the order's pending void request with a note; the order goes on unchanged.

    Returns {order_no, outcome: 'rejected', decision: 'rejected', message, void_id, …}.
    """
    require(user, "void.approve")
    order_no = (order_no or "").strip()
    decision_note = clean_note(note, required_key="voids.reject_note_required")

    def work(cur):
        ready = [_decidable(cur, user, order_no, "reject")]
        return write_rejections(cur, user, ready, decision_note, now=clock.now(),
                                changed_key="orders.changed_meanwhile")[0]

    return run_once(db, submission_key, "void.reject", user, work)


def decide_many(db: Database, user: User, order_nos: list[str], decision: str, note: str | None = None, *,
                submission_key: str | None = None) -> dict:
    """Approve or reject the pending void requests of many orders in ONE transaction (a reject needs a note).

    Every request is checked first; the ones that cannot be decided are reported 'refused' with the reason, the rest
    are decided with the set-based writes. An error while writing (e.g. stock that would go negative) applies none.
    Returns {results: [per order: approve's or reject's result, or 'refused'], approved, rejected, refused}.
    """
    require(user, "void.approve")
    decision = clean_decision(decision)
    numbers = clean_numbers(order_nos)
    decision_note = clean_note(note, required_key="voids.reject_note_required" if decision == "reject" else None)
    write = write_approvals if decision == "approve" else write_rejections

    def work(cur):
        orders = load_orders(cur, numbers)
        requests = pending_requests(cur, [o["id"] for o in orders.values()])
        results, ready = {}, []
        for number in numbers:
            order = orders.get(number)
            request = requests.get(order["id"]) if order else None
            why = decision_refusal(user, number, order, request, decision)
            if why is None:
                ready.append((order, request))
            else:
                results[number] = refused_result(number, why)
        # one batch id for the decision, so the team chat says it once (lib.services.chat_groups)
        for result in write(cur, user, ready, decision_note, now=clock.now(), changed_key="voids.batch_changed",
                            batch_id=uuid.uuid4().hex):
            results[result["order_no"]] = result
        return counted([results[n] for n in numbers], _DECIDED_COUNTS)

    return run_once(db, submission_key, f"void.{decision}_many", user, work)


def _decidable(cur, user: User, order_no: str, decision: str) -> tuple[dict, dict]:
    """The order and its pending request, or the refusal raised."""
    order = load_for_update(cur, user, order_no)
    request = pending_requests(cur, [order["id"]]).get(order["id"])
    _refuse(decision_refusal(user, order_no, order, request, decision))
    return order, request


def restore(db: Database, user: User, order_no: str, note: str, *, submission_key: str | None = None) -> dict:
    """Restore a voided order: reserve its stock again, cancel the pending refund, keep the void in history.

    Refused (RuleViolation) outside the restore window, when stock is short (listing each SKU), or when the
    refund was already paid out. Returns {order_no, outcome: 'restored', status, message, reserved,
    refund_cancelled, void_id, …}.
    """
    require(user, "void.restore")
    order_no = (order_no or "").strip()
    restore_note = clean_note(note, required_key="voids.restore_note_required")

    def work(cur):
        order = load_for_update(cur, user, order_no)
        refuse_if_archived(order)
        void, now = applied_void(cur, order["id"]), clock.now()
        _refuse(restore_refusal(order, void, read_rules(cur), now))
        refunds = void_refunds(cur, void["id"])
        _refuse(paid_refund_refusal(order_no, refunds))
        wanted = open_quantities(cur, order)
        _refuse(short_stock_refusal(order["order_no"], shortfalls(cur, wanted)))
        pending = [r for r in refunds if r["status"] == "pending"]
        return write_restore(cur, user, order, void, pending, wanted, restore_note, now)

    return run_once(db, submission_key, "void.restore", user, work)


def _load_target(cur, user: User, order_no: str, expected_version: int | None) -> tuple[dict, bool]:
    """The order to void, locked, and whether a request for it waits for approval (orders.void_requested: read
    with the order, no statement of its own)."""
    order = load_for_update(cur, user, order_no, expected_version)
    return order, order["void_requested"]


def _reason(cur, code: str | None):
    """The active void reason for the code, or the InvalidInput raised."""
    reason = find_reason(cur, code)
    _refuse(reason_refusal(code, reason))
    return reason


def _refuse(exc) -> None:
    if exc is not None:
        raise exc
