"""Deciding many void requests at once (lib.services.voids.decide_many) on a real DuckDB file: one
transaction, the undecidable ones reported with their reason, the rest approved (voided) or rejected."""
import pytest

from lib.errors import InvalidInput, PermissionDenied
from lib.queries.check import run_checks
from lib.services import voids
from tests.conftest import balance
from tests.integration.void_helpers import audit_of, inbox, make_order, order_row, refunds_of, voids_of

pytestmark = pytest.mark.both_backends

BIG = (("PHN-2", 2),)   # at or above the approval threshold: ops_lead's own void becomes a request


def requested(shop, n: int, *, by="sales", paid=False) -> list[str]:
    """n orders, each with a void request by `by` waiting for approval."""
    numbers = []
    for _ in range(n):
        number = make_order(shop, by=by, paid=paid, lines=BIG if by != "sales" else (("PHN-1", 1),))
        assert voids.void_order(shop.db, shop.users[by], number, "order_error")["outcome"] == "pending_approval"
        numbers.append(number)
    return numbers


def test_approving_many_voids_each_and_reports_what_could_not_be_decided(shop):
    mine = requested(shop, 1, by="ops_lead")                  # the approver's own request
    paid = requested(shop, 2, paid=True)
    plain = make_order(shop)                                  # nothing to decide
    result = voids.decide_many(shop.db, shop.users["ops_lead"], paid + mine + [plain, "SO-NOPE"], "approve",
                               "checked with the customer")
    assert (result["approved"], result["rejected"], result["refused"]) == (2, 0, 3)
    outcomes = {r["order_no"]: (r["outcome"], r["message_key"]) for r in result["results"]}
    assert [r["order_no"] for r in result["results"]] == paid + mine + [plain, "SO-NOPE"]
    assert outcomes[mine[0]] == ("refused", "voids.own_request")
    assert outcomes[plain] == ("refused", "voids.no_pending_request")
    assert outcomes["SO-NOPE"] == ("refused", "orders.not_found")
    for number in paid:
        assert outcomes[number] == ("voided", "voids.result.voided")
        [void] = voids_of(shop.db, number)
        assert (void["status"], void["decided_by"], void["decision_note"]) == \
               ("applied", shop.users["ops_lead"].id, "checked with the customer")
        assert order_row(shop.db, number)["status"] == "voided" and len(refunds_of(shop.db, number)) == 1
        assert len(audit_of(shop.db, number, "void.approve")) == 1 and ("sales", "void.approved") in inbox(
            shop.db, number)
    assert voids_of(shop.db, mine[0])[0]["status"] == "pending_approval"
    assert order_row(shop.db, plain)["status"] == "pending"
    assert run_checks(shop.db)["ok"]


def test_rejecting_many_needs_a_note_and_leaves_the_orders_as_they_were(shop):
    numbers = requested(shop, 3)
    before = balance(shop.db, "SH", "PHN-1")
    with pytest.raises(InvalidInput) as info:
        voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "reject", " ")
    assert info.value.key == "voids.reject_note_required"
    assert {voids_of(shop.db, n)[0]["status"] for n in numbers} == {"pending_approval"}
    result = voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "reject", "duplicates of one request")
    assert (result["approved"], result["rejected"], result["refused"]) == (0, 3, 0)
    for number in numbers:
        [void] = voids_of(shop.db, number)
        assert (void["status"], void["decision_note"]) == ("rejected", "duplicates of one request")
        assert order_row(shop.db, number)["status"] == "pending"
        assert ("sales", "void.rejected") in inbox(shop.db, number)
        assert len(audit_of(shop.db, number, "void.reject")) == 1
    assert balance(shop.db, "SH", "PHN-1") == before
    again = voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "approve")
    assert {r["message_key"] for r in again["results"]} == {"voids.no_pending_request"}
    assert run_checks(shop.db)["ok"]


def test_an_order_that_can_no_longer_be_voided_is_refused_and_keeps_its_request(shop):
    numbers = requested(shop, 2)
    with shop.db.transaction() as cur:
        cur.execute("UPDATE orders SET status = 'completed' WHERE order_no = ?", [numbers[0]])
    result = voids.decide_many(shop.db, shop.users["admin"], numbers, "approve")
    assert [r["outcome"] for r in result["results"]] == ["refused", "voided"]
    assert result["results"][0]["message_key"] == "voids.approve_not_voidable"
    assert voids_of(shop.db, numbers[0])[0]["status"] == "pending_approval"
    # …and rejecting it is still possible.
    assert voids.decide_many(shop.db, shop.users["admin"], numbers[:1], "reject", "shipped")["rejected"] == 1


def test_a_double_submit_decides_once(shop):
    numbers = requested(shop, 2, paid=True)
    first = voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "approve", submission_key="k1")
    second = voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "approve", submission_key="k1")
    assert first == second and first["approved"] == 2
    assert [len(refunds_of(shop.db, n)) for n in numbers] == [1, 1]


@pytest.mark.parametrize("decision, note, key", [("maybe", None, "voids.bad_decision"),
                                                 ("approve", "x" * 2001, "voids.note_too_long")])
def test_bad_input_is_refused_and_changes_nothing(shop, decision, note, key):
    numbers = requested(shop, 1)
    with pytest.raises(InvalidInput) as info:
        voids.decide_many(shop.db, shop.users["ops_lead"], numbers, decision, note)
    assert info.value.key == key
    with pytest.raises(InvalidInput):
        voids.decide_many(shop.db, shop.users["ops_lead"], [], "approve")
    with pytest.raises(PermissionDenied):
        voids.decide_many(shop.db, shop.users["ops"], numbers, "approve")
    assert voids_of(shop.db, numbers[0])[0]["status"] == "pending_approval"


def test_two_leads_deciding_overlapping_requests_at_once_decide_each_exactly_once(shop):
    """Real threads, as two Streamlit sessions; this process's write lock lets one decide first, and the other
    finds those requests decided when it reads them in its own transaction."""
    import threading

    numbers = requested(shop, 6, paid=True)
    results, barrier = {}, threading.Barrier(2)

    def decide(who, chosen, decision, note=None):
        barrier.wait()
        results[who] = voids.decide_many(shop.db, shop.users[who], chosen, decision, note)

    threads = [threading.Thread(target=decide, args=("ops_lead", numbers[:4], "approve")),
               threading.Thread(target=decide, args=("admin", numbers[2:], "reject", "duplicate"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decided = {}
    for who in ("ops_lead", "admin"):
        for r in results[who]["results"]:
            if r["outcome"] != "refused":
                assert r["order_no"] not in decided, r
                decided[r["order_no"]] = r["outcome"]
            else:
                assert r["message_key"] == "voids.no_pending_request", r
    assert sorted(decided) == sorted(numbers)
    for number in numbers:
        [void] = voids_of(shop.db, number)
        assert void["status"] == ("applied" if decided[number] == "voided" else "rejected")
        assert len(refunds_of(shop.db, number)) == (1 if decided[number] == "voided" else 0)
    assert run_checks(shop.db)["ok"]
