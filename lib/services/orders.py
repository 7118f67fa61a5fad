"""Orders, write side (SPEC §2): create, move through statuses, archive, copy."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lib import clock
from lib.db import Database, for_update, rows_as_dicts, scalar
from lib.domain import User, may_see_order, require
from lib.errors import ConcurrentChange, InvalidInput, NotFound, RuleViolation
from lib.services import audit
from lib.services.idempotency import run_once
from lib.services.numbering import next_number
from lib.queries.category_mask import MASK_OF_SKUS
from lib.queries.main_line import ALL_LINES, set_main_skus
from lib.services.stock import Movement, apply_movements, shortfalls

MAX_QTY = 1_000_000
MAX_PRICE = Decimal("100000000")
MAX_LINES = 200
MAX_TOTAL = Decimal("999999999999.99")   # the largest DECIMAL(14,2): a larger total cannot be stored

# status -> statuses it may move to with change_status (voids and returns have their own services)
TRANSITIONS = {
    "pending": ("processing",),
    "processing": ("shipped",),
    "shipped": ("completed",),
    "completed": ("archived",),
    "voided": ("archived",),
}


@dataclass(frozen=True)
class LineInput:
    sku: str
    qty: int
    unit_price: Decimal | None = None   # None: the product's list price


def _as_qty(value) -> int:
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput("orders.bad_qty", value=value) from None
    if not 0 < qty <= MAX_QTY:
        raise InvalidInput("orders.bad_qty", value=value)
    return qty


def _as_price(value) -> Decimal:
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise InvalidInput("orders.bad_price", value=value) from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise InvalidInput("orders.bad_price", value=value)
    return price.quantize(Decimal("0.01"))


def _clean_lines(cur, lines: list[LineInput]) -> list[dict]:
    if not lines:
        raise InvalidInput("orders.no_lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput("orders.too_many_lines", n=MAX_LINES)
    skus = [str(line.sku or "").strip().upper() for line in lines]
    dupes = sorted({s for s in skus if skus.count(s) > 1})
    if dupes:
        raise InvalidInput("orders.duplicate_sku", sku=", ".join(dupes))
    products = {r["sku"]: r for r in rows_as_dicts(
        cur, "SELECT sku, unit_price, active FROM products WHERE sku = ANY(?)", [skus])}
    cleaned = []
    for sku, line in zip(skus, lines):
        product = products.get(sku)
        if product is None or not product["active"]:
            raise InvalidInput("orders.unknown_sku", sku=sku or "—")
        price = product["unit_price"] if line.unit_price is None else _as_price(line.unit_price)
        cleaned.append({"sku": sku, "qty": _as_qty(line.qty), "unit_price": price})
    return cleaned


def _check_total(lines: list[dict]) -> None:
    total = sum((line["unit_price"] * line["qty"] for line in lines), Decimal("0"))
    if total > MAX_TOTAL:
        raise InvalidInput("orders.total_too_large", total=f"{total:,.2f}", max=f"{MAX_TOTAL:,.2f}")


def _resolve_rep(cur, actor: User, rep_username: str | None) -> int | None:
    if actor.is_sales:
        return actor.id
    if not rep_username:
        return None
    rep = scalar(cur, "SELECT id FROM users WHERE username = ? AND role = 'sales' AND active", [rep_username])
    if rep is None:
        raise InvalidInput("orders.unknown_rep", username=rep_username)
    return rep


def create_order(db: Database, actor: User, customer_code: str, warehouse: str, lines: list[LineInput], *,
                 rep: str | None = None, paid: bool = False, note: str | None = None,
                 submission_key: str | None = None) -> dict:
    """Create an order, reserve its stock through the ledger; refuse lines above available stock."""
    require(actor, "order.create")

    def work(cur):
        customer_id = scalar(cur, "SELECT id FROM customers WHERE code = ?", [customer_code])
        if customer_id is None:
            raise InvalidInput("orders.unknown_customer", customer=customer_code or "—")
        if not scalar(cur, "SELECT count(*) FROM warehouses WHERE code = ?", [warehouse]):
            raise InvalidInput("orders.unknown_warehouse", warehouse=warehouse or "—")
        cleaned = _clean_lines(cur, lines)
        _check_total(cleaned)
        short = shortfalls(cur, {(warehouse, line["sku"]): line["qty"] for line in cleaned})
        if short:
            raise RuleViolation("orders.short_stock", details="; ".join(
                f"{s.sku}: {s.wanted} > {s.available}" for s in short))
        return _insert_order(cur, actor, customer_id, warehouse, cleaned, _resolve_rep(cur, actor, rep),
                             paid, note)

    return run_once(db, submission_key, "order.create", actor, work)


def _insert_order(cur, actor, customer_id, warehouse, lines, rep_id, paid, note) -> dict:
    now = clock.now()
    total = sum((line["unit_price"] * line["qty"] for line in lines), Decimal("0"))
    order_no = next_number(cur, "SO", now)
    order_id = scalar(
        cur, "INSERT INTO orders (order_no, customer_id, rep_id, warehouse, status, payment_status, total,"
             " amount_paid, created_at, updated_at, source, category_mask)"
             f" VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, 'app', {MASK_OF_SKUS}) RETURNING id",
        [order_no, customer_id, rep_id, warehouse, "paid" if paid else "unpaid", total,
         total if paid else 0, now, now, [line["sku"] for line in lines]])
    for i, line in enumerate(lines, start=1):
        cur.execute("INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price) VALUES (?, ?, ?, ?, ?)",
                    [order_id, i, line["sku"], line["qty"], line["unit_price"]])
    set_main_skus(cur, f"{ALL_LINES} WHERE order_id = ?", [order_id])
    apply_movements(cur, [Movement(warehouse, line["sku"], "reserve", d_reserved=line["qty"]) for line in lines],
                    actor, ref_type="order", ref_id=order_id, order_no=order_no, at=now)
    _history(cur, order_id, None, "pending", actor, note, now)
    audit.record(cur, actor, "order.create", "order", order_id, order_no=order_no, note=note, after={
        "status": "pending", "total": total, "warehouse": warehouse, "lines": lines, "paid": paid})
    return {"order_no": order_no, "id": order_id, "total": str(total)}


def _history(cur, order_id, from_status, to_status, actor, note, at) -> None:
    cur.execute("INSERT INTO order_status_history (order_id, from_status, to_status, by_user_id, created_at, note)"
                " VALUES (?, ?, ?, ?, ?, ?)", [order_id, from_status, to_status, actor.id if actor else None,
                                               at, note])


def load_for_update(cur, actor: User, order_no: str, expected_version: int | None = None) -> dict:
    """The order as this transaction sees it; refuses unknown orders, other reps' orders, stale versions."""
    rows = rows_as_dicts(cur, f"SELECT * FROM orders WHERE order_no = ?{for_update(cur)}", [order_no])
    if not rows or not may_see_order(actor, rows[0]["rep_id"]):
        raise NotFound("orders.not_found", order_no=order_no)
    order = rows[0]
    if expected_version is not None and order["version"] != expected_version:
        raise ConcurrentChange("orders.changed_meanwhile", order_no=order_no)
    return order


def lock_order_of(cur, order_id_sql: str, params: list) -> None:
    """Lock the order a refund or return note belongs to before reading that row (PostgreSQL writes only; see
    lib.db.for_update): every writer locks an order before its children, so racing writers take turns, never
    deadlock, and the second reads what the first committed."""
    if for_update(cur):
        cur.execute(f"SELECT id FROM orders WHERE id = ({order_id_sql}) FOR UPDATE", params)


def bump(cur, order: dict, sets: str, params: list) -> None:
    """UPDATE the order guarded by its version, so a concurrent change is detected, never lost.

    In place and counted, not RETURNING: see lib.services.void_writes._CLAIM_ONE.
    """
    changed = cur.execute(f"UPDATE orders SET {sets}, version = version + 1, updated_at = ?"
                          " WHERE id = ? AND version = ?",
                          params + [clock.now(), order["id"], order["version"]]).fetchall()[0][0]
    if not changed:
        raise ConcurrentChange("orders.changed_meanwhile", order_no=order["order_no"])


def refuse_if_archived(order: dict) -> None:
    if order["status"] == "archived":
        raise RuleViolation("orders.archived_read_only", order_no=order["order_no"])


def change_status(db: Database, actor: User, order_no: str, to_status: str, *, note: str | None = None,
                  expected_version: int | None = None) -> dict:
    """Move an order one step: pending → processing → shipped (consumes stock) → completed → archived."""
    require(actor, "order.archive" if to_status == "archived" else "order.change_status")
    with db.transaction() as cur:
        order = load_for_update(cur, actor, order_no, expected_version)
        refuse_if_archived(order)
        if to_status not in TRANSITIONS.get(order["status"], ()):
            raise RuleViolation("orders.bad_transition", order_no=order_no,
                                status=f"status.{order['status']}", to=f"status.{to_status}")
        if to_status == "shipped" and order["void_requested"]:
            raise RuleViolation("orders.void_pending", order_no=order_no)
        now = clock.now()
        sets, params = "status = ?", [to_status]
        if to_status == "shipped":
            _ship_lines(cur, actor, order, now)
            sets += ", shipped_at = ?"
            params.append(now)
        elif to_status == "completed":
            sets += ", completed_at = ?"
            params.append(now)
        elif to_status == "archived":
            sets += ", archived_at = ?, status_before_archive = ?"
            params += [now, order["status"]]
        bump(cur, order, sets, params)
        _history(cur, order["id"], order["status"], to_status, actor, note, now)
        audit.record(cur, actor, "order.status", "order", order["id"], order_no=order_no, note=note,
                     before={"status": order["status"]}, after={"status": to_status})
    return {"order_no": order_no, "status": to_status}


def _ship_lines(cur, actor: User, order: dict, now: datetime) -> None:
    lines = rows_as_dicts(cur, "SELECT id, sku, qty FROM order_lines WHERE order_id = ?", [order["id"]])
    apply_movements(cur, [Movement(order["warehouse"], ln["sku"], "ship", d_on_hand=-ln["qty"],
                                   d_reserved=-ln["qty"]) for ln in lines],
                    actor, ref_type="order", ref_id=order["id"], order_no=order["order_no"], at=now)
    cur.execute("UPDATE order_lines SET qty_shipped = qty WHERE order_id = ?", [order["id"]])


def copy_order(db: Database, actor: User, order_no: str, submission_key: str | None = None) -> dict:
    """A new pending order with the same customer, warehouse and lines (also from an archived order)."""
    require(actor, "order.create")
    with db.read() as cur:
        order = load_for_update(cur, actor, order_no)
        customer = scalar(cur, "SELECT code FROM customers WHERE id = ?", [order["customer_id"]])
        rep = scalar(cur, "SELECT username FROM users WHERE id = ?", [order["rep_id"]])
        lines = [LineInput(r[0], r[1], r[2]) for r in cur.execute(
            "SELECT sku, qty, unit_price FROM order_lines WHERE order_id = ? ORDER BY line_no",
            [order["id"]]).fetchall()]
    return create_order(db, actor, customer, order["warehouse"], lines, rep=rep,
                        note=f"copy of {order_no}", submission_key=submission_key)
