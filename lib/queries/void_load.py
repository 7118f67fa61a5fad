"""What a void reads (SPEC §4): the orders, their pending requests, the active reasons, the void a restore undoes.

Plain reads in the caller's cursor, shared by the impact preview (lib.queries.voids) and the verbs
(lib.services.voids, inside their transaction).
"""
from lib.db import for_update, memo, rows_as_dicts
from lib.void_checks import Reason

ORDER_COLUMNS = ("id, order_no, customer_id, rep_id, warehouse, status, total, amount_paid, amount_refunded,"
                 " version, void_requested")


def find_reason(cur, code: str | None) -> Reason | None:
    """The active void reason with its labels as they read now, or None."""
    return memo(cur, "void_reasons", _active_void_reasons).get((code or "").strip())


def _active_void_reasons(cur) -> dict[str, Reason]:
    return {r[0]: Reason(*r) for r in cur.execute("SELECT code, label_en, label_zh, note_required FROM reasons"
                                                  " WHERE kind = 'void' AND active").fetchall()}


def load_orders(cur, order_nos: list[str]) -> dict[str, dict]:
    """order_no -> the order row (the columns a void needs)."""
    rows = rows_as_dicts(cur, f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_no = ANY(?) ORDER BY id{for_update(cur)}",
                         [list(order_nos)])
    return {r["order_no"]: r for r in rows}


def pending_requests(cur, order_ids: list[int]) -> dict[int, dict]:
    """order id -> its newest void request waiting for approval."""
    if not order_ids:
        return {}
    which, param = ("order_id = ?", order_ids[0]) if len(order_ids) == 1 else ("order_id = ANY(?)",
                                                                               list(order_ids))
    rows = rows_as_dicts(cur, f"SELECT * FROM voids WHERE {which} AND status = 'pending_approval'"
                              " ORDER BY requested_at, id", [param])
    return {r["order_id"]: r for r in rows}


def applied_void(cur, order_id: int) -> dict | None:
    """The order's newest void in effect (the one a restore undoes), or None."""
    rows = rows_as_dicts(cur, "SELECT * FROM voids WHERE order_id = ? AND status = 'applied'"
                              " ORDER BY applied_at DESC, id DESC LIMIT 1", [order_id])
    return rows[0] if rows else None


def void_refunds(cur, void_id: int) -> list[dict]:
    """The refunds a void created: {id, amount, status}."""
    return rows_as_dicts(cur, "SELECT id, amount, status FROM refunds WHERE source = 'void' AND source_id = ?",
                         [void_id])


def open_quantities(cur, order: dict) -> dict[tuple[str, str], int]:
    """(warehouse, sku) -> the quantity of the order not shipped (what its reservation holds), by SKU."""
    lines = cur.execute("SELECT sku, sum(qty - qty_shipped)::BIGINT FROM order_lines WHERE order_id = ?"
                        " GROUP BY sku HAVING sum(qty - qty_shipped) > 0 ORDER BY sku", [order["id"]]).fetchall()
    return {(order["warehouse"], sku): int(qty) for sku, qty in lines}
