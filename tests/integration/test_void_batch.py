"""Batch void (SPEC §4): per-order outcomes, one transaction, all or nothing when something changed."""

import pytest

from lib.errors import ConcurrentChange, InvalidInput, PermissionDenied
from lib.queries.check import run_checks
from lib.queries.voids import preview_batch
from lib.services import orders, voids
from tests.conftest import balance
from tests.integration.void_helpers import bulk_orders, make_order, order_row, voids_of


@pytest.fixture
def mixed(shop):
    """pending, processing+paid, shipped, big (needs approval) — and a number that doesn't exist."""
    return {"pending": make_order(shop), "processing": make_order(shop, paid=True, status="processing"),
            "shipped": make_order(shop, lines=(("TOY-1", 1),), status="shipped"),
            "big": make_order(shop, lines=(("PHN-2", 2),)), "missing": "SO-NOPE"}


def _numbers(mixed):
    return [mixed[k] for k in ("pending", "processing", "shipped", "big", "missing")]


def test_batch_voids_the_eligible_requests_approval_and_reports_the_refused(shop, mixed):
    result = voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock")
    outcomes = [r["outcome"] for r in result["results"]]
    assert outcomes == ["voided", "voided", "refused", "pending_approval", "refused"]
    assert (result["voided"], result["pending_approval"], result["refused"]) == (2, 1, 2)
    shipped, missing = result["results"][2], result["results"][4]
    assert "return instead" in shipped["message"] and missing["message"] == "Order SO-NOPE was not found."
    assert result["results"][1]["refund"] == "6296.50"
    assert [order_row(shop.db, mixed[k])["status"] for k in ("pending", "processing", "shipped", "big")] == \
           ["voided", "voided", "shipped", "pending"]
    batch_ids = {v["batch_id"] for k in ("pending", "processing", "big") for v in voids_of(shop.db, mixed[k])}
    assert batch_ids == {result["batch_id"]}
    assert balance(shop.db, "SH", "PHN-1") == (10, 0, 0) and balance(shop.db, "SH", "PHN-2") == (5, 2, 0)
    assert run_checks(shop.db)["ok"]


def test_batch_applies_nothing_when_an_order_changed_after_the_preview(shop, mixed):
    previews = preview_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock")
    expected = {p["order_no"]: p["version"] for p in previews}
    orders.change_status(shop.db, shop.users["ops_lead"], mixed["pending"], "processing")
    with pytest.raises(ConcurrentChange) as info:
        voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock", expected_versions=expected)
    assert info.value.key == "voids.batch_changed" and mixed["pending"] in info.value.message("en")
    assert [order_row(shop.db, mixed[k])["status"] for k in ("pending", "processing", "big")] == \
           ["processing", "processing", "pending"]
    assert all(voids_of(shop.db, mixed[k]) == [] for k in ("pending", "processing", "big"))
    assert balance(shop.db, "SH", "PHN-1") == (10, 4, 0)


def test_batch_skips_orders_refused_in_an_unchanged_preview(shop, mixed):
    previews = preview_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock")
    result = voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock",
                              expected_versions={p["order_no"]: p["version"] for p in previews})
    assert [r["outcome"] for r in result["results"]] == [p["outcome_if_confirmed"] for p in previews]


def test_batch_reports_progress_and_a_double_submit_is_answered_once(shop, mixed):
    seen = []
    first = voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock", submission_key="b-1",
                             progress=seen.append)
    again = voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed), "out_of_stock", submission_key="b-1")
    assert first == again
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 1
    assert len(voids_of(shop.db, mixed["pending"])) == 1 and len(voids_of(shop.db, mixed["big"])) == 1


def test_sales_batch_requests_their_own_orders_only(shop):
    own, other = make_order(shop, by="sales"), make_order(shop, rep="sales2")
    result = voids.void_batch(shop.db, shop.users["sales"], [own, other], "customer_cancelled")
    assert [r["outcome"] for r in result["results"]] == ["pending_approval", "refused"]
    assert result["results"][1]["message"] == f"Order {other} was not found."


@pytest.mark.parametrize("numbers, reason, error", [
    ([], "customer_cancelled", InvalidInput), (["  "], "customer_cancelled", InvalidInput),
    (None, "nope", InvalidInput), (None, "other", InvalidInput)])
def test_bad_batch_input_is_refused_and_changes_nothing(shop, mixed, numbers, reason, error):
    with pytest.raises(error):
        voids.void_batch(shop.db, shop.users["ops"], _numbers(mixed) if numbers is None else numbers, reason)
    assert order_row(shop.db, mixed["pending"])["status"] == "pending"


def test_analyst_cannot_batch_void(shop, mixed):
    with pytest.raises(PermissionDenied):
        voids.void_batch(shop.db, shop.users["analyst"], _numbers(mixed), "out_of_stock")


def test_a_thousand_orders_void_in_one_set_based_transaction(shop):
    numbers = bulk_orders(shop.db, 1000)
    previews = preview_batch(shop.db, shop.users["ops"], numbers, "out_of_stock")
    # How fast is `python -m lib.cli bench`'s business (batch_void_s); here only what it does (issue #13).
    result = voids.void_batch(shop.db, shop.users["ops"], numbers, "out_of_stock",
                              expected_versions={p["order_no"]: p["version"] for p in previews})
    assert result["voided"] == 1000
    assert balance(shop.db, "SH", "BULK-1") == (1010, 0, 0)
    with shop.db.read() as cur:
        counts = cur.execute("SELECT (SELECT count(*) FROM refunds), (SELECT count(*) FROM stock_ledger"
                             " WHERE kind = 'release'), (SELECT count(*) FROM audit_log WHERE action = 'void.apply'),"
                             " (SELECT count(*) FROM notifications WHERE kind = 'refund.created')").fetchall()[0]
    assert counts == (1000, 1000, 1000, 1000)
    assert run_checks(shop.db)["ok"]
