"""The stateful test's model of voids (SPEC §4): void now or request, batch, approve, reject, restore.

Same contract as stateful_model.World: each verb returns the refusal class or `apply(result, db)`.
"""
from lib.errors import ConcurrentChange, InvalidInput, NotFound, PermissionDenied, RuleViolation
from tests.integration.stateful_model import MAY, OPEN, VOID_REASONS, Order, Void, World


class VoidModel(World):
    """World plus voids, void requests and their decisions, restores."""

    def _void_refusal(self, actor, reason, note):
        role = self.role(actor)
        if role not in MAY["void.request" if role == "sales" else "void.create"]:
            return PermissionDenied
        if role == "sales" and not self.sales_may_request:
            return RuleViolation
        if reason not in VOID_REASONS or (reason == "other" and not (note or "").strip()):
            return InvalidInput
        return None

    def _voidable(self, o: Order | None) -> bool:
        return o is not None and o.status in OPEN and o.request is None

    def void(self, actor, order_no, reason, note, stale):
        refused = self._void_refusal(actor, reason, note)
        if refused:
            return refused
        o = self.visible(actor, order_no)
        if o is None:
            return NotFound
        if stale:
            return ConcurrentChange
        if not self._voidable(o):
            return RuleViolation
        return lambda result, db: self._start_void(db, actor, o, result)

    def void_batch(self, actor, order_nos, reason, note):
        refused = self._void_refusal(actor, reason, note)
        if refused:
            return refused
        numbers = list(dict.fromkeys(order_nos))
        planned = {n for n in numbers if self._voidable(self.visible(actor, n))}

        def apply(result, db):
            by_no = {r["order_no"]: r for r in result["results"]}
            assert list(by_no) == numbers, (list(by_no), numbers)
            for n in numbers:
                if n in planned:
                    self._start_void(db, actor, self.orders[n], by_no[n])
                else:
                    assert by_no[n]["outcome"] == "refused", by_no[n]
        return apply

    def _start_void(self, db, actor, o: Order, result: dict) -> None:
        """A direct void takes effect now; at or above the threshold, or asked by sales, it waits as a request."""
        waits = o.total >= self.threshold or self.role(actor) == "sales"
        assert result["outcome"] == ("pending_approval" if waits else "voided"), (o.no, result)
        v = Void(result["void_id"], "pending_approval", actor)
        o.voids.append(v)
        o.version += 1
        if waits:
            self.audit["void.request"] += 1
        else:
            self._apply_void(db, o, v)

    def _apply_void(self, db, o: Order, v: Void) -> None:
        v.status, v.status_before = "applied", o.status
        for s, ln in o.lines.items():
            self.move(o.warehouse, s, res=-(ln.qty - ln.shipped))
        o.status = "voided"
        self.audit["void.apply"] += 1
        if o.paid - o.refunded > 0:
            v.refund = self.add_refund(db, o, "void", v.id, o.paid - o.refunded)

    def _decidable(self, actor, order_no):
        o = self.orders.get(order_no)
        if o is None:
            return NotFound
        if o.status == "archived" or o.request is None or o.request.requested_by == actor:
            return RuleViolation
        return o

    def approve(self, actor, order_no):
        if self.role(actor) not in MAY["void.approve"]:
            return PermissionDenied
        o = self._decidable(actor, order_no)
        if isinstance(o, type):
            return o
        if o.status not in OPEN:
            return RuleViolation

        def apply(result, db):
            assert result["outcome"] == "voided" and result["decision"] == "approved", result
            o.version += 1
            self.audit["void.approve"] += 1
            self._apply_void(db, o, o.request)
        return apply

    def reject(self, actor, order_no, note):
        if self.role(actor) not in MAY["void.approve"]:
            return PermissionDenied
        if not (note or "").strip():
            return InvalidInput
        o = self._decidable(actor, order_no)
        if isinstance(o, type):
            return o

        def apply(result, db):
            o.request.status, o.version = "rejected", o.version + 1
            self.audit["void.reject"] += 1
        return apply

    def decide_many(self, actor, order_nos, decision, note):
        """Each request decided as approve / reject would, the undecidable ones reported as refused."""
        if self.role(actor) not in MAY["void.approve"]:
            return PermissionDenied
        if decision == "reject" and not (note or "").strip():
            return InvalidInput
        numbers = list(dict.fromkeys(order_nos))
        planned = {n for n in numbers if not isinstance(self._decidable(actor, n), type)
                   and (decision == "reject" or self.orders[n].status in OPEN)}

        def apply(result, db):
            by_no = {r["order_no"]: r for r in result["results"]}
            assert list(by_no) == numbers, (list(by_no), numbers)
            for n in numbers:
                o, outcome = self.orders.get(n), by_no[n]["outcome"]
                if n not in planned:
                    assert outcome == "refused", by_no[n]
                elif decision == "approve":
                    assert outcome == "voided", by_no[n]
                    o.version += 1
                    self.audit["void.approve"] += 1
                    self._apply_void(db, o, o.request)
                else:
                    assert outcome == "rejected", by_no[n]
                    o.request.status, o.version = "rejected", o.version + 1
                    self.audit["void.reject"] += 1
        return apply

    def restore(self, actor, order_no, note):
        if self.role(actor) not in MAY["void.restore"]:
            return PermissionDenied
        if not (note or "").strip():
            return InvalidInput
        o = self.orders.get(order_no)
        if o is None:
            return NotFound
        v = next((v for v in reversed(o.voids) if v.status == "applied"), None)
        if o.status != "voided" or v is None or (v.refund and v.refund.status == "paid"):
            return RuleViolation
        if any(ln.qty - ln.shipped > self.available(o.warehouse, s) for s, ln in o.lines.items()):
            return RuleViolation

        def apply(result, db):
            for s, ln in o.lines.items():
                self.move(o.warehouse, s, res=ln.qty - ln.shipped)
            o.status, o.version, v.status = v.status_before, o.version + 1, "restored"
            self.audit["void.restore"] += 1
            if v.refund and v.refund.status == "pending":
                v.refund.status = "cancelled"
                self.audit["refund.cancel"] += 1
        return apply
