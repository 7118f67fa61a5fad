"""Orders to void, on top of the `shop` fixture: one through the service, or many at once in bulk SQL."""
from lib.db import rows_as_dicts
from lib.queries.main_line import ALL_LINES, set_main_skus
from lib.services import orders
from lib.services.orders import LineInput

DEFAULT_LINES = (("PHN-1", 2), ("TOY-1", 3))   # 6,296.50: below the approval threshold


def make_order(shop, *, lines=DEFAULT_LINES, paid=False, rep="sales", by="ops", status="pending") -> str:
    """An order created through the service (stock reserved through the ledger), moved on to `status`."""
    result = orders.create_order(shop.db, shop.users[by], "CUS-1", "SH", [LineInput(s, q) for s, q in lines],
                                 rep=None if by == "sales" else rep, paid=paid)
    for step in ("processing", "shipped", "completed")[:("pending", "processing", "shipped", "completed")
                                                         .index(status)]:
        orders.change_status(shop.db, shop.users["ops"], result["order_no"], step)
    return result["order_no"]


def bulk_orders(db, n: int, *, sku="BULK-1", warehouse="SH", qty=1, price="10.00", rep="sales", paid=True,
                prefix="BK") -> list[str]:
    """n pending orders of one line each, with their stock received and reserved through the ledger."""
    with db.transaction() as cur:
        cur.execute("INSERT INTO products VALUES (?, 'Bulk item', 'toys', ?, TRUE) ON CONFLICT DO NOTHING",
                    [sku, price])
        cur.execute("INSERT INTO stock_balances (warehouse, sku, updated_at) VALUES (?, ?, now())"
                    " ON CONFLICT DO NOTHING", [warehouse, sku])
        cur.execute("""
            INSERT INTO orders (order_no, customer_id, rep_id, warehouse, status, payment_status, total, amount_paid,
                                created_at, updated_at)
            SELECT ? || '-' || lpad(i::VARCHAR, 6, '0'), (SELECT min(id) FROM customers), (SELECT id FROM users WHERE username = ?),
                   ?, 'pending', CASE WHEN ? THEN 'paid' ELSE 'unpaid' END, ? * ?::DECIMAL(14, 2),
                   CASE WHEN ? THEN ? * ?::DECIMAL(14, 2) ELSE 0 END, now(), now()
            FROM generate_series(0, ?::BIGINT - 1) r(i)""", [prefix, rep, warehouse, paid, qty, price, paid, qty, price, n])
        cur.execute("INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price)"
                    " SELECT id, 1, ?, ?, ? FROM orders WHERE starts_with(order_no, ? || '-')",
                    [sku, qty, price, prefix])
        set_main_skus(cur, ALL_LINES)
        cur.execute("INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_on_hand, ref_type)"
                    " VALUES (now(), ?, ?, 'receipt', ?, 'receipt')", [warehouse, sku, n * qty + 10])
        cur.execute("INSERT INTO stock_ledger (created_at, warehouse, sku, kind, d_reserved, ref_type, ref_id,"
                    " order_no) SELECT now(), ?, ?, 'reserve', ?, 'order', id, order_no FROM orders"
                    " WHERE starts_with(order_no, ? || '-')", [warehouse, sku, qty, prefix])
        cur.execute("UPDATE stock_balances SET on_hand = on_hand + ?, reserved = reserved + ?"
                    " WHERE warehouse = ? AND sku = ?", [n * qty + 10, n * qty, warehouse, sku])
        return [r[0] for r in cur.execute("SELECT order_no FROM orders WHERE starts_with(order_no, ? || '-')"
                                          " ORDER BY order_no", [prefix]).fetchall()]


def order_row(db, order_no: str) -> dict:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM orders WHERE order_no = ?", [order_no])[0]


def voids_of(db, order_no: str) -> list[dict]:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM voids WHERE order_no = ? ORDER BY id", [order_no])


def refunds_of(db, order_no: str) -> list[dict]:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM refunds WHERE order_no = ? ORDER BY id", [order_no])


def inbox(db, order_no: str) -> list[tuple[str, str]]:
    """(username, kind) of the notifications about an order, sorted."""
    with db.read() as cur:
        return sorted(cur.execute("SELECT u.username, n.kind FROM notifications n JOIN users u ON u.id = n.user_id"
                                  " WHERE n.order_no = ?", [order_no]).fetchall())


def audit_of(db, order_no: str, action: str) -> list[dict]:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM audit_log WHERE order_no = ? AND action = ? ORDER BY id",
                             [order_no, action])
