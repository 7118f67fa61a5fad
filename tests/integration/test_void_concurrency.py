"""Many people acting on the same order at the same moment (SPEC §4), with real threads on one database:
exactly one succeeds, the others are told the order changed (or why it no longer applies)."""
import threading
from collections import Counter

import pytest

from lib.errors import ConcurrentChange, RuleViolation
from lib.queries.check import run_checks
from lib.services import voids
from tests.conftest import balance
from tests.integration.void_helpers import make_order, order_row, refunds_of, voids_of

pytestmark = pytest.mark.both_backends

ROUNDS = 3


def _race(attempts) -> Counter:
    """Run every attempt in its own thread, released together; count 'ok' (it acted: returned something
    truthy), 'noop' and the refusals by exception class name."""
    barrier = threading.Barrier(len(attempts))
    outcomes, errors = [], []

    def run(attempt):
        barrier.wait()
        try:
            outcomes.append("ok" if attempt() else "noop")
        except (ConcurrentChange, RuleViolation) as exc:
            assert exc.message("en")   # always a readable sentence about the current state
            outcomes.append(type(exc).__name__)
        except Exception as exc:   # noqa: BLE001 - anything else fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == [] and len(outcomes) == len(attempts)
    return Counter(outcomes)


def test_many_people_voiding_the_same_order_void_it_once(shop):
    for _ in range(ROUNDS):
        order_no = make_order(shop, paid=True, status="processing")
        version = order_row(shop.db, order_no)["version"]
        users = [shop.users[r] for r in ("ops", "ops_lead", "admin")] * 3
        attempts = [lambda u=u, i=i: voids.void_order(shop.db, u, order_no, "customer_cancelled",
                                                      expected_version=version if i % 2 else None,
                                                      submission_key=f"{order_no}-{i}")
                    for i, u in enumerate(users)]
        outcomes = _race(attempts)
        assert outcomes["ok"] == 1 and sum(outcomes.values()) == len(attempts)
        assert len(voids_of(shop.db, order_no)) == 1 and len(refunds_of(shop.db, order_no)) == 1
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0)
    assert run_checks(shop.db)["ok"]


def test_approving_and_rejecting_the_same_request_at_once_decides_it_once(shop):
    for _ in range(ROUNDS):
        order_no = make_order(shop, by="sales", paid=True)
        voids.void_order(shop.db, shop.users["sales"], order_no, "order_error")
        lead, admin = shop.users["ops_lead"], shop.users["admin"]
        attempts = ([lambda u=u: voids.approve(shop.db, u, order_no) for u in (lead, admin) * 3]
                    + [lambda u=u: voids.reject(shop.db, u, order_no, "no") for u in (lead, admin)])
        assert _race(attempts)["ok"] == 1
        [void] = voids_of(shop.db, order_no)
        applied = void["status"] == "applied"
        assert void["status"] in ("applied", "rejected")
        assert order_row(shop.db, order_no)["status"] == ("voided" if applied else "pending")
        assert len(refunds_of(shop.db, order_no)) == int(applied)
    assert run_checks(shop.db)["ok"]


def test_restoring_and_voiding_the_same_order_at_once_lets_one_through(shop):
    for _ in range(ROUNDS):
        order_no = make_order(shop, paid=True)
        voids.void_order(shop.db, shop.users["ops"], order_no, "customer_cancelled")
        version = order_row(shop.db, order_no)["version"]
        attempts = ([lambda u=u: voids.restore(shop.db, u, order_no, "wrong order")
                     for u in (shop.users["ops_lead"], shop.users["admin"]) * 3]
                    + [lambda: voids.void_order(shop.db, shop.users["ops"], order_no, "out_of_stock",
                                                expected_version=version)] * 2)
        assert _race(attempts)["ok"] == 1
        assert order_row(shop.db, order_no)["status"] == "pending"
        assert [v["status"] for v in voids_of(shop.db, order_no)] == ["restored"]
        assert [r["status"] for r in refunds_of(shop.db, order_no)] == ["cancelled"]
    assert balance(shop.db, "SH", "PHN-1") == (10, 2 * ROUNDS, 0)
    assert run_checks(shop.db)["ok"]


def test_voiding_while_approving_a_request_acts_once(shop):
    order_no = make_order(shop, lines=(("PHN-2", 2),))
    voids.void_order(shop.db, shop.users["ops"], order_no, "fraud_risk")   # needs approval
    version = order_row(shop.db, order_no)["version"]
    attempts = ([lambda: voids.approve(shop.db, shop.users["ops_lead"], order_no)] * 3
                + [lambda: voids.void_order(shop.db, shop.users["admin"], order_no, "fraud_risk",
                                            expected_version=version)] * 3
                + [lambda: voids.void_batch(shop.db, shop.users["ops"], [order_no], "fraud_risk",
                                            expected_versions={order_no: version})["voided"]] * 2)
    outcomes = _race(attempts)
    assert outcomes["ok"] == 1   # a batch that only reports the order refused did nothing ("noop")
    assert [v["status"] for v in voids_of(shop.db, order_no)] == ["applied"]
    assert balance(shop.db, "SH", "PHN-2") == (5, 0, 0)
    assert run_checks(shop.db)["ok"]
