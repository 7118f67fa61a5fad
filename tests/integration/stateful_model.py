"""A plain-Python model of VoidDesk for the stateful test (issue #8): for each service call, either the refusal
it must raise (checked in the order the service checks) or `apply(result, db)`, which moves the model the way
the database must have moved. Written from SPEC §1–§7, not from lib/, so the two can disagree.

The state and orders live here, voids in stateful_model_voids, returns, refunds paid and stock adjustments
in stateful_model_returns (whose Model is the whole of it).
"""
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from tests.integration.stateful_checks import lookup

ZERO = Decimal("0.00")
THRESHOLD = Decimal("10000")   # default approval threshold (the rules can change it)
PRICES = {"PHN-1": Decimal("2999.00"), "PHN-2": Decimal("6500.00"), "TOY-1": Decimal("99.50")}
SKUS = (*PRICES, "OLD-1")      # OLD-1 exists but is retired: no new orders
WAREHOUSES = ("SH", "GZ")
VOID_REASONS = ("customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "other")
RETURN_REASONS = ("quality", "changed_mind", "wrong_item", "damaged", "other")
OPEN = ("pending", "processing")
NEXT = {"pending": "processing", "processing": "shipped", "shipped": "completed", "completed": "archived",
        "voided": "archived"}

# Who may do what, written down from SPEC §1 (independently of lib.domain.PERMISSIONS).
_OPS, _LEADS = {"ops", "ops_lead", "admin"}, {"ops_lead", "admin"}
MAY = {"order.create": {"sales"} | _OPS, "order.change_status": _OPS, "order.assign": _OPS,
       "order.comment": {"sales", "finance", "warehouse"} | _OPS, "void.create": _OPS,
       "void.request": {"sales"} | _OPS, "void.approve": _LEADS, "void.restore": _LEADS,
       "return.create": _OPS, "return.inspect": {"warehouse"} | _LEADS, "refund.pay": {"finance", "admin"},
       "stock.adjust": _LEADS, "settings.edit": _LEADS}


@dataclass
class Line:
    qty: int
    price: Decimal
    shipped: int = 0
    returned: int = 0


@dataclass
class Refund:
    id: int
    order_no: str
    source: str
    amount: Decimal
    status: str = "pending"
    note_no: str | None = None   # the return note it pays back


@dataclass
class Void:
    id: int
    status: str
    requested_by: str
    status_before: str | None = None
    refund: Refund | None = None


@dataclass
class Order:
    no: str
    rep: str | None
    warehouse: str
    lines: dict[str, Line]
    paid: Decimal
    status: str = "pending"
    version: int = 1
    refunded: Decimal = ZERO
    assignee: str | None = None
    voids: list[Void] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((ln.qty * ln.price for ln in self.lines.values()), ZERO)

    @property
    def request(self) -> Void | None:
        return next((v for v in self.voids if v.status == "pending_approval"), None)

    @property
    def payment_status(self) -> str:
        if self.paid <= 0:
            return "unpaid"
        return "refunded" if self.refunded >= self.paid else "partially_refunded" if self.refunded > 0 else "paid"


class World:
    """The model: orders, return notes, refunds, stock per (warehouse, sku) and audit entries per action."""

    def __init__(self, roles: dict[str, str], stock: dict[tuple[str, str], tuple[int, int, int]]):
        self.roles = roles   # username -> role
        self.orders: dict[str, Order] = {}
        self.notes: dict = {}
        self.refunds: dict[int, Refund] = {}
        self.stock = {pair: list(v) for pair, v in stock.items()}
        self.audit: Counter = Counter()
        self.threshold, self.sales_may_request = THRESHOLD, True   # the rules in force

    # --- helpers ------------------------------------------------------------------------------------

    def role(self, actor: str) -> str:
        return self.roles[actor]

    def visible(self, actor: str, order_no: str) -> Order | None:
        o = self.orders.get(order_no)
        return None if o is None or (self.role(actor) == "sales" and o.rep != actor) else o

    def balance(self, warehouse: str, sku: str) -> list[int]:
        return self.stock.setdefault((warehouse, sku), [0, 0, 0])

    def move(self, warehouse: str, sku: str, on: int = 0, res: int = 0, q: int = 0) -> None:
        b = self.balance(warehouse, sku)
        b[0], b[1], b[2] = b[0] + on, b[1] + res, b[2] + q

    def available(self, warehouse: str, sku: str) -> int:
        b = self.stock.get((warehouse, sku), [0, 0, 0])
        return b[0] - b[1]

    def add_refund(self, db, order: Order, source: str, source_id: int, amount: Decimal, note_no=None) -> Refund:
        rid = lookup(db, "SELECT id FROM refunds WHERE source = ? AND source_id = ?", [source, source_id])
        refund = self.refunds[rid] = Refund(rid, order.no, source, amount, note_no=note_no)
        self.audit["refund.create"] += 1
        return refund

    # --- orders ---------------------------------------------------------------------------------------

    def create_order(self, actor, customer, warehouse, lines, paid, rep):
        if self.role(actor) not in MAY["order.create"]:
            return PermissionDenied
        if customer not in ("CUS-1", "CUS-2") or warehouse not in WAREHOUSES or not lines:
            return InvalidInput
        skus = [s for s, _ in lines]
        if len(set(skus)) < len(skus) or any(s not in PRICES or q <= 0 for s, q in lines):
            return InvalidInput
        if any(q > self.available(warehouse, s) for s, q in lines):
            return RuleViolation
        is_sales = self.role(actor) == "sales"
        if not is_sales and rep is not None and self.roles.get(rep) != "sales":
            return InvalidInput

        def apply(result, db):
            o = Order(result["order_no"], actor if is_sales else rep, warehouse,
                      {s: Line(q, PRICES[s]) for s, q in lines}, ZERO)
            o.paid = o.total if paid else ZERO
            self.orders[o.no] = o
            for s, q in lines:
                self.move(warehouse, s, res=q)
            self.audit["order.create"] += 1
        return apply

    def copy_order(self, actor, order_no):
        if self.role(actor) not in MAY["order.create"]:
            return PermissionDenied
        o = self.visible(actor, order_no)
        if o is None:
            return NotFound
        if any(ln.qty > self.available(o.warehouse, s) for s, ln in o.lines.items()):
            return RuleViolation

        def apply(result, db):
            rep = actor if self.role(actor) == "sales" else o.rep
            self.orders[result["order_no"]] = Order(result["order_no"], rep, o.warehouse,
                                                    {s: Line(ln.qty, ln.price) for s, ln in o.lines.items()}, ZERO)
            for s, ln in o.lines.items():
                self.move(o.warehouse, s, res=ln.qty)
            self.audit["order.create"] += 1
        return apply

    def change_status(self, actor, order_no, to, stale):
        if self.role(actor) not in MAY["order.change_status"]:
            return PermissionDenied
        o = self.visible(actor, order_no)
        if o is None:
            return NotFound
        if stale:
            return ConcurrentChange
        if o.status == "archived" or NEXT.get(o.status) != to or (to == "shipped" and o.request):
            return RuleViolation

        def apply(result, db):
            if to == "shipped":
                for s, ln in o.lines.items():
                    self.move(o.warehouse, s, on=-ln.qty, res=-ln.qty)
                    ln.shipped = ln.qty
            o.status, o.version = to, o.version + 1
            self.audit["order.status"] += 1
        return apply

    def assign(self, actor, order_no, to):
        if self.role(actor) not in MAY["order.assign"]:
            return PermissionDenied
        o = self.visible(actor, order_no)
        if o is None:
            return NotFound
        if o.status == "archived":
            return RuleViolation
        if to not in self.roles:
            return InvalidInput

        def apply(result, db):
            if o.assignee != to:
                o.assignee, o.version = to, o.version + 1
                self.audit["order.assign"] += 1
        return apply

    def comment(self, actor, order_no, body):
        if self.role(actor) not in MAY["order.comment"]:
            return PermissionDenied
        if not (body or "").strip():
            return InvalidInput
        o = self.visible(actor, order_no)
        if o is None:
            return NotFound
        if o.status == "archived":
            return RuleViolation
        return lambda result, db: self.audit.update(["order.comment"])

    # --- what the database should look like -----------------------------------------------------------

    def snapshot(self) -> dict:
        """The same shape as stateful_checks.snapshot(db)."""
        orders = {o.no: {"status": o.status, "payment_status": o.payment_status, "amount_paid": o.paid,
                         "amount_refunded": o.refunded, "version": o.version, "total": o.total, "rep": o.rep,
                         "assignee": o.assignee,
                         "lines": {s: (ln.qty, ln.shipped, ln.returned) for s, ln in o.lines.items()}}
                  for o in self.orders.values()}
        return {"orders": orders,
                "voids": {o.no: [v.status for v in o.voids] for o in self.orders.values() if o.voids},
                "refunds": {r.id: (r.order_no, r.source, r.amount, r.status) for r in self.refunds.values()},
                "notes": {n.no: (n.order_no, n.status, n.warehouse, dict(n.lines)) for n in self.notes.values()},
                "stock": {p: tuple(b) for p, b in self.stock.items() if tuple(b) != (0, 0, 0)},
                "audit": +self.audit}
