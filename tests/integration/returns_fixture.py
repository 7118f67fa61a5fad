"""Shipped orders made through the real services, on top of the `shop` fixture, for the returns tests."""
from lib.db import rows_as_dicts
from lib.services import orders
from lib.services.orders import LineInput


def shipped_order(shop, paid: bool = True, lines=None, warehouse: str = "SH") -> str:
    """An order of 2 × PHN-1 (2,999.00) and 3 × TOY-1 (99.50) = 6,296.50, created by ops for rep `sales`,
    moved to shipped; returns its number."""
    ops = shop.users["ops"]
    lines = lines or [LineInput("PHN-1", 2), LineInput("TOY-1", 3)]
    order_no = orders.create_order(shop.db, ops, "CUS-1", warehouse, lines, rep="sales", paid=paid)["order_no"]
    orders.change_status(shop.db, ops, order_no, "processing")
    orders.change_status(shop.db, ops, order_no, "shipped")
    return order_no


def order_row(db, order_no: str) -> dict:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM orders WHERE order_no = ?", [order_no])[0]


def returned(db, order_no: str) -> dict[str, int]:
    """sku -> qty_returned of the order's lines."""
    with db.read() as cur:
        return dict(cur.execute("SELECT l.sku, l.qty_returned FROM order_lines l JOIN orders o ON o.id = l.order_id"
                                " WHERE o.order_no = ? ORDER BY l.line_no", [order_no]).fetchall())


def count(db, sql: str, params=None) -> int:
    with db.read() as cur:
        return cur.execute(sql, params or []).fetchall()[0][0]
