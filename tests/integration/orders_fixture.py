"""Orders inserted directly (fast, with exact timestamps) on top of the `shop` fixture, for read-side tests."""
from datetime import datetime

from lib.queries.main_line import ALL_LINES, set_main_skus

# order_no, customer, rep, assignee, warehouse, status, payment, total, created_at, lines (sku, qty, price)
ORDERS = [
    ("SO-2024011", "CUS-2", "sales2", None, "SH", "archived", "paid", "50.00", "2023-12-31 08:00:00",
     [("TOY-1", 1, "50.00")]),
    ("SO-20240105-00001", "CUS-1", "sales", "ops", "SH", "pending", "unpaid", "2999.00", "2024-01-05 09:00:00",
     [("PHN-1", 1, "2999.00")]),
    ("SO-20240105-00002", "CUS-2", "sales2", None, "SH", "processing", "paid", "6500.00", "2024-01-05 15:30:00",
     [("PHN-2", 1, "6500.00")]),
    ("SO-20240110-00001", "CUS-1", "sales", "ops_lead", "GZ", "shipped", "paid", "199.00", "2024-01-10 23:59:59",
     [("TOY-1", 2, "99.50")]),
    ("SO-20240110-00012", "CUS-3", "sales2", "ops", "SH", "voided", "refunded", "12000.00", "2024-01-11 00:00:00",
     [("PHN-1", 4, "3000.00")]),
    ("SO-20240201-00001", "CUS-2", "sales", None, "GZ", "completed", "partially_refunded", "3098.50",
     "2024-02-01 12:00:00", [("PHN-1", 1, "2999.00"), ("TOY-1", 1, "99.50")]),
]
NUMBERS = [o[0] for o in ORDERS]


def add_customer(db, code: str, name: str) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO customers (code, name) VALUES (?, ?)", [code, name])


def insert_order(db, order_no, customer="CUS-1", rep="sales", assignee=None, warehouse="SH", status="pending",
                 payment="unpaid", total="100.00", created="2024-01-01 10:00:00", lines=(("PHN-1", 1, "100.00"),)):
    """One order and its lines; users and customers by username / code. Returns the order id."""
    created = datetime.fromisoformat(created)
    with db.transaction() as cur:
        order_id = cur.execute(
            "INSERT INTO orders (order_no, customer_id, rep_id, assignee_id, warehouse, status, payment_status,"
            " total, amount_paid, created_at, updated_at)"
            " SELECT ?, (SELECT id FROM customers WHERE code = ?), (SELECT id FROM users WHERE username = ?),"
            " (SELECT id FROM users WHERE username = ?), ?, ?, ?, ?,"
            " CASE WHEN ? = 'unpaid' THEN 0 ELSE CAST(? AS DECIMAL(14, 2)) END, ?, ?"
            " RETURNING id",
            [order_no, customer, rep, assignee, warehouse, status, payment, total, payment, total, created,
             created]).fetchall()[0][0]
        for line_no, (sku, qty, price) in enumerate(lines, start=1):
            cur.execute("INSERT INTO order_lines (order_id, line_no, sku, qty, unit_price) VALUES (?, ?, ?, ?, ?)",
                        [order_id, line_no, sku, qty, price])
        set_main_skus(cur, f"{ALL_LINES} WHERE order_id = ?", [order_id])
    return order_id


def add_orders(shop) -> dict[str, int]:
    """The ORDERS above (plus customer CUS-3 with markup and quotes in its name); order_no -> id."""
    add_customer(shop.db, "CUS-3", "O'Brien <b>& Sons</b>")
    return {o[0]: insert_order(shop.db, *o) for o in ORDERS}
