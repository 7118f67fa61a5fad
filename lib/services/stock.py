"""The stock ledger (SPEC §6): every change is one appended ledger row plus the matching balance update."""
from dataclasses import dataclass
from datetime import datetime

from lib import clock
from lib.domain import User
from lib.errors import RuleViolation


@dataclass(frozen=True)
class Movement:
    warehouse: str
    sku: str
    kind: str               # receipt | reserve | release | ship | restock | repair | scrap | adjust | import
    d_on_hand: int = 0
    d_reserved: int = 0
    d_quarantine: int = 0


@dataclass(frozen=True)
class Shortfall:
    warehouse: str
    sku: str
    wanted: int
    available: int


def available_stock(cur, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Available (on hand − reserved) per (warehouse, sku); missing pairs count as 0."""
    if not pairs:
        return {}
    rows = cur.execute(
        "SELECT warehouse, sku, on_hand - reserved FROM stock_balances"
        " WHERE (warehouse, sku) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))",
        [[w for w, _ in pairs], [s for _, s in pairs]]).fetchall()
    found = {(w, s): int(a) for w, s, a in rows}
    return {pair: found.get(pair, 0) for pair in pairs}


def shortfalls(cur, wanted: dict[tuple[str, str], int]) -> list[Shortfall]:
    """Pairs whose available stock is below the wanted quantity."""
    have = available_stock(cur, list(wanted))
    return [Shortfall(w, s, qty, have[(w, s)]) for (w, s), qty in wanted.items() if qty > have[(w, s)]]


def apply_movements(cur, movements: list[Movement], actor: User | None, *, ref_type: str | None,
                    ref_id: int | None, order_no: str | None = None, note: str | None = None,
                    at: datetime | None = None) -> None:
    """Append the ledger rows and update the balances in the caller's transaction.

    Refuses (RuleViolation) any movement that would make on-hand, reserved, available or quarantine
    stock negative, so a balance never goes below zero whatever the caller computed.
    """
    at = at or clock.now()
    for m in movements:
        _ensure_balance_row(cur, m.warehouse, m.sku, at)
        changed = cur.execute(
            "UPDATE stock_balances SET on_hand = on_hand + ?, reserved = reserved + ?,"
            " quarantine = quarantine + ?, updated_at = ?"
            " WHERE warehouse = ? AND sku = ? AND on_hand + ? >= 0 AND reserved + ? >= 0"
            " AND quarantine + ? >= 0 AND (on_hand + ?) - (reserved + ?) >= least(0, on_hand - reserved)",
            [m.d_on_hand, m.d_reserved, m.d_quarantine, at, m.warehouse, m.sku, m.d_on_hand,
             m.d_reserved, m.d_quarantine, m.d_on_hand, m.d_reserved]).fetchall()[0][0]
        if not changed:   # counted, not RETURNING: an in-place update (see lib.services.void_writes._CLAIM_ONE)
            raise RuleViolation("stock.would_go_negative", warehouse=m.warehouse, sku=m.sku)
        cur.execute(
            "INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand, d_reserved,"
            " d_quarantine, ref_type, ref_id, order_no, actor_id, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [at, m.warehouse, m.sku, m.kind, m.d_on_hand, m.d_reserved, m.d_quarantine, ref_type,
             ref_id, order_no, actor.id if actor else None, note])


def _ensure_balance_row(cur, warehouse: str, sku: str, at: datetime) -> None:
    cur.execute("INSERT INTO stock_balances (warehouse, sku, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", [warehouse, sku, at])
