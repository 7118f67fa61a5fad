"""Returns to stock (SPEC §5): return notes RT-YYYYMMDD-NNNNN, requested → received → inspected → closed.

Decisions:
- `order_lines.qty_returned` goes up when the note is *created*, so quantities on open notes count as
  already returned: returnable = shipped − returned, and two notes can never claim the same units (the
  guarded UPDATE of the line and the order's version make racing notes conflict; exactly one wins).
- The refund owed defaults to the value of the returned lines, capped by what the customer paid less the
  refunds already owed or paid on the order; it may be lowered, never raised. An unpaid order owes none.
- Stock moves only at inspection (lib.services.inspection, re-exported here), through the ledger, into the
  note's warehouse.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lib import clock
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import RETURNABLE_STATUSES, User, refusal, require
from lib.errors import ConcurrentChange, InvalidInput, RuleViolation, VoidDeskError
from lib.services import audit
from lib.services.idempotency import run_once
from lib.services.inspection import (DISPOSITIONS, RETURN_STATUSES, close_return, inspect_return,  # noqa: F401
                                     receive_return)
from lib.services.notify import notify, recipients_by_role
from lib.services.numbering import next_number
from lib.services.orders import bump, load_for_update

MAX_QTY = 1_000_000
MAX_NOTE = 4000
CENT = Decimal("0.01")
MAX_REFUND = Decimal("1000000000000")   # DECIMAL(14,2) holds less
_LINES = """
    SELECT id, line_no, sku, qty, unit_price, qty_shipped, qty_returned, qty_shipped - qty_returned AS returnable
    FROM order_lines WHERE order_id = ? ORDER BY line_no, id"""


@dataclass(frozen=True)
class Reason:
    code: str
    label_en: str
    label_zh: str


def returnable_lines(db: Database, user: User, order_no: str) -> list[dict]:
    """The order's lines with what can still be returned (shipped − already returned, open notes included)."""
    require(user, "order.view")
    with db.read() as cur:
        order = load_for_update(cur, user, (order_no or "").strip())
        return _lines_with_names(cur, order["id"])


def _lines_with_names(cur, order_id: int) -> list[dict]:
    return rows_as_dicts(cur, "SELECT l.id AS order_line_id, l.line_no, l.sku, p.name AS product_name,"
                              " l.qty, l.qty_shipped, l.qty_returned, l.qty_shipped - l.qty_returned AS returnable,"
                              " l.unit_price FROM order_lines l LEFT JOIN products p ON p.sku = l.sku"
                              " WHERE l.order_id = ? ORDER BY l.line_no, l.id", [order_id])


def return_context(db: Database, user: User, order_no: str) -> dict:
    """What a return form needs: the order's state, `can_return` and `refusal` (the VoidDeskError saying why
    not, or None), the most refund still possible (`refundable`), and the returnable lines."""
    require(user, "order.view")
    with db.read() as cur:
        order = load_for_update(cur, user, (order_no or "").strip())
        problem = _refusal(order, user)
        return {"order_no": order["order_no"], "status": order["status"],
                "payment_status": order["payment_status"], "warehouse": order["warehouse"],
                "amount_paid": order["amount_paid"], "refundable": refundable(cur, order),
                "can_return": problem is None, "refusal": problem, "lines": _lines_with_names(cur, order["id"])}


def _refusal(order: dict, user: User) -> VoidDeskError | None:
    denied = refusal(user, "return.create")
    if denied:
        return denied
    if order["status"] not in RETURNABLE_STATUSES:
        return RuleViolation("returns.not_returnable", order_no=order["order_no"], status=f"status.{order['status']}")
    return None


def refundable(cur, order: dict) -> Decimal:
    """Money paid in less refunds already owed or paid out on the order (never below zero)."""
    owed = scalar(cur, "SELECT coalesce(sum(amount), 0) FROM refunds WHERE order_id = ? AND status <> 'cancelled'",
                  [order["id"]])
    return max(Decimal(order["amount_paid"] or 0) - Decimal(owed), Decimal("0")).quantize(CENT)


def create_return(db: Database, user: User, order_no: str, lines, reason_code: str, note: str | None = None,
                  warehouse: str | None = None, refund=None, *, submission_key: str | None = None) -> dict:
    """Create a return note for some shipped lines; returns {return_no, refund, lines: [{sku, qty, unit_price}]}.

    `lines` is {sku: qty} or [(sku, qty)]; zero quantities are left out. Quantities are checked again inside
    the transaction. A refund (pending, for finance) is created when the order was paid and the refund > 0.
    """
    require(user, "return.create")
    wanted = _clean_wanted(lines)
    note = _clean_note(note)

    def work(cur):
        return _create_in(cur, user, (order_no or "").strip(), wanted, reason_code, note, warehouse, refund)

    return run_once(db, submission_key, "return.create", user, work)


def preview_returns_batch(db: Database, user: User, order_nos: list[str]) -> list[dict]:
    """Per order: {order_no, eligible, refusal (the VoidDeskError or None), lines: [{sku, qty, unit_price}],
    value} for returning everything still returnable."""
    require(user, "return.create")
    out = []
    with db.read() as cur:
        for order_no in _unique(order_nos):
            try:
                order = load_for_update(cur, user, order_no)
                problem = _refusal(order, user)
                lines = [ln for ln in rows_as_dicts(cur, _LINES, [order["id"]]) if ln["returnable"] > 0]
                if problem is None and not lines:
                    problem = RuleViolation("returns.nothing_returnable", order_no=order_no)
            except VoidDeskError as exc:
                problem, lines = exc, []
            out.append({"order_no": order_no, "eligible": problem is None, "refusal": problem,
                        "lines": [{"sku": ln["sku"], "qty": ln["returnable"], "unit_price": ln["unit_price"]}
                                  for ln in lines],
                        "value": sum((ln["returnable"] * ln["unit_price"] for ln in lines), Decimal("0"))})
    return out


def create_returns_batch(db: Database, user: User, order_nos: list[str], reason_code: str,
                         note: str | None = None, *, submission_key: str | None = None) -> list[dict]:
    """Return everything still returnable of several orders, one note each, in one transaction (all or none).

    Each note goes to its order's warehouse with the default refund. Any order that is not eligible
    refuses the whole batch, naming that order.
    """
    require(user, "return.create")
    note = _clean_note(note)
    numbers = _unique(order_nos)
    if not numbers:
        raise InvalidInput("returns.no_orders")

    def work(cur):
        return [{"order_no": order_no, **_create_in(cur, user, order_no, None, reason_code, note, None, None)}
                for order_no in numbers]

    return run_once(db, submission_key, "return.batch", user, work)


def _unique(order_nos) -> list[str]:
    seen = []
    for n in order_nos or []:
        n = (n or "").strip()
        if n and n not in seen:
            seen.append(n)
    return seen


# --- the write ------------------------------------------------------------------------------

def _create_in(cur, user: User, order_no: str, wanted: list[tuple[str, int]] | None, reason_code: str,
               note: str | None, warehouse: str | None, refund) -> dict:
    """The note in the caller's transaction; `wanted` None returns everything still returnable."""
    order = load_for_update(cur, user, order_no)
    if order["status"] not in RETURNABLE_STATUSES:
        raise RuleViolation("returns.not_returnable", order_no=order_no, status=f"status.{order['status']}")
    reason = read_reason(cur, reason_code, note)
    warehouse = _warehouse(cur, warehouse or order["warehouse"])
    lines = rows_as_dicts(cur, _LINES, [order["id"]])
    if wanted is None:
        wanted = [(ln["sku"], ln["returnable"]) for ln in lines if ln["returnable"] > 0]
        if not wanted:
            raise RuleViolation("returns.nothing_returnable", order_no=order_no)
    taken = _allocate(lines, wanted, order_no)
    value = sum((ln["unit_price"] * qty for ln, qty in taken), Decimal("0")).quantize(CENT)
    amount = _refund_amount(refund, value, refundable(cur, order), order)
    now = clock.now()
    return_no = next_number(cur, "RT", now)
    return_id = scalar(
        cur, "INSERT INTO return_notes (return_no, order_id, order_no, status, reason_code, reason_label_en,"
             " reason_label_zh, note, warehouse, refund_amount, requested_by, created_at)"
             " VALUES (?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [return_no, order["id"], order_no, reason.code, reason.label_en, reason.label_zh, note, warehouse, amount,
         user.id, now])
    for line, qty in taken:
        _take_line(cur, line, qty, order_no)
        cur.execute("INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price) VALUES (?, ?, ?, ?, ?)",
                    [return_id, line["id"], line["sku"], qty, line["unit_price"]])
    bump(cur, order, "status = ?", [order["status"]])
    shown = [{"sku": ln["sku"], "qty": qty, "unit_price": str(ln["unit_price"])} for ln, qty in taken]
    audit.record(cur, user, "return.create", "return", return_id, order_no=order_no, note=note, at=now, after={
        "return_no": return_no, "status": "requested", "reason": reason.code, "warehouse": warehouse,
        "refund_amount": amount, "lines": shown})
    notify(cur, [order["rep_id"]] + recipients_by_role(cur, ("warehouse",)), "return.created",
           {"order_no": order_no, "return_no": return_no, "reason": reason.code}, order_no=order_no,
           return_no=return_no, exclude=user.id)
    if amount > 0:
        _create_refund(cur, user, order, return_id, amount, now)
    return {"return_no": return_no, "refund": str(amount), "lines": shown}


def _take_line(cur, line: dict, qty: int, order_no: str) -> None:
    # Guarded: a note created meanwhile by someone else makes this match nothing (or conflict).
    if not cur.execute("UPDATE order_lines SET qty_returned = qty_returned + ? WHERE id = ?"
                       " AND qty_returned + ? <= qty_shipped RETURNING id", [qty, line["id"], qty]).fetchall():
        raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)


def _create_refund(cur, user: User, order: dict, return_id: int, amount: Decimal, now: datetime) -> None:
    refund_id = scalar(cur, "INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at,"
                            " created_by) VALUES (?, ?, 'return', ?, ?, 'pending', ?, ?) RETURNING id",
                       [order["id"], order["order_no"], return_id, amount, now, user.id])
    audit.record(cur, user, "refund.create", "refund", refund_id, order_no=order["order_no"], at=now,
                 after={"amount": amount, "source": "return", "status": "pending"})
    notify(cur, recipients_by_role(cur, ("finance",)), "refund.created",
           {"order_no": order["order_no"], "amount": str(amount), "source": "return"}, order_no=order["order_no"],
           exclude=user.id)


# --- input checks ---------------------------------------------------------------------------

def read_reason(cur, code: str, note: str | None) -> Reason:
    """The active return reason with its labels as they read now; refuses unknown codes and a missing note."""
    rows = rows_as_dicts(cur, "SELECT code, label_en, label_zh, note_required FROM reasons"
                              " WHERE kind = 'return' AND code = ? AND active", [(code or "").strip()])
    if not rows:
        raise InvalidInput("returns.unknown_reason", reason=code or "—")
    r = rows[0]
    if r["note_required"] and not note:
        raise InvalidInput("returns.note_required", reason=r["label_en"])
    return Reason(r["code"], r["label_en"], r["label_zh"])


def _warehouse(cur, code: str) -> str:
    code = (code or "").strip().upper()
    if not scalar(cur, "SELECT count(*) FROM warehouses WHERE code = ?", [code]):
        raise InvalidInput("orders.unknown_warehouse", warehouse=code or "—")
    return code


def _clean_note(note) -> str | None:
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise InvalidInput("returns.note_too_long", n=MAX_NOTE)
    return note


def _clean_wanted(lines) -> list[tuple[str, int]]:
    pairs = list(lines.items()) if isinstance(lines, dict) else list(lines or [])
    wanted: dict[str, int] = {}
    for sku, qty in pairs:
        sku = str(sku or "").strip().upper()
        qty = _as_qty(qty)
        if sku in wanted:
            raise InvalidInput("orders.duplicate_sku", sku=sku)
        if qty:
            wanted[sku] = qty
    if not wanted:
        raise InvalidInput("returns.no_lines")
    return list(wanted.items())


def _as_qty(value) -> int:
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput("orders.bad_qty", value=value) from None
    if not 0 <= qty <= MAX_QTY:
        raise InvalidInput("orders.bad_qty", value=value)
    return qty


def _allocate(order_lines: list[dict], wanted: list[tuple[str, int]], order_no: str) -> list[tuple[dict, int]]:
    """(order line, qty) pairs; a SKU on several lines fills them in line order."""
    left = {ln["id"]: ln["returnable"] for ln in order_lines}
    taken = []
    for sku, qty in wanted:
        lines = [ln for ln in order_lines if ln["sku"] == sku]
        if not lines:
            raise InvalidInput("returns.sku_not_on_order", sku=sku, order_no=order_no)
        can = sum(left[ln["id"]] for ln in lines)
        if qty > can:
            raise RuleViolation("returns.too_many", sku=sku, qty=qty, returnable=can)
        for ln in lines:
            part = min(qty, left[ln["id"]])
            if part > 0:
                taken.append((ln, part))
                left[ln["id"]] -= part
                qty -= part
    return taken


def _refund_amount(given, value: Decimal, still_refundable: Decimal, order: dict) -> Decimal:
    limit = min(value, still_refundable)
    if given is None or str(given).strip() == "":
        return limit
    try:
        amount = Decimal(str(given).strip())
    except InvalidOperation:
        raise InvalidInput("returns.bad_refund", value=given) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("returns.bad_refund", value=given)
    if amount >= MAX_REFUND:   # 1e309 is finite but cannot be rounded to cents
        raise RuleViolation("returns.refund_too_high", refund=str(given).strip()[:40], max=str(limit), value=str(value))
    amount = amount.quantize(CENT)
    if amount > 0 and not order["amount_paid"]:
        raise RuleViolation("returns.unpaid_no_refund", order_no=order["order_no"])
    if amount > limit:
        raise RuleViolation("returns.refund_too_high", refund=str(amount), max=str(limit), value=str(value))
    return amount
