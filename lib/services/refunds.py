"""Refunds (SPEC §7): finance marks a pending refund paid out; the order's payment state follows."""
from decimal import Decimal

from lib import clock
from lib.db import Database, rows_as_dicts
from lib.domain import User, payment_status_for, require
from lib.errors import ConcurrentChange, InvalidInput, NotFound, RuleViolation
from lib.services import audit
from lib.services.idempotency import run_once
from lib.services.inspection import close_if_settled
from lib.services.notify import notify
from lib.services.orders import bump, lock_order_of

MAX_REF = 200


def mark_paid(db: Database, user: User, refund_id: int, payment_ref: str, *,
              submission_key: str | None = None) -> dict:
    """pending → paid with the payment reference; the order's amount_refunded and payment state follow.

    A refund already paid out is refused (never paid twice). Paying a return's refund closes its note
    when the goods are already inspected. Archived orders still get their money settled.
    """
    require(user, "refund.pay")
    payment_ref = (payment_ref or "").strip()
    if not payment_ref:
        raise InvalidInput("refunds.ref_required")
    if len(payment_ref) > MAX_REF:
        raise InvalidInput("refunds.ref_too_long", n=MAX_REF)

    def work(cur):
        refund = _load(cur, refund_id)
        if refund["status"] != "pending":
            raise RuleViolation(f"refunds.already_{refund['status']}", refund_id=refund["id"],
                                order_no=refund["order_no"], payment_ref=refund["payment_ref"] or "–")
        now = clock.now()
        if not cur.execute("UPDATE refunds SET status = 'paid', paid_at = ?, paid_by = ?, payment_ref = ?"
                           " WHERE id = ? AND status = 'pending' RETURNING id",
                           [now, user.id, payment_ref, refund["id"]]).fetchall():
            raise ConcurrentChange("refunds.changed_meanwhile", refund_id=refund["id"])
        order = _settle(cur, refund)
        audit.record(cur, user, "refund.paid", "refund", refund["id"], order_no=refund["order_no"], at=now,
                     before={"status": "pending"},
                     after={"status": "paid", "payment_ref": payment_ref, "amount": refund["amount"],
                            "payment_status": order["payment_status"]})
        notify(cur, [order["rep_id"]], "refund.paid", {"order_no": refund["order_no"], "amount": str(refund["amount"]),
                                                       "payment_ref": payment_ref},
               order_no=refund["order_no"], exclude=user.id)
        if refund["source"] == "return":
            close_if_settled(cur, user, refund["source_id"])
        return {"refund_id": refund["id"], "order_no": refund["order_no"], "status": "paid",
                "amount": str(refund["amount"]), "payment_ref": payment_ref,
                "payment_status": order["payment_status"]}

    return run_once(db, submission_key, "refund.pay", user, work)


def _load(cur, refund_id) -> dict:
    try:
        rid = int(refund_id)
    except (TypeError, ValueError, OverflowError):   # OverflowError: an infinite float
        raise NotFound("refunds.not_found", refund_id=refund_id) from None
    if not 0 < rid < 2 ** 63:   # ids are BIGINT: a larger number cannot even be looked up
        raise NotFound("refunds.not_found", refund_id=str(refund_id)[:40])
    lock_order_of(cur, "SELECT order_id FROM refunds WHERE id = ?", [rid])
    rows = rows_as_dicts(cur, "SELECT * FROM refunds WHERE id = ?", [rid])
    if not rows:
        raise NotFound("refunds.not_found", refund_id=refund_id)
    return rows[0]


def _settle(cur, refund: dict) -> dict:
    """Add the refund to the order's amount_refunded and derive the payment state (version-guarded)."""
    order = rows_as_dicts(cur, "SELECT * FROM orders WHERE id = ?", [refund["order_id"]])[0]
    refunded = Decimal(order["amount_refunded"]) + Decimal(refund["amount"])
    status = payment_status_for(order["amount_paid"], refunded)
    bump(cur, order, "amount_refunded = ?, payment_status = ?", [refunded, status])
    return {**order, "amount_refunded": refunded, "payment_status": status}
