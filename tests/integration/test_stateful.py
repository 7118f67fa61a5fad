"""Invariants under random work (issue #8 item 1): long random sequences of real service calls by users of
every role, on a real DuckDB file, checked after every step against a plain-Python model (stateful_model*)
and against invariants that must hold whatever happened (stateful_checks, plus `check`).

A refusal is a correct outcome when the model predicts exactly that refusal class, and it must change nothing
(every table's fingerprint is compared). Default: a few seconds, fixed seed; `--runslow`: many more steps
with a fresh seed, printed (rerun it with VOIDDESK_SEED=N).
"""
import copy
import os
import random
import shutil
from collections import Counter
from itertools import count

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, invariant, precondition, rule

from lib.db import Database
from lib.errors import VoidDeskError
from lib.services import orders, returns, voids
from lib.services.collab import add_comment, assign
from lib.services.orders import LineInput
from tests.integration.stateful_checks import assert_readable, fingerprint, problems, snapshot
from tests.integration.stateful_model import NEXT, PRICES, VOID_REASONS
from tests.integration.stateful_model_returns import Model
from tests.integration.stateful_rules import BOGUS_ORDER, BackOffice, pick

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
QUICK = settings(max_examples=6, stateful_step_count=20, derandomize=True, **_COMMON)
LARGE = settings(max_examples=60, stateful_step_count=80, **_COMMON)


class Work(BackOffice, RuleBasedStateMachine):
    """One run: a copy of the template shop (tests/conftest.py `shop`), the model, and random work on both."""

    template: str = ""      # set by the `work` fixture: the database file to copy, its users and its model
    users: dict = {}
    start: Model | None = None

    @initialize()
    def open_shop(self):
        self.path = f"{self.template}.{os.getpid()}.{next(_runs)}.duckdb"
        shutil.copy(self.template, self.path)
        self.db = Database(self.path)
        self.model = copy.deepcopy(self.start)
        self.keys, self.last_keyed = count(1), None

    def teardown(self):
        if hasattr(self, "db"):
            self.db.close()
            for path in (self.path, self.path + ".wal"):
                if os.path.exists(path):
                    os.remove(path)

    # --- choosing what to act on --------------------------------------------------------------------

    def actor(self, data, *good: str) -> str:
        """Mostly someone whose role may do it, sometimes anyone else (a refusal is then expected)."""
        return pick(data, "actor", good, sorted(set(self.users) - set(good)))

    def order(self, data, *statuses: str) -> str:
        """Mostly an order in one of the statuses, sometimes any order, rarely one that does not exist."""
        numbers = sorted(self.model.orders)
        return pick(data, "order", [n for n in numbers if self.model.orders[n].status in statuses],
                    numbers + [BOGUS_ORDER], weight=4)

    def key(self, data) -> str | None:
        return f"form-{next(self.keys)}" if data.draw(st.booleans(), label="keyed") else None

    def note(self, data) -> str:
        return pick(data, "note", ["checked with customer", "<b>'; DROP TABLE orders; --</b> & 中文"], ["", "  "])

    # --- doing it -------------------------------------------------------------------------------------

    def do(self, what: str, expected, call, key: str | None = None):
        """Call the service; a refusal must be the predicted class and change nothing, a success moves the model."""
        before = fingerprint(self.db) if isinstance(expected, type) else None
        try:
            result = call()
        except VoidDeskError as exc:
            assert isinstance(expected, type) and type(exc) is expected, \
                f"{what}: expected {_name(expected)}, got {type(exc).__name__}: {exc}"
            assert_readable(exc)
            changed = {t for t, fp in fingerprint(self.db).items() if fp != before[t]}
            assert not changed, f"{what}: refused ({exc}) but changed {sorted(changed)}"
            TALLY[what, type(exc).__name__] += 1
            return None
        assert not isinstance(expected, type), f"{what}: expected {_name(expected)}, but it went through: {result}"
        expected(result, self.db)
        TALLY[what, "ok"] += 1
        if key:
            self.last_keyed = (what, call, result)
        return result

    # --- orders ---------------------------------------------------------------------------------------

    @rule(data=st.data())
    def create_order(self, data):
        actor = self.actor(data, "sales", "ops", "ops_lead", "admin")
        warehouse = pick(data, "warehouse", ["SH", "SH", "GZ"], ["XX"])
        skus = data.draw(st.lists(st.sampled_from(list(PRICES) * 8 + ["OLD-1"]), min_size=1, max_size=3,
                                  unique=True), label="skus")
        lines = [(s, pick(data, s, [1, 2, 1, 3], [0])) for s in skus]
        paid = data.draw(st.booleans(), label="paid")
        rep = pick(data, "rep", [None, "sales", "sales2"], ["ops"])
        customer = pick(data, "customer", ["CUS-1", "CUS-2"], ["CUS-9"])
        key = self.key(data)
        self.do("create_order", self.model.create_order(actor, customer, warehouse, lines, paid, rep),
                lambda: orders.create_order(self.db, self.users[actor], customer, warehouse,
                                            [LineInput(s, q) for s, q in lines], rep=rep, paid=paid,
                                            submission_key=key), key)

    @rule(data=st.data())
    def copy_order(self, data):
        """A new order from an old one (also an archived one): same lines and prices, stock reserved anew."""
        actor, order_no, key = self.actor(data, "sales", "ops", "admin"), self.order(data, "archived"), self.key(data)
        self.do("copy_order", self.model.copy_order(actor, order_no),
                lambda: orders.copy_order(self.db, self.users[actor], order_no, submission_key=key), key)

    @rule(data=st.data())
    def change_status(self, data):
        actor = self.actor(data, "ops", "ops_lead", "admin")
        order_no = self.order(data, *NEXT)
        current = self.model.orders.get(order_no)
        usual = [NEXT[current.status]] if current and current.status in NEXT else []
        to = pick(data, "to", usual, sorted(set(NEXT.values())))
        stale = data.draw(st.integers(0, 9), label="stale") == 0 and current is not None
        version = current.version - 1 if stale else None
        self.do("change_status", self.model.change_status(actor, order_no, to, stale),
                lambda: orders.change_status(self.db, self.users[actor], order_no, to, expected_version=version))

    @rule(data=st.data())
    def assign_or_comment(self, data):
        actor = self.actor(data, "ops", "ops_lead", "admin", "sales")
        order_no = self.order(data, "pending", "processing", "shipped")
        if data.draw(st.booleans(), label="assign"):
            to = pick(data, "to", ["ops", "ops_lead", "warehouse"], ["nobody"])
            self.do("assign", self.model.assign(actor, order_no, to),
                    lambda: assign(self.db, self.users[actor], order_no, to))
        else:
            body = self.note(data)
            self.do("comment", self.model.comment(actor, order_no, body),
                    lambda: add_comment(self.db, self.users[actor], order_no, body))

    # --- voids ----------------------------------------------------------------------------------------

    def reason(self, data) -> str:
        return pick(data, "reason", VOID_REASONS, ["imported", "nonsense"])   # `imported` is retired

    @rule(data=st.data())
    def void(self, data):
        actor = self.actor(data, "ops", "ops_lead", "admin", "sales")
        order_no, reason, note, key = self.order(data, "pending", "processing"), self.reason(data), \
            self.note(data), self.key(data)
        current = self.model.orders.get(order_no)
        stale = data.draw(st.integers(0, 9), label="stale") == 0 and current is not None
        version = current.version - 1 if stale else None
        self.do("void", self.model.void(actor, order_no, reason, note, stale),
                lambda: voids.void_order(self.db, self.users[actor], order_no, reason, note,
                                         expected_version=version, submission_key=key), key)

    @rule(data=st.data())
    def void_batch(self, data):
        actor = self.actor(data, "ops", "ops_lead", "admin", "sales")
        numbers = [self.order(data, "pending", "processing") for _ in range(data.draw(st.integers(1, 4)))]
        reason, note, key = self.reason(data), self.note(data), self.key(data)
        self.do("void_batch", self.model.void_batch(actor, numbers, reason, note),
                lambda: voids.void_batch(self.db, self.users[actor], numbers, reason, note, submission_key=key),
                key)

    def requested(self, data) -> str:
        """An order with a void request waiting, when there is one."""
        waiting = sorted(n for n, o in self.model.orders.items() if o.request)
        return pick(data, "order", waiting, sorted(self.model.orders))

    @rule(data=st.data())
    def decide(self, data):
        actor, order_no = self.actor(data, "ops_lead", "admin"), self.requested(data)
        if data.draw(st.integers(0, 2), label="reject") == 0:
            note = self.note(data)
            self.do("reject", self.model.reject(actor, order_no, note),
                    lambda: voids.reject(self.db, self.users[actor], order_no, note))
        else:
            key = self.key(data)
            self.do("approve", self.model.approve(actor, order_no),
                    lambda: voids.approve(self.db, self.users[actor], order_no, submission_key=key), key)

    @rule(data=st.data())
    def decide_many(self, data):
        actor = self.actor(data, "ops_lead", "admin")
        numbers = [self.requested(data) for _ in range(data.draw(st.integers(1, 4), label="how many"))]
        decision = data.draw(st.sampled_from(["approve", "approve", "reject"]), label="decision")
        note, key = self.note(data), self.key(data)
        self.do("decide_many", self.model.decide_many(actor, numbers, decision, note),
                lambda: voids.decide_many(self.db, self.users[actor], numbers, decision, note, submission_key=key),
                key)

    @rule(data=st.data())
    def restore(self, data):
        actor, order_no = self.actor(data, "ops_lead", "admin"), self.order(data, "voided")
        note, key = self.note(data), self.key(data)
        self.do("restore", self.model.restore(actor, order_no, note),
                lambda: voids.restore(self.db, self.users[actor], order_no, note, submission_key=key), key)

    @precondition(lambda self: self.last_keyed is not None)
    @rule()
    def submit_again(self):
        """A double click or a refresh: the same form key gives the first answer and changes nothing."""
        what, call, first = self.last_keyed
        before = fingerprint(self.db)
        assert call() == first, f"{what} submitted again answered differently"
        assert fingerprint(self.db) == before, f"{what} submitted again changed something"

    # --- after every step -----------------------------------------------------------------------------

    @invariant()
    def database_agrees(self):
        if not hasattr(self, "db"):
            return
        broken = problems(self.db)
        assert not broken, "\n".join(broken)
        got, want = snapshot(self.db), self.model.snapshot()
        for part in want:
            assert got[part] == want[part], f"{part} differ:\n{_diff(got[part], want[part])}"


_runs = count(1)
TALLY: Counter = Counter()   # (call, outcome) -> how often: printed, to see what a run covered


def _name(expected) -> str:
    return expected.__name__ if isinstance(expected, type) else "success"


def _diff(got: dict, want: dict) -> str:
    keys = sorted(set(got) | set(want), key=str)
    return "\n".join(f"  {k}: database {got.get(k)!r}, model {want.get(k)!r}"
                     for k in keys if got.get(k) != want.get(k))


def start_orders(db, users, model: Model) -> None:
    """Orders in every state, so that even a short run reaches approvals, restores, returns and refunds:
    pending, processing, shipped with a return note owing a refund, a big one and a sales one waiting for approval."""
    def act(expected, call):
        expected(call(), db)

    for by, lines in (("ops", [("PHN-1", 1), ("TOY-1", 2)]), ("ops", [("TOY-1", 3)]),
                      ("ops", [("PHN-1", 2), ("TOY-1", 3)]), ("ops", [("PHN-2", 2)]), ("sales", [("TOY-1", 1)])):
        act(model.create_order(by, "CUS-1", "SH", lines, True, "sales"),
            lambda: orders.create_order(db, users[by], "CUS-1", "SH", [LineInput(s, q) for s, q in lines],
                                        rep="sales", paid=True))
    pending, processing, shipped, big, small = sorted(model.orders)
    for order_no, to in ((processing, "processing"), (shipped, "processing"), (shipped, "shipped")):
        act(model.change_status("ops", order_no, to, False),
            lambda: orders.change_status(db, users["ops"], order_no, to))
    for by, order_no in (("ops", big), ("sales", small)):
        act(model.void(by, order_no, "customer_cancelled", None, False),
            lambda: voids.void_order(db, users[by], order_no, "customer_cancelled"))
    act(model.create_return("ops", shipped, [("PHN-1", 1)], "quality", None, None, None),
        lambda: returns.create_return(db, users["ops"], shipped, [("PHN-1", 1)], "quality"))


@pytest.fixture
def work(shop, tmp_path, duckdb_only):   # each run starts from a copy of the database file
    """The machine class, with the shop fixture's database plus start_orders checkpointed into a file each run
    copies, and the model of that state each run starts from."""
    model = Model({name: u.role for name, u in shop.users.items()}, snapshot(shop.db)["stock"])
    start_orders(shop.db, shop.users, model)
    assert not problems(shop.db) and snapshot(shop.db) == model.snapshot()
    with shop.db.read() as cur:
        cur.execute("CHECKPOINT")
    path = str(tmp_path / "template.duckdb")
    shutil.copy(shop.db.path, path)
    return type("ShopWork", (Work,), {"template": path, "users": shop.users, "start": model})


def test_random_work_keeps_every_invariant(work):
    get_state_machine_test(work, settings=QUICK)()
    _show(TALLY)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_random_work_keeps_every_invariant_at_length(work):
    seed = int(os.environ.get("VOIDDESK_SEED") or random.randrange(2 ** 32))
    print(f"hypothesis seed {seed}: rerun with VOIDDESK_SEED={seed} pytest --runslow {__file__}")
    hypothesis.seed(seed)(get_state_machine_test(work, settings=LARGE))()
    _show(TALLY)


def _show(tally: Counter) -> None:
    for what in sorted({w for w, _ in tally}):
        print(what, ", ".join(f"{outcome} {n}" for (w, outcome), n in sorted(tally.items()) if w == what))
    tally.clear()
