"""Group commit on a DuckDB file (issue #14 §3): voids from sessions waiting together are written in one
transaction, and each session still gets its own result, its own refusal, and a double submit's first answer.

The rounds are made deterministic, not left to thread scheduling: the test holds the database's write lock, so
the first void's leader waits inside its transaction while every other void queues behind it; the test waits until
all of them are queued, then lets go."""
import threading
import time

import pytest

from lib.errors import NotFound, RuleViolation
from lib.queries.check import run_checks
from lib.services import voids
from lib.services.void_group import group_for
from tests.integration.void_helpers import bulk_orders, make_order, refunds_of, voids_of

pytestmark = pytest.mark.usefixtures("duckdb_only")   # PostgreSQL's writers run side by side instead


def _queued(group, n: int, deadline_s: float = 60) -> None:
    """Wait until n voids wait in the group (a condition, polled; never a fixed sleep)."""
    end = time.monotonic() + deadline_s
    while len(group._waiting) < n:
        assert time.monotonic() < end, f"only {len(group._waiting)} of {n} voids queued"
        time.sleep(0.005)


def test_voids_waiting_together_are_written_in_one_transaction_each_with_its_own_outcome(shop):
    open_orders = bulk_orders(shop.db, 8)
    shipped = make_order(shop, paid=True, status="shipped")
    calls = [(n, None) for n in open_orders] + [(shipped, None), ("SO-NOPE-1", None),
                                                (open_orders[1], None)]   # the same order twice
    group, outcomes = group_for(shop.db), {}
    rounds = group.rounds

    def run(i, number, key):
        try:
            outcomes[i] = voids.void_order(shop.db, shop.users["ops"], number, "customer_cancelled",
                                           submission_key=key)
        except Exception as exc:   # noqa: BLE001 - the outcome under test
            outcomes[i] = exc

    with shop.db._write_lock:   # the first void's leader waits inside its transaction
        first = threading.Thread(target=run, args=(0, *calls[0]))
        first.start()
        _queued_leader(group)
        rest = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls) if i]
        for t in rest:
            t.start()
        _queued(group, len(rest))
    for t in [first, *rest]:
        t.join(60)
    # Round 1: the leader's own void; round 2: the other distinct orders together; round 3: the repeated order.
    assert group.rounds - rounds == 3
    for i, number in enumerate(open_orders):
        assert outcomes[i]["outcome"] == "voided", outcomes[i]
        assert [v["status"] for v in voids_of(shop.db, number)] == ["applied"]
        assert len(refunds_of(shop.db, number)) == 1
    assert isinstance(outcomes[8], RuleViolation)        # shipped: its own refusal
    assert isinstance(outcomes[9], NotFound)             # unknown: its own refusal
    assert isinstance(outcomes[10], RuleViolation)       # voided meanwhile by its twin: told, not voided twice
    assert run_checks(shop.db)["ok"]


def _queued_leader(group, deadline_s: float = 60) -> None:
    """Wait until the first void leads (it took itself off the queue and waits for the write lock)."""
    end = time.monotonic() + deadline_s
    while not group._leading or group._waiting:
        assert time.monotonic() < end, "the first void never started to lead"
        time.sleep(0.005)


def test_a_double_submit_waiting_in_one_queue_voids_once_and_both_get_the_first_answer(shop):
    number = make_order(shop, paid=True)
    group, outcomes = group_for(shop.db), {}

    def run(i):
        outcomes[i] = voids.void_order(shop.db, shop.users["ops"], number, "customer_cancelled",
                                       submission_key="form-7")

    with shop.db._write_lock:
        first = threading.Thread(target=run, args=(0,))
        first.start()
        _queued_leader(group)
        second = threading.Thread(target=run, args=(1,))
        second.start()
        _queued(group, 1)
    for t in (first, second):
        t.join(60)
    assert outcomes[0] == outcomes[1] and outcomes[0]["outcome"] == "voided"
    assert len(voids_of(shop.db, number)) == 1 and len(refunds_of(shop.db, number)) == 1


def test_a_round_whose_shared_write_fails_runs_each_void_alone(shop, monkeypatch):
    """Each void of a round is tried again on its own when the round's write fails as a whole."""
    from lib.services import void_group

    numbers = bulk_orders(shop.db, 3)
    calls = []
    real = void_group.write_voids

    def fail_when_shared(cur, actor, plans, **kw):
        calls.append(len(plans))
        if len(plans) > 1:
            raise RuntimeError("the shared write failed")
        return real(cur, actor, plans, **kw)

    monkeypatch.setattr(void_group, "write_voids", fail_when_shared)
    group, outcomes = group_for(shop.db), {}

    def run(i):
        outcomes[i] = voids.void_order(shop.db, shop.users["ops"], numbers[i], "customer_cancelled")

    with shop.db._write_lock:
        first = threading.Thread(target=run, args=(0,))
        first.start()
        _queued_leader(group)
        rest = [threading.Thread(target=run, args=(i,)) for i in (1, 2)]
        for t in rest:
            t.start()
        _queued(group, 2)
    for t in [first, *rest]:
        t.join(60)
    assert calls == [1, 2, 1, 1]   # alone; together (failed); each alone again
    assert all(outcomes[i]["outcome"] == "voided" for i in range(3))
    assert run_checks(shop.db)["ok"]


@pytest.mark.parametrize("clients", [16])
def test_many_sessions_voiding_at_once_lose_nothing(shop, clients):
    numbers = bulk_orders(shop.db, clients)
    outcomes, barrier = {}, threading.Barrier(clients)

    def run(i):
        barrier.wait()
        outcomes[i] = voids.void_order(shop.db, shop.users["ops"], numbers[i], "customer_cancelled")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o["order_no"] for o in outcomes.values()) == sorted(numbers)
    assert all(len(voids_of(shop.db, n)) == 1 and len(refunds_of(shop.db, n)) == 1 for n in numbers)
    assert run_checks(shop.db)["ok"]
