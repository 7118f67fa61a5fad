"""Rules of the stateful test (test_stateful.Work) for the back office: returns, inspection, refunds paid out,
manual stock adjustments, the rules page; and `pick`, how every rule chooses its values."""
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import rule

from lib.services import refunds, returns
from lib.services.settings import update_rules
from lib.services.stock_adjust import adjust_stock
from tests.integration.stateful_model import RETURN_REASONS, SKUS, WAREHOUSES
from tests.integration.stateful_model_returns import DISPOSITIONS

BOGUS_ORDER, BOGUS_NOTE, BOGUS_REFUND = "SO-19990101-99999", "RT-19990101-99999", 999_999


def pick(data, label: str, good, bad=(), weight: int = 6):
    """One value, usually from `good`, about once in `weight + 1` from `bad` (values to be refused, or simply any
    other); shrinks towards the first good value."""
    good, bad = list(good), list(bad)
    stray = not good or (bad and data.draw(st.integers(0, weight), label=f"{label}: stray") == weight)
    return data.draw(st.sampled_from(bad if stray else good), label=label)


class BackOffice:
    """A mixin for test_stateful.Work (which gives it db, users, model, actor(), order(), note(), key(), do())."""

    @rule(data=st.data())
    def create_return(self, data):
        actor, order_no = self.actor(data, "ops", "ops_lead", "admin"), self.order(data, "shipped", "completed")
        o = self.model.orders.get(order_no)
        skus = sorted(o.lines) if o else ["PHN-1"]
        chosen = data.draw(st.lists(st.sampled_from(skus * 5 + ["TOY-1", "PHN-2"]), min_size=1, max_size=3,
                                    unique=True), label="skus")
        wanted = [(s, pick(data, s, [1, 2, 1, 3, 0], [-1])) for s in chosen]
        reason = pick(data, "reason", RETURN_REASONS, ["nonsense"])
        note, key = self.note(data), self.key(data)
        warehouse = pick(data, "warehouse", [None, None, "SH", "GZ"], ["XX"])
        default = self.model.refundable(order_no) if o else Decimal(0)
        refund = pick(data, "refund", [None, None, "0", str((default / 2).quantize(Decimal("0.01")))],
                      [str(default + Decimal("0.01")), "-1"])
        self.do("create_return", self.model.create_return(actor, order_no, wanted, reason, note, warehouse, refund),
                lambda: returns.create_return(self.db, self.users[actor], order_no, wanted, reason, note,
                                              warehouse, refund, submission_key=key), key)

    def return_note(self, data) -> str:
        numbers = sorted(self.model.notes)
        open_ = [n for n in numbers if self.model.notes[n].status in ("requested", "received")]
        return pick(data, "return_no", open_, numbers + [BOGUS_NOTE], weight=4)

    @rule(data=st.data())
    def inspect(self, data):
        actor, return_no = self.actor(data, "warehouse", "ops_lead", "admin"), self.return_note(data)
        if data.draw(st.integers(0, 3), label="receive only") == 0:
            self.do("receive", self.model.receive(actor, return_no),
                    lambda: returns.receive_return(self.db, self.users[actor], return_no))
            return
        note = self.model.notes.get(return_no)
        skus = sorted(note.lines) if note else ["PHN-1"]
        if data.draw(st.integers(0, 5), label="miss a line") == 0:
            skus = skus[1:] or ["TOY-1"]
        wanted = {s: pick(data, s, DISPOSITIONS, ["burn"]) for s in skus}
        receive, key = data.draw(st.booleans(), label="receive"), self.key(data)
        self.do("inspect", self.model.inspect(actor, return_no, wanted, receive),
                lambda: returns.inspect_return(self.db, self.users[actor], return_no, wanted, receive=receive,
                                               submission_key=key), key)

    @rule(data=st.data())
    def pay_refund(self, data):
        actor = self.actor(data, "finance", "admin")
        ids = sorted(self.model.refunds)
        pending = [i for i in ids if self.model.refunds[i].status == "pending"]
        refund_id = pick(data, "refund_id", pending, ids + [BOGUS_REFUND], weight=4)
        ref, key = pick(data, "payment_ref", ["TX-1", "TX-2"], [" "]), self.key(data)
        self.do("pay_refund", self.model.mark_paid(actor, refund_id, ref),
                lambda: refunds.mark_paid(self.db, self.users[actor], refund_id, ref, submission_key=key), key)

    @rule(data=st.data())
    def adjust(self, data):
        actor = self.actor(data, "ops_lead", "admin")
        warehouse, sku = pick(data, "warehouse", WAREHOUSES, ["XX"]), pick(data, "sku", SKUS, ["NOPE"])
        d_on = pick(data, "d_on", [5, 1, 2, 8, -1, -2, -4, 0], [-30])
        d_q = pick(data, "d_q", [0, 0, 0, 1, -1, 2], [-9])
        reason, key = self.note(data), self.key(data)
        self.do("adjust", self.model.adjust(actor, warehouse, sku, d_on, d_q, reason),
                lambda: adjust_stock(self.db, self.users[actor], warehouse, sku, d_on, reason, delta_quarantine=d_q,
                                     submission_key=key), key)

    @rule(data=st.data())
    def change_rules(self, data):
        actor = self.actor(data, "ops_lead", "admin")
        threshold = pick(data, "threshold", ["10000", "5000", "20000.50", "0"], ["-1", "ten", "1.005"])
        sales = data.draw(st.booleans(), label="sales may request voids")
        self.do("change_rules", self.model.change_rules(actor, threshold, sales),
                lambda: update_rules(self.db, self.users[actor], approval_threshold=threshold,
                                     sales_may_request_voids=sales))

    # Import (issue #7) goes here once lib/imports has a service entry point: a rule that loads a small CSV of
    # orders (some rejected rows), predicts with the model which rows load (new orders, stock reserved, one
    # `import.*` audit entry per row) and that a file with any bad row loads nothing.
