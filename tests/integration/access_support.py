"""What the access matrix and the fuzz tests share: a fingerprint of the whole database (to prove a refusal
changed nothing) and records in the states a call needs (made through the real services on the `shop` fixture)."""
from lib.db import dialect, scalar
from lib.domain import User
from lib.services import inspection, orders, returns, voids
from lib.services.orders import LineInput
from lib.services.stock import Movement, apply_movements

STEPS = ("pending", "processing", "shipped", "completed")


def fingerprint(db) -> dict[str, tuple[int, int]]:
    """table -> (row count, hash of every row), over every table of the database: equal means nothing was written
    (but the audit entry of a failed import)."""
    with db.read() as cur:
        tables = [r[0] for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        row_hash = dialect(cur, duckdb="coalesce(sum(hash(t)), 0)::HUGEINT",
                           postgresql="coalesce(sum(hashtextextended(t::text, 0)), 0)")
        # a failed import's own audit entry (import.fail) is all it writes: a refusal still changes nothing else
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*), {row_hash} FROM \"{t}\" t"
                                 + (" WHERE t.action <> 'import.fail'" if t == "audit_log" else "") for t in tables)
        return {name: (n, h) for name, n, h in cur.execute(sql).fetchall()}


def restock(shop, units: int = 100_000) -> None:
    """Plenty of TOY-1 in SH, so every arranged order finds stock."""
    with shop.db.transaction() as cur:
        apply_movements(cur, [Movement("SH", "TOY-1", "receipt", d_on_hand=units)], None, ref_type="receipt",
                        ref_id=None)


def rep_for(user: User) -> str:
    """The sales rep of an arranged order: the user themself when a sales rep (they see only their own)."""
    return user.username if user.role == "sales" else "sales"


def order_for(shop, user: User, status: str = "pending", paid: bool = False, qty: int = 1) -> str:
    """A TOY-1 order made by ops for `user` (see rep_for), moved on to `status`."""
    ops = shop.users["ops"]
    order_no = orders.create_order(shop.db, ops, "CUS-1", "SH", [LineInput("TOY-1", qty)], rep=rep_for(user),
                                   paid=paid)["order_no"]
    for step in STEPS[1:STEPS.index(status) + 1]:
        orders.change_status(shop.db, ops, order_no, step)
    return order_no


def other_reps_order(shop) -> str:
    """An order of the rep `sales2`: not visible to the sales rep `sales`."""
    return order_for(shop, shop.users["sales2"])


def requested_void(shop, user: User) -> str:
    """An order whose void the sales rep `sales` requested: it waits for a lead."""
    order_no = order_for(shop, shop.users["sales"])
    voids.void_order(shop.db, shop.users["sales"], order_no, "customer_cancelled")
    return order_no


def voided(shop, user: User, paid: bool = False) -> str:
    """An order voided by ops just now (a paid one owes a pending refund)."""
    order_no = order_for(shop, user, paid=paid)
    voids.void_order(shop.db, shop.users["ops"], order_no, "customer_cancelled")
    return order_no


def pending_refund(shop, user: User) -> int:
    """The id of the pending refund of a paid order voided just now."""
    order_no = voided(shop, user, paid=True)
    with shop.db.read() as cur:
        return scalar(cur, "SELECT id FROM refunds WHERE order_no = ? AND status = 'pending'", [order_no])


def return_note(shop, user: User, status: str = "requested", paid: bool = False) -> str:
    """A return note of one TOY-1 of a shipped order (of `user` when a sales rep), moved on to `status`."""
    order_no = order_for(shop, user, status="shipped", paid=paid)
    return_no = returns.create_return(shop.db, shop.users["ops"], order_no, {"TOY-1": 1}, "damaged")["return_no"]
    warehouse = shop.users["warehouse"]
    if status in ("received", "inspected"):
        inspection.receive_return(shop.db, warehouse, return_no)
    if status == "inspected":
        inspection.inspect_return(shop.db, warehouse, return_no, {"TOY-1": "restock"})
    return return_no


def order_id(shop, order_no: str) -> int:
    with shop.db.read() as cur:
        return scalar(cur, "SELECT id FROM orders WHERE order_no = ?", [order_no])
