"""Undoing a void (撤销作废, SPEC §4): the order goes back to its status before the void, within the window."""
from datetime import datetime, timedelta

from lib import clock
from lib.db import Database, rows_as_dicts
from lib.domain import User, require
from lib.errors import ConcurrentChange, RuleViolation
from lib.i18n import fmt_money
from lib.services import audit
from lib.services.notify import active_users, notify_many
from lib.services.orders import bump, load_for_update, refuse_if_archived
from lib.queries.settings import read_rules
from lib.services.stock import Movement, apply_movements, shortfalls
from lib.services.void_apply import ZERO, once, outcome
from lib.services.void_rules import clean_note


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
        void = _restorable_void(cur, order)
        now = clock.now()
        _check_window(cur, order_no, void, now)
        refunds = _refunds_to_cancel(cur, order_no, void)
        reserved = _reserve_again(cur, user, order, void, now)
        bump(cur, order, "status = ?, voided_at = NULL", [void["status_before"]])
        if not cur.execute("UPDATE voids SET status = 'restored', restored_by = ?, restored_at = ?, restore_note = ?"
                           " WHERE id = ? AND status = 'applied' RETURNING id",
                           [user.id, now, restore_note, void["id"]]).fetchall():
            raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)
        cancelled = _cancel_refunds(cur, user, order_no, refunds, now)
        cur.execute("INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at, note)"
                    " VALUES (?, 'voided', ?, ?, ?, ?)", [order["id"], void["status_before"], user.id, now,
                                                          restore_note])
        audit.record(cur, user, "void.restore", "void", void["id"], order_no=order_no, note=restore_note, at=now,
                     before={"status": "voided", "void_status": "applied"},
                     after={"status": void["status_before"], "void_status": "restored", "reserved": reserved,
                            "refund_cancelled": cancelled})
        _notify(cur, user, order, void, cancelled, now)
        params = {"order_no": order_no, "status": f"status.{void['status_before']}",
                  "units": sum(r["qty"] for r in reserved), "refund": fmt_money(cancelled)}
        key = "voids.result.restored_refund" if cancelled > 0 else "voids.result.restored"
        return {**outcome(order_no, "restored", key, params, void_id=void["id"]),
                "status": void["status_before"], "reserved": reserved, "refund_cancelled": str(cancelled)}

    return once(db, submission_key, "void.restore", user, work)


def _restorable_void(cur, order: dict) -> dict:
    if order["status"] != "voided":
        raise RuleViolation("voids.restore_not_voided", order_no=order["order_no"], status=f"status.{order['status']}")
    rows = rows_as_dicts(cur, "SELECT * FROM voids WHERE order_id = ? AND status = 'applied'"
                              " ORDER BY applied_at DESC, id DESC LIMIT 1", [order["id"]])
    if not rows or rows[0]["status_before"] is None:
        raise RuleViolation("voids.restore_no_void", order_no=order["order_no"])
    return rows[0]


def _check_window(cur, order_no: str, void: dict, now: datetime) -> None:
    hours = read_rules(cur).restore_window_hours
    if now - void["applied_at"] > timedelta(hours=hours):
        raise RuleViolation("voids.restore_window_passed", order_no=order_no, hours=hours,
                            applied_at=void["applied_at"].strftime("%Y-%m-%d %H:%M"))


def _refunds_to_cancel(cur, order_no: str, void: dict) -> list[dict]:
    """The void's pending refunds; a refund already paid out blocks the restore."""
    refunds = rows_as_dicts(cur, "SELECT id, amount, status FROM refunds WHERE source = 'void' AND source_id = ?",
                            [void["id"]])
    paid = [r for r in refunds if r["status"] == "paid"]
    if paid:
        raise RuleViolation("voids.restore_refund_paid", order_no=order_no,
                            amount=fmt_money(sum(r["amount"] for r in paid)))
    return [r for r in refunds if r["status"] == "pending"]


def _reserve_again(cur, user: User, order: dict, void: dict, now: datetime) -> list[dict]:
    lines = cur.execute("SELECT sku, sum(qty - qty_shipped)::BIGINT FROM order_lines WHERE order_id = ?"
                        " GROUP BY sku HAVING sum(qty - qty_shipped) > 0 ORDER BY sku", [order["id"]]).fetchall()
    wanted = {(order["warehouse"], sku): int(qty) for sku, qty in lines}
    short = shortfalls(cur, wanted)
    if short:
        raise RuleViolation("voids.restore_short_stock", order_no=order["order_no"], details="; ".join(
            f"{s.sku} ({s.warehouse}): needs {s.wanted}, available {s.available}" for s in short))
    apply_movements(cur, [Movement(w, sku, "reserve", d_reserved=qty) for (w, sku), qty in wanted.items()], user,
                    ref_type="void", ref_id=void["id"], order_no=order["order_no"], note="restore", at=now)
    return [{"warehouse": w, "sku": sku, "qty": qty} for (w, sku), qty in wanted.items()]


def _cancel_refunds(cur, user: User, order_no: str, refunds: list[dict], now: datetime):
    cancelled = ZERO
    for refund in refunds:
        if not cur.execute("UPDATE refunds SET status = 'cancelled', cancelled_by = ?, cancelled_at = ?"
                           " WHERE id = ? AND status = 'pending' RETURNING id",
                           [user.id, now, refund["id"]]).fetchall():
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
