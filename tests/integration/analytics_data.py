"""A hand-made order book for the analytics tests: orders, voids, refunds and returns with exact timestamps,
inserted straight into the tables, plus plain-Python answers computed from the same rows.

The answers are deliberately written as simple loops over the Python rows — an independent second
computation of every figure the SQL produces.
"""
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lib.db import insert_rows
from lib.queries.main_line import ALL_LINES, set_main_skus
from lib.services.void_writes import mark_void_requests

PRICES = {"PHN-1": 2999, "PHN-2": 6500, "TOY-1": 99.5, "OLD-1": 10}
CATEGORY = {"PHN-1": "phones", "PHN-2": "phones", "TOY-1": "toys", "OLD-1": "toys"}
VOID_REASONS = ("customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "legacy_code")
RETURN_REASONS = ("quality", "changed_mind", "wrong_item", "damaged")
START = datetime(2024, 1, 1)
DAYS = 91                      # orders from 1 January to 31 March 2024
BUCKETS = (("lt_1h", 1), ("1h_1d", 24), ("1d_3d", 72), ("3d_7d", 168), ("gt_7d", math.inf))


@dataclass
class Order:
    no: str
    customer: str
    rep: str
    warehouse: str
    created: datetime
    lines: list               # [sku, qty, qty_shipped]
    shipped: datetime | None = None

    @property
    def total(self) -> float:
        return sum(q * PRICES[s] for s, q, _ in self.lines)

    @property
    def categories(self) -> set[str]:
        return {CATEGORY[s] for s, _, _ in self.lines}


@dataclass
class Void:
    order: Order
    status: str
    reason: str
    requested: datetime
    needs_approval: bool
    decided: datetime | None
    applied: datetime | None
    refund: tuple | None = None      # (amount, status)


@dataclass
class Return:
    order: Order
    reason: str
    created: datetime
    lines: list               # [sku, qty, disposition or None]
    refund: tuple | None = None


@dataclass
class Book:
    orders: list = field(default_factory=list)
    voids: list = field(default_factory=list)
    returns: list = field(default_factory=list)


def make_book(seed: int = 11, n: int = 240) -> Book:
    """A random but fixed order book: a third of the orders voided (some restored, rejected or pending)."""
    rng = random.Random(seed)
    book = Book()
    for i in range(n):
        created = START + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        skus = rng.sample(sorted(PRICES), rng.randint(1, 3))
        book.orders.append(Order(f"AN-{i:04d}", rng.choice(["CUS-1", "CUS-2"]), rng.choice(["sales", "sales2"]),
                                 rng.choice(["SH", "GZ"]), created, [[s, rng.randint(1, 4), 0] for s in skus]))
    book.orders.sort(key=lambda o: o.created)
    for o in book.orders:
        if rng.random() < 0.35:
            book.voids.append(_void(rng, o))
        if (not book.voids or book.voids[-1].order is not o or book.voids[-1].status in ("rejected", "restored")) \
                and rng.random() < 0.5:
            _ship(rng, o, book)
    return book


def _void(rng, o: Order) -> Void:
    status = rng.choices(["applied", "restored", "rejected", "pending_approval"], [0.6, 0.15, 0.1, 0.15])[0]
    requested = o.created + timedelta(hours=rng.choice([0.5, 5, 30, 100, 300]) + rng.random())
    needs = status in ("rejected", "pending_approval") or rng.random() < 0.5
    decided = requested + timedelta(hours=rng.uniform(0.2, 50)) if needs and status != "pending_approval" else None
    applied = (decided or requested) if status in ("applied", "restored") else None
    refund = None
    if applied and rng.random() < 0.6:
        refund = (round(o.total, 2), "cancelled" if status == "restored" else rng.choice(["pending", "paid"]))
    return Void(o, status, rng.choice(VOID_REASONS), requested, needs, decided, applied, refund)


def _ship(rng, o: Order, book: Book) -> None:
    o.shipped = o.created + timedelta(hours=rng.uniform(20, 80))
    for line in o.lines:
        line[2] = line[1]
    if rng.random() < 0.45:
        picked = rng.sample(o.lines, rng.randint(1, len(o.lines)))
        lines = [[s, rng.randint(1, shipped), rng.choice(["restock", "repair", "scrap", None])] for s, _, shipped in picked]
        value = round(sum(q * PRICES[s] for s, q, _ in lines), 2)
        refund = (value, rng.choice(["pending", "paid", "cancelled"])) if rng.random() < 0.7 else None
        book.returns.append(Return(o, rng.choice(RETURN_REASONS), o.shipped + timedelta(days=rng.uniform(1, 12)),
                                   lines, refund))


# --- writing -----------------------------------------------------------------------------------

def build_desk(path):
    """A database with the `shop` fixture's catalogue, customers and one user per role (without stock):
    SimpleNamespace(db, users, analyst)."""
    from types import SimpleNamespace

    from lib.db import Database, apply_migrations
    from tests.conftest import add_user

    db = Database(str(path))
    apply_migrations(db)
    with db.transaction() as cur:
        cur.execute("INSERT INTO warehouses VALUES ('SH', 'Shanghai', '上海仓'), ('GZ', 'Guangzhou', '广州仓')")
        cur.execute("INSERT INTO categories VALUES ('phones', 'Phones', '手机', 1), ('toys', 'Toys', '玩具', 2)")
        cur.execute("INSERT INTO products VALUES ('PHN-1', 'Phone One', 'phones', 2999.00, TRUE),"
                    " ('PHN-2', 'Phone Two', 'phones', 6500.00, TRUE), ('TOY-1', 'Robot 机器人', 'toys', 99.50, TRUE),"
                    " ('OLD-1', 'Retired thing', 'toys', 10, FALSE)")
        cur.execute("INSERT INTO customers (code, name, city) VALUES ('CUS-1', 'Acme Trading 艾克美', 'Shanghai'),"
                    " ('CUS-2', 'Beta Retail', 'Guangzhou')")
    users = {role: add_user(db, role, role) for role in
             ("sales", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin")}
    users["sales2"] = add_user(db, "sales2", "sales")
    return SimpleNamespace(db=db, users=users, analyst=users["analyst"])


_ORDER_COLUMNS = {"order_no": "VARCHAR", "customer_id": "INTEGER", "rep_id": "INTEGER", "warehouse": "VARCHAR",
                  "status": "VARCHAR", "payment_status": "VARCHAR", "total": "DECIMAL(14, 2)",
                  "created_at": "TIMESTAMP", "updated_at": "TIMESTAMP", "shipped_at": "TIMESTAMP"}
_LINE_COLUMNS = {"order_id": "BIGINT", "line_no": "INTEGER", "sku": "VARCHAR", "qty": "INTEGER",
                 "unit_price": "DECIMAL(14, 2)", "qty_shipped": "INTEGER"}


def insert_book(db, book: Book, shuffled: bool = False) -> None:
    """Write the book; `shuffled` inserts orders out of time order (ids no longer follow creation)."""
    orders = list(book.orders)
    if shuffled:
        random.Random(5).shuffle(orders)
    with db.transaction() as cur:
        customers = dict(cur.execute("SELECT code, id FROM customers").fetchall())
        users = dict(cur.execute("SELECT username, id FROM users").fetchall())
        # one statement per table (row by row took a second for 300 orders)
        ids = dict(insert_rows(cur, "orders", _ORDER_COLUMNS, [
            (o.no, customers.get(o.customer), users.get(o.rep), o.warehouse, "pending", "unpaid", float(o.total),
             o.created, o.created, o.shipped) for o in orders], returning="order_no, id")) if orders else {}
        lines = [(ids[o.no], n, sku, qty, float(PRICES[sku]), shipped)
                 for o in orders for n, (sku, qty, shipped) in enumerate(o.lines, start=1)]
        if lines:
            insert_rows(cur, "order_lines", _LINE_COLUMNS, lines)
        set_main_skus(cur, ALL_LINES)   # as every write of order lines keeps orders.main_sku
        for v in book.voids:
            _insert_void(cur, ids[v.order.no], v)
        mark_void_requests(cur)   # as the services keep orders.void_requested (once: it scans every order)
        for r in book.returns:
            _insert_return(cur, ids[r.order.no], r)


def _insert_void(cur, order_id: int, v: Void) -> None:
    label = {"legacy_code": ("Old wording", "旧说法")}.get(v.reason, ("copied label", "复制的标签"))
    void_id = cur.execute(
        "INSERT INTO voids (order_id, order_no, status, reason_code, reason_label_en, reason_label_zh, requested_at,"
        " needs_approval, decided_at, applied_at, amount_paid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [order_id, v.order.no, v.status, v.reason, *label, v.requested, v.needs_approval, v.decided, v.applied,
         v.refund[0] if v.refund else 0]).fetchall()[0][0]
    if v.refund:
        cur.execute("INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at)"
                    " VALUES (?, ?, 'void', ?, ?, ?, ?)", [order_id, v.order.no, void_id, *v.refund, v.applied])


def _insert_return(cur, order_id: int, r: Return) -> None:
    return_id = cur.execute(
        "INSERT INTO return_notes (return_no, order_id, order_no, status, reason_code, reason_label_en,"
        " reason_label_zh, warehouse, refund_amount, created_at) VALUES (?, ?, ?, 'requested', ?, 'x', 'x', ?, ?, ?)"
        " RETURNING id", [f"RT-{r.order.no}", order_id, r.order.no, r.reason, r.order.warehouse,
                          r.refund[0] if r.refund else 0, r.created]).fetchall()[0][0]
    for sku, qty, disposition in r.lines:
        cur.execute("INSERT INTO return_lines (return_id, order_line_id, sku, qty, unit_price, disposition)"
                    " VALUES (?, 0, ?, ?, ?, ?)", [return_id, sku, qty, PRICES[sku], disposition])
    if r.refund:
        cur.execute("INSERT INTO refunds (order_id, order_no, source, source_id, amount, status, created_at)"
                    " VALUES (?, ?, 'return', ?, ?, ?, ?)", [order_id, r.order.no, return_id, *r.refund, r.created])


# --- answers -----------------------------------------------------------------------------------

def in_days(t: datetime | None, first: date, last: date) -> bool:
    return t is not None and first <= t.date() <= last


def in_scope(o: Order, f) -> bool:
    return ((not f.warehouses or o.warehouse in f.warehouses) and (not f.reps or o.rep in f.reps)
            and (not f.categories or bool(o.categories & set(f.categories))))


def period_orders(book: Book, f) -> list[Order]:
    return [o for o in book.orders if in_days(o.created, f.date_from, f.date_to) and in_scope(o, f)]


def void_date(v: Void, f) -> datetime:
    return v.applied if f.basis == "event" else v.order.created


def counted_voids(book: Book, f) -> list[Void]:
    return [v for v in book.voids if v.status == "applied" and in_days(void_date(v, f), f.date_from, f.date_to)
            and in_scope(v.order, f) and (not f.reasons or v.reason in f.reasons)]


def period_start(t: datetime, grain: str) -> date:
    d = t.date()
    return {"day": d, "week": d - timedelta(days=d.weekday()), "month": d.replace(day=1)}[grain]


def wilson(hits: int, base: int, z: float = 1.96) -> float | None:
    if base == 0:
        return None
    p = min(hits / base, 1.0)
    centre = p + z * z / (2 * base)
    margin = z * math.sqrt(p * (1 - p) / base + z * z / (4 * base * base))
    return (centre - margin) / (1 + z * z / base)


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as DuckDB's quantile_cont)."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    return s[lo] + (s[min(lo + 1, len(s) - 1)] - s[lo]) * (pos - lo)


def hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def bucket_of(h: float) -> str:
    return next(name for name, limit in BUCKETS if h < limit)
