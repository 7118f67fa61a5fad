"""Manual stock adjustment (SPEC §6): an ops lead corrects a balance, with a reason, through the ledger."""

from lib import clock
from lib.db import Database, rows_as_dicts, scalar
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.services import audit
from lib.services.idempotency import run_once
from lib.services.stock import Movement, apply_movements

MAX_DELTA = 1_000_000
MAX_REASON = 500
_BALANCE = "SELECT on_hand, reserved, on_hand - reserved AS available, quarantine FROM stock_balances" \
           " WHERE warehouse = ? AND sku = ?"


def adjust_stock(db: Database, user: User, warehouse: str, sku: str, delta_on_hand, reason: str, *,
                 delta_quarantine=0, submission_key: str | None = None) -> dict:
    """Add (or take away) on-hand and quarantine units; a reason is required and no balance may go negative.

    Returns the new {warehouse, sku, on_hand, reserved, available, quarantine}. Reserved stock is never
    touched: taking away more than is available is refused.
    """
    require(user, "stock.adjust")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("stock.reason_required")
    if len(reason) > MAX_REASON:
        raise InvalidInput("stock.reason_too_long", n=MAX_REASON)
    d_on, d_q = _as_delta(delta_on_hand), _as_delta(delta_quarantine)
    if d_on == 0 and d_q == 0:
        raise InvalidInput("stock.nothing_to_adjust")
    warehouse, sku = (warehouse or "").strip().upper(), (sku or "").strip().upper()

    def work(cur):
        if not scalar(cur, "SELECT count(*) FROM warehouses WHERE code = ?", [warehouse]):
            raise InvalidInput("orders.unknown_warehouse", warehouse=warehouse or "—")
        if not scalar(cur, "SELECT count(*) FROM products WHERE sku = ?", [sku]):
            raise InvalidInput("orders.unknown_sku", sku=sku or "—")
        before = _balance(cur, warehouse, sku)
        now = clock.now()   # the ledger row and its audit entry share this moment (see `check`)
        apply_movements(cur, [Movement(warehouse, sku, "adjust", d_on_hand=d_on, d_quarantine=d_q)], user,
                        ref_type="adjust", ref_id=None, note=reason, at=now)
        after = _balance(cur, warehouse, sku)
        audit.record(cur, user, "stock.adjust", "stock", f"{warehouse}/{sku}", before=before, note=reason, at=now,
                     after={**after, "d_on_hand": d_on, "d_quarantine": d_q})
        return {"warehouse": warehouse, "sku": sku, **after}

    return run_once(db, submission_key, "stock.adjust", user, work)


def _balance(cur, warehouse: str, sku: str) -> dict:
    rows = rows_as_dicts(cur, _BALANCE, [warehouse, sku])
    return {k: int(v) for k, v in rows[0].items()} if rows else \
        {"on_hand": 0, "reserved": 0, "available": 0, "quarantine": 0}


def _as_delta(value) -> int:
    try:
        delta = int(str(value if value is not None else 0).strip())
    except (TypeError, ValueError):
        raise InvalidInput("stock.bad_delta", value=value) from None
    if abs(delta) > MAX_DELTA:
        raise InvalidInput("stock.bad_delta", value=value)
    return delta
