"""Concurrency hammer (issue #8 item 2): many threads — as many Streamlit sessions would, all on the process's
one database handle — void, request, approve, reject, restore, ship, return, inspect and pay refunds on the
same few orders at once, each acting on the state it read a moment before (expected versions), some forms
submitted twice at the same moment. Every answer is counted; afterwards the database must show exactly the
successes (no lost update), no double refund, no over-return, a balanced ledger and `check` ok.

How the threads interleave is up to the scheduler, so the random hammer asserts only those invariants, never how
many races it happened to provoke (issue #13); the race itself — two forms read at the same moment, sent one after
the other — is played out deterministically by test_the_second_of_two_forms_read_together_is_told_the_order_changed.
"""
import random
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pytest

from lib.db import rows_as_dicts
from lib.errors import ConcurrentChange, RuleViolation
from lib.services import orders, refunds, returns, voids
from lib.services.orders import LineInput
from lib.services.stock import Movement, apply_movements
from lib.services.stock_adjust import adjust_stock
from tests.integration.stateful_checks import assert_readable, audit_counts, money_and_goods, problems, versions

pytestmark = pytest.mark.both_backends

REFUSALS = (ConcurrentChange, RuleViolation)   # the only answers besides success a correct request may get
FORMS = ("void", "void", "sales_void", "batch", "approve", "approve", "reject", "restore", "restore", "step",
         "return", "return", "inspect", "pay", "pay", "adjust", "create")
# The audit entries that go with one step of an order's version: a success writes exactly one of them.
BUMPS = ("order.status", "void.request", "void.apply", "void.reject", "void.restore", "return.create", "refund.paid")
AUDITED = BUMPS + ("order.create",)


@dataclass
class Answer:
    worker: int
    action: str
    key: str
    outcome: str          # "ok" or the refusal's class name
    result: object        # the service's result, or the refusal's i18n key
    touched: dict         # order_no -> what the success did to it (one of AUDITED), from the result


class Hammer:
    """The shared shop, the orders to fight over, and every answer given."""

    def __init__(self, shop, seed: int):
        self.db, self.users, self.seed = shop.db, shop.users, seed
        with self.db.transaction() as cur:   # plenty of stock, so refusals come from the races, not from shortages
            apply_movements(cur, [Movement("SH", s, "receipt", d_on_hand=q)
                                  for s, q in (("PHN-1", 500), ("PHN-2", 100), ("TOY-1", 1000))], None,
                            ref_type="receipt", ref_id=None)
        self.mine = self.make((("TOY-1", 1),), by="sales")   # the sales rep's own
        self.hot = [self.make((("PHN-1", 1), ("TOY-1", 2)), paid=i % 2 == 0) for i in range(3)]   # new ones join
        self.big = [self.make((("PHN-2", 2),)) for _ in range(2)]   # 13,000: every void waits for approval
        for n in [self.make((("PHN-1", 3), ("TOY-1", 5))) for _ in range(3)]:
            orders.change_status(self.db, self.users["ops"], n, "processing")
            orders.change_status(self.db, self.users["ops"], n, "shipped")
        self.answers: list[Answer] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()

    def make(self, lines, paid: bool = True, by: str = "ops") -> str:
        return orders.create_order(self.db, self.users[by], "CUS-1", "SH", [LineInput(s, q) for s, q in lines],
                                   rep=None if by == "sales" else "sales", paid=paid)["order_no"]

    # --- what a page would read just before the user clicks ---------------------------------------------

    def read(self, sql: str, params=()) -> list[dict]:
        with self.db.read() as cur:
            return rows_as_dicts(cur, sql, list(params))

    def version(self, order_no: str) -> int:
        return self.read("SELECT version FROM orders WHERE order_no = ?", [order_no])[0]["version"]

    def status(self, order_no: str) -> str:
        return self.read("SELECT status FROM orders WHERE order_no = ?", [order_no])[0]["status"]

    # --- the forms: each returns (action, call(key) -> result, touched(result) -> {order_no: audit action}) ---

    def form(self, rng: random.Random):
        """One random form, its choices all made now (a double click submits the very same form twice)."""
        return getattr(self, "form_" + rng.choice(FORMS))(rng)

    def target(self, rng: random.Random) -> str:
        """One of the few orders everyone is fighting over: the newest, the big ones, the sales rep's."""
        return rng.choice(self.hot[-4:] + self.big + [self.mine])

    def lead(self, rng: random.Random):
        return self.users[rng.choice(["ops_lead", "admin"])]

    def form_void(self, rng):
        no, by = self.target(rng), self.users[rng.choice(["ops", "ops_lead", "admin"])]
        return self.void_form(no, by, self.version(no) if rng.random() < 0.7 else None)

    def void_form(self, no: str, by, seen: int | None):
        return "void", lambda k: voids.void_order(self.db, by, no, "customer_cancelled", expected_version=seen,
                                                  submission_key=k), _voided

    def form_sales_void(self, rng):
        return "sales_void", lambda k: voids.void_order(self.db, self.users["sales"], self.mine, "order_error",
                                                        submission_key=k), _voided

    def form_batch(self, rng):
        return self.batch_form(list({self.target(rng): 1, self.target(rng): 1}))

    def batch_form(self, nos: list[str]):
        seen = {n: self.version(n) for n in nos}
        return "batch", lambda k: voids.void_batch(self.db, self.users["ops"], nos, "out_of_stock",
                                                   expected_versions=seen, submission_key=k), _batch

    def form_approve(self, rng):
        no, by = self.target(rng), self.lead(rng)
        return "approve", lambda k: voids.approve(self.db, by, no, submission_key=k), _voided

    def form_reject(self, rng):
        no, by = self.target(rng), self.lead(rng)
        return "reject", lambda k: voids.reject(self.db, by, no, "not this one", submission_key=k), \
            lambda r: {r["order_no"]: "void.reject"}

    def form_restore(self, rng):
        no, by = self.target(rng), self.lead(rng)
        return "restore", lambda k: voids.restore(self.db, by, no, "voided by mistake", submission_key=k), \
            lambda r: {r["order_no"]: "void.restore"}

    def form_step(self, rng):
        return self.step_form(self.target(rng))

    def step_form(self, no: str):
        """The next status step; this form has no one-time key and relies on the version it read."""
        to = {"pending": "processing", "processing": "shipped"}.get(self.status(no), "completed")
        seen = self.version(no)
        return "step", lambda k: orders.change_status(self.db, self.users["ops"], no, to, expected_version=seen), \
            lambda r: {r["order_no"]: "order.status"}

    def form_return(self, rng):
        shipped = self.read("SELECT o.order_no, array_agg(l.sku ORDER BY l.sku) AS skus FROM orders o JOIN order_lines l"
                            " ON l.order_id = o.id WHERE o.status IN ('shipped', 'completed') GROUP BY o.id, o.order_no"
                            " ORDER BY o.id")
        order = rng.choice(shipped[-4:])
        no, lines = order["order_no"], {rng.choice(order["skus"]): rng.randint(1, 2)}
        return "return", lambda k: {**returns.create_return(self.db, self.users["ops"], no, lines, "quality",
                                                            submission_key=k), "order_no": no}, \
            lambda r: {r["order_no"]: "return.create"}

    def form_inspect(self, rng):
        notes = self.read("SELECT return_no, array_agg(sku) AS skus FROM return_notes n JOIN return_lines l"
                          " ON l.return_id = n.id WHERE n.status = 'requested' GROUP BY return_no")
        if not notes:
            return self.form_return(rng)
        note, by = rng.choice(notes), self.users[rng.choice(["warehouse", "ops_lead"])]
        where = {s: rng.choice(["restock", "repair", "scrap"]) for s in note["skus"]}
        return "inspect", lambda k: returns.inspect_return(self.db, by, note["return_no"], where, receive=True,
                                                           submission_key=k), lambda r: {}

    def form_pay(self, rng):
        due = self.read("SELECT id FROM refunds WHERE status = 'pending'")
        if not due:
            return self.form_return(rng)
        rid, by = rng.choice(due)["id"], self.users[rng.choice(["finance", "admin"])]
        return "pay", lambda k: refunds.mark_paid(self.db, by, rid, "TX", submission_key=k), \
            lambda r: {r["order_no"]: "refund.paid"}

    def form_create(self, rng):
        """A new order joins the fight (and its reserved stock the ledger)."""
        paid = rng.random() < 0.7

        def create(k):
            result = orders.create_order(self.db, self.users["ops"], "CUS-2", "SH", [LineInput("PHN-1", 1),
                                         LineInput("TOY-1", 2)], rep="sales", paid=paid, submission_key=k)
            self.hot.append(result["order_no"])   # list.append is atomic: other sessions may pick it at once
            return result
        return "create", create, lambda r: {r["order_no"]: "order.create"}

    def form_adjust(self, rng):
        delta = rng.choice([1, -1])
        return "adjust", lambda k: adjust_stock(self.db, self.users["ops_lead"], "SH", "TOY-1", delta, "count",
                                                submission_key=k), lambda r: {}

    # --- the sessions ---------------------------------------------------------------------------------

    def session(self, worker: int, n: int, start: threading.Barrier) -> None:
        rng = random.Random(self.seed * 1000 + worker)
        start.wait()
        try:
            for i in range(n):
                action, call, touched = self.form(rng)
                key = f"w{worker}-{i}"
                if rng.random() < 0.15:   # a double click: the same form, twice at the same moment
                    # (a form without a one-time key — the status step — relies on its expected version instead)
                    keys = [key, key] if action != "step" else [key + "a", key + "b"]
                    twins = [threading.Thread(target=self.submit, args=(worker, action, call, k, touched))
                             for k in keys]
                    for t in twins:
                        t.start()
                    for t in twins:
                        t.join(60)
                else:
                    self.submit(worker, action, call, key, touched)
        except BaseException as exc:   # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def submit(self, worker: int, action: str, call, key: str, touched) -> None:
        """Submit one form and keep its answer; anything but a success or a readable refusal fails the test."""
        try:
            answer = _answer(worker, action, call, key, touched)
        except BaseException as exc:   # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append(exc)
            return
        with self.lock:
            self.answers.append(answer)

    def run(self, workers: int, per_worker: int) -> None:
        start = threading.Barrier(workers)
        threads = [threading.Thread(target=self.session, args=(w, per_worker, start)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads), "a session hung"


def _answer(worker: int, action: str, call, key: str, touched) -> Answer:
    try:
        result = call(key)
    except REFUSALS as exc:
        assert_readable(exc)
        return Answer(worker, action, key, type(exc).__name__, exc.key, {})
    return Answer(worker, action, key, "ok", result, touched(result))


def _voided(result: dict) -> dict:
    return {result["order_no"]: "void.apply" if result["outcome"] == "voided" else "void.request"}


def _batch(result: dict) -> dict:
    return {r["order_no"]: "void.apply" if r["outcome"] == "voided" else "void.request"
            for r in result["results"] if r["outcome"] != "refused"}


def hammer(shop, workers: int, per_worker: int, seed: int) -> Counter:
    """Run the sessions, check everything, print and return the tally of (action, answer)."""
    h = Hammer(shop, seed)
    audit_before, versions_before = audit_counts(h.db, AUDITED), versions(h.db)
    h.run(workers, per_worker)
    tally = check_answers(h, audit_before, versions_before, seed)
    print(f"seed {seed}:", ", ".join(f"{act} {out} {n}" for (act, out), n in sorted(tally.items())))
    return tally


def check_answers(h: Hammer, audit_before: Counter, versions_before: dict, seed: int) -> Counter:
    """The database shows exactly the answers given (see the module's docstring); the tally of (action, answer)."""
    assert not h.errors, f"seed {seed}: {h.errors[:3]!r}"
    forms = first_answers(h.answers, seed)
    done = Counter((order_no, action) for a in forms if a.outcome == "ok" for order_no, action in a.touched.items())
    # No lost update: each success wrote exactly its audit entry and its version step, and nothing else did.
    assert audit_counts(h.db, AUDITED) - audit_before == done, f"seed {seed}"
    after = versions(h.db)
    assert {n: after[n] - versions_before.get(n, 1) for n in after if after[n] != versions_before.get(n, 1)} == \
        +Counter(no for (no, act), n in done.items() if act in BUMPS for _ in range(n)), f"seed {seed}"
    assert money_and_goods(h.db) == answered(forms), f"seed {seed}: no double refund, no over-return"
    broken = problems(h.db)   # ledger = balances, no negative stock, returns within shipped, `check` ok, …
    assert not broken, f"seed {seed}:\n" + "\n".join(broken)
    return Counter((a.action, a.outcome) for a in h.answers)


def first_answers(answers: list[Answer], seed: int) -> list[Answer]:
    """One answer per form. When both clicks of a double click succeed they got the same answer (one action).

    One click may still be refused while the other succeeds: the refused one ran first, on a state that refused it,
    and someone else changed the order before the second ran. (Being refused for one's own first click — "already
    paid" — is pinned by test_refunds.py::test_a_double_click_racing_the_first_gets_the_first_answer_….)
    """
    by_key: dict[str, list[Answer]] = {}
    for a in answers:
        by_key.setdefault(a.key, []).append(a)
    for key, twins in by_key.items():
        ok = [a for a in twins if a.outcome == "ok"]
        assert all(a.result == ok[0].result for a in ok), (seed, key, twins)
    return [next((a for a in twins if a.outcome == "ok"), twins[0]) for twins in by_key.values()]


def answered(forms: list[Answer]) -> dict:
    """Refunds owed and paid out, and units returned, as the successful answers told them."""
    owed = paid = Decimal(0)
    units = 0
    for a in (a for a in forms if a.outcome == "ok"):
        r = a.result
        if a.action in ("void", "sales_void", "approve", "return"):
            owed += Decimal(r["refund"])
        elif a.action == "batch":
            owed += sum((Decimal(x["refund"]) for x in r["results"]), Decimal(0))
        elif a.action == "restore":
            owed -= Decimal(r["refund_cancelled"])
        elif a.action == "pay":
            paid += Decimal(r["amount"])
        units += sum(ln["qty"] for ln in r["lines"]) if a.action == "return" else 0
    return {"owed": owed, "paid": paid, "returned": units}


def test_sessions_racing_on_the_same_orders_lose_nothing(shop):
    tally = hammer(shop, workers=8, per_worker=25, seed=1)
    assert sum(n for (_, out), n in tally.items() if out == "ok") > 20


# (first form, second form): both read the same fresh order at the same moment, then are sent one after the other.
RACES = [("void", "step"), ("step", "void"), ("void", "batch"), ("batch", "void"), ("step", "step"),
         ("batch", "batch")]


def test_the_second_of_two_forms_read_together_is_told_the_order_changed(shop):
    h = Hammer(shop, seed=0)
    fresh = [h.make((("PHN-1", 1), ("TOY-1", 2))) for _ in RACES]   # 3,198.00 each: voided at once, no approval
    audit_before, versions_before = audit_counts(h.db, AUDITED), versions(h.db)
    forms = {"void": lambda no: h.void_form(no, h.users["ops_lead"], h.version(no)),
             "batch": lambda no: h.batch_form([no]), "step": h.step_form}
    for race, (kinds, no) in enumerate(zip(RACES, fresh)):
        first, second = (forms[kind](no) for kind in kinds)
        for i, (action, call, touched) in enumerate((first, second)):
            h.submit(race, action, call, f"race{race}-{i}", touched)
    assert [(a.action, a.outcome) for a in h.answers] == [
        (kind, outcome) for kinds in RACES for kind, outcome in zip(kinds, ("ok", "ConcurrentChange"))]
    assert {a.result for a in h.answers if a.outcome != "ok"} <= {"orders.changed_meanwhile", "voids.batch_changed"}
    check_answers(h, audit_before, versions_before, seed=0)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("seed", range(2, 6))
def test_sessions_racing_on_the_same_orders_lose_nothing_at_length(shop, seed):
    hammer(shop, workers=16, per_worker=120, seed=seed)
