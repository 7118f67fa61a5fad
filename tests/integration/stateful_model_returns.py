"""The rest of the stateful test's model: returns, inspection, refunds paid out, stock adjustments (SPEC §5–§7),
and the rules (approval threshold, sales void requests; SPEC §9).

Same contract as stateful_model.World: each verb returns the refusal class or `apply(result, db)`.
"""
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lib.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from tests.integration.stateful_checks import lookup
from tests.integration.stateful_model import MAY, RETURN_REASONS, SKUS, WAREHOUSES, ZERO, Refund
from tests.integration.stateful_model_voids import VoidModel

DISPOSITIONS = ("restock", "repair", "scrap")
CENT = Decimal("0.01")


@dataclass
class Note:
    no: str
    id: int
    order_no: str
    warehouse: str
    lines: dict[str, int]
    status: str = "requested"
    refund: Refund | None = field(default=None, repr=False)


class Model(VoidModel):
    """The whole model: orders, voids, and here return notes, inspection, refund payments, stock adjustments, rules."""

    def refundable(self, order_no: str) -> Decimal:
        """Paid in less refunds owed or paid out on the order."""
        live = sum((r.amount for r in self.refunds.values() if r.order_no == order_no and r.status != "cancelled"),
                   ZERO)
        return max(self.orders[order_no].paid - live, ZERO)

    def create_return(self, actor, order_no, wanted: list[tuple[str, int]], reason, note, warehouse, refund):
        """`refund`: None (the default amount), or a string as typed."""
        if self.role(actor) not in MAY["return.create"]:
            return PermissionDenied
        if any(q < 0 for _, q in wanted) or not any(q for _, q in wanted):
            return InvalidInput
        o = self.orders.get(order_no)
        if o is None:
            return NotFound
        if o.status not in ("shipped", "completed"):
            return RuleViolation
        if reason not in RETURN_REASONS or (reason == "other" and not (note or "").strip()):
            return InvalidInput
        into = warehouse or o.warehouse
        if into not in WAREHOUSES:
            return InvalidInput
        taken = [(s, q) for s, q in wanted if q]
        for s, q in taken:
            if s not in o.lines:
                return InvalidInput
            if q > o.lines[s].shipped - o.lines[s].returned:
                return RuleViolation
        value = sum((o.lines[s].price * q for s, q in taken), ZERO)
        limit = min(value, self.refundable(order_no))
        amount = limit if refund is None else Decimal(refund).quantize(CENT)
        if amount < 0:
            return InvalidInput
        if (amount > 0 and o.paid == 0) or amount > limit:
            return RuleViolation

        def apply(result, db):
            assert Decimal(result["refund"]) == amount, (result, amount)
            nid = lookup(db, "SELECT id FROM return_notes WHERE return_no = ?", [result["return_no"]])
            n = self.notes[result["return_no"]] = Note(result["return_no"], nid, o.no, into, dict(taken))
            for s, q in taken:
                o.lines[s].returned += q
            o.version += 1
            self.audit["return.create"] += 1
            if amount > 0:
                n.refund = self.add_refund(db, o, "return", nid, amount, note_no=n.no)
        return apply

    def receive(self, actor, return_no):
        if self.role(actor) not in MAY["return.inspect"]:
            return PermissionDenied
        n = self.notes.get(return_no)
        if n is None:
            return NotFound
        if n.status != "requested":
            return RuleViolation

        def apply(result, db):
            n.status = "received"
            self.audit["return.receive"] += 1
        return apply

    def inspect(self, actor, return_no, dispositions: dict[str, str], receive: bool):
        if self.role(actor) not in MAY["return.inspect"]:
            return PermissionDenied
        if any(d not in DISPOSITIONS for d in dispositions.values()):
            return InvalidInput
        n = self.notes.get(return_no)
        if n is None:
            return NotFound
        receives = receive and n.status == "requested"
        if n.status != "received" and not receives:
            return RuleViolation
        if set(dispositions) != set(n.lines):
            return InvalidInput

        def apply(result, db):
            if receives:
                self.audit["return.receive"] += 1
            for s, q in n.lines.items():
                d = dispositions[s]
                self.move(n.warehouse, s, on=q if d == "restock" else 0, q=q if d == "repair" else 0)
            n.status = "inspected"
            self.audit["return.inspect"] += 1
            self._close_if_settled(n)
            assert result["status"] == n.status, (result, n)
        return apply

    def _close_if_settled(self, n: Note) -> None:
        if n.status == "inspected" and not (n.refund and n.refund.status == "pending"):
            n.status = "closed"
            self.audit["return.close"] += 1

    def mark_paid(self, actor, refund_id, payment_ref):
        if self.role(actor) not in MAY["refund.pay"]:
            return PermissionDenied
        if not (payment_ref or "").strip():
            return InvalidInput
        r = self.refunds.get(refund_id)
        if r is None:
            return NotFound
        if r.status != "pending":
            return RuleViolation

        def apply(result, db):
            o = self.orders[r.order_no]
            r.status, o.refunded, o.version = "paid", o.refunded + r.amount, o.version + 1
            self.audit["refund.paid"] += 1
            assert result["payment_status"] == o.payment_status, (result, o)
            if r.note_no:
                self._close_if_settled(self.notes[r.note_no])
        return apply

    def adjust(self, actor, warehouse, sku, d_on, d_q, reason):
        if self.role(actor) not in MAY["stock.adjust"]:
            return PermissionDenied
        if not (reason or "").strip() or (d_on == 0 and d_q == 0):
            return InvalidInput
        if warehouse not in WAREHOUSES or sku not in SKUS:
            return InvalidInput
        on, res, q = self.stock.get((warehouse, sku), [0, 0, 0])
        if on + d_on < 0 or q + d_q < 0 or on + d_on - res < min(0, on - res):
            return RuleViolation

        def apply(result, db):
            self.move(warehouse, sku, on=d_on, q=d_q)
            self.audit["stock.adjust"] += 1
        return apply

    def change_rules(self, actor, threshold: str, sales_may_request: bool):
        """`threshold` as typed on the rules page."""
        if self.role(actor) not in MAY["settings.edit"]:
            return PermissionDenied
        try:
            amount = Decimal(threshold)
        except InvalidOperation:
            return InvalidInput
        if amount < 0 or amount != amount.quantize(CENT):
            return InvalidInput

        def apply(result, db):
            changed = {"approval_threshold": amount != self.threshold,
                       "sales_may_request_voids": sales_may_request != self.sales_may_request}
            assert set(result) == {k for k, v in changed.items() if v}, (result, changed)
            self.audit["settings.update"] += sum(changed.values())
            self.threshold, self.sales_may_request = amount.quantize(CENT), sales_may_request
        return apply
