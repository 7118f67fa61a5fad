"""The writes of a restore (撤销作废, SPEC §4): the order back to its status before the void, its stock reserved
again, the void's pending refunds cancelled; the void stays in the history. Runs in the caller's transaction after
the checks (lib.void_checks.restore_refusal and the rest) passed."""
from datetime import datetime

from lib.domain import User
from lib.errors import ConcurrentChange
from lib.i18n import fmt_money
from lib.services import audit
from lib.services.notify import active_users, notify_many
from lib.services.orders import bump
from lib.services.stock import Movement, apply_movements
from lib.void_checks import ZERO, outcome

_MARK_RESTORED = """UPDATE voids SET status = 'restored', restored_by = ?, restored_at = ?, restore_note = ?
    WHERE id = ? AND status = 'applied' RETURNING id"""
_CANCEL_REFUND = """UPDATE refunds SET status = 'cancelled', cancelled_by = ?, cancelled_at = ?
    WHERE id = ? AND status = 'pending' RETURNING id"""
_HISTORY = """INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at, note)
    VALUES (?, 'voided', ?, ?, ?, ?)"""


def write_restore(cur, user: User, order: dict, void: dict, refunds: list[dict], wanted: dict, note: str,
                  now: datetime) -> dict:
    """Restore the order: reserve `wanted` ((warehouse, sku) -> qty) again, cancel the pending `refunds`."""
    order_no, back_to = order["order_no"], void["status_before"]
    reserved = _reserve_again(cur, user, order, void, wanted, now)
    bump(cur, order, "status = ?, voided_at = NULL", [back_to])
    if not cur.execute(_MARK_RESTORED, [user.id, now, note, void["id"]]).fetchall():
        raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)
    cancelled = _cancel_refunds(cur, user, order_no, refunds, now)
    cur.execute(_HISTORY, [order["id"], back_to, user.id, now, note])
    audit.record(cur, user, "void.restore", "void", void["id"], order_no=order_no, note=note, at=now,
                 before={"status": "voided", "void_status": "applied"},
                 after={"status": back_to, "void_status": "restored", "reserved": reserved,
                        "refund_cancelled": cancelled})
    _notify(cur, user, order, void, cancelled, now)
    params = {"order_no": order_no, "status": f"status.{back_to}", "units": sum(r["qty"] for r in reserved),
              "refund": fmt_money(cancelled)}
    key = "voids.result.restored_refund" if cancelled > 0 else "voids.result.restored"
    return {**outcome(order_no, "restored", key, params, void_id=void["id"]),
            "status": back_to, "reserved": reserved, "refund_cancelled": str(cancelled)}


def _reserve_again(cur, user: User, order: dict, void: dict, wanted: dict, now: datetime) -> list[dict]:
    apply_movements(cur, [Movement(w, sku, "reserve", d_reserved=qty) for (w, sku), qty in wanted.items()], user,
                    ref_type="void", ref_id=void["id"], order_no=order["order_no"], note="restore", at=now)
    return [{"warehouse": w, "sku": sku, "qty": qty} for (w, sku), qty in wanted.items()]


def _cancel_refunds(cur, user: User, order_no: str, refunds: list[dict], now: datetime):
    cancelled = ZERO
    for refund in refunds:
        if not cur.execute(_CANCEL_REFUND, [user.id, now, refund["id"]]).fetchall():
            raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)
        audit.record(cur, user, "refund.cancel", "refund", refund["id"], order_no=order_no, at=now,
                     before={"status": "pending"}, after={"status": "cancelled", "amount": refund["amount"]})
        cancelled += refund["amount"]
    return cancelled


def _notify(cur, user: User, order: dict, void: dict, cancelled, now: datetime) -> None:
    people = active_users(cur)
    role = lambda name: [u for u, p in people.items() if p["role"] == name]  # noqa: E731
    told = [order["rep_id"]] + (role("warehouse") if void["status_before"] == "processing" else [])
    items = [(u, "void.restored", {"order_no": order["order_no"]}, order) for u in told]
    if cancelled > 0:
        items += [(u, "refund.cancelled", {"order_no": order["order_no"], "amount": str(cancelled)}, order)
                  for u in role("finance")]
    notify_many(cur, people, items, exclude=user.id, now=now)
