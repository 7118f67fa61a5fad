"""The order page's one-query void verdict (issue #13) agrees with the full impact preview for every role and state."""
import pytest

from lib.errors import NotFound
from lib.queries.void_eligibility import void_eligibility
from lib.queries.voids import preview_void
from lib.services import orders, voids
from lib.services.settings import update_rules
from tests.integration.void_helpers import make_order

USERS = ("sales", "sales2", "ops", "ops_lead", "finance", "warehouse", "analyst", "admin")
VERDICT = ("eligible", "refusal", "refusal_params")


ONE = (("TOY-1", 1),)


def _pending_request(shop) -> str:
    order_no = make_order(shop, lines=ONE, by="sales")
    voids.void_order(shop.db, shop.users["sales"], order_no, "order_error")
    return order_no


def _voided(shop) -> str:
    order_no = make_order(shop, lines=ONE)
    voids.void_order(shop.db, shop.users["ops"], order_no, "order_error")
    return order_no


def _archived(shop) -> str:
    order_no = make_order(shop, lines=ONE, status="completed")
    orders.change_status(shop.db, shop.users["ops"], order_no, "archived")
    return order_no


MAKE = {**{status: (lambda shop, s=status: make_order(shop, lines=ONE, status=s))
           for status in ("pending", "processing", "shipped", "completed")},
        "big": lambda shop: make_order(shop, lines=(("PHN-2", 2),)),
        "sales_own": lambda shop: make_order(shop, lines=ONE, by="sales"),
        "other_rep": lambda shop: make_order(shop, lines=ONE, rep="sales2"),
        "requested": _pending_request, "voided": _voided, "archived": _archived}


def _preview_verdict(shop, user: str, order_no: str) -> dict:
    try:
        preview = preview_void(shop.db, shop.users[user], order_no)
    except NotFound as exc:
        return {"eligible": False, "refusal": exc.key, "refusal_params": exc.params}
    return {k: preview[k] for k in VERDICT + ("needs_approval",)}


def test_the_verdict_is_the_previews_for_every_role_and_state(shop):
    for kind, make in MAKE.items():
        order_no = make(shop)
        for user in USERS:
            verdict = void_eligibility(shop.db, shop.users[user], order_no)
            expected = _preview_verdict(shop, user, order_no)
            if kind == "requested":   # the preview then tells what approving would do; the page shows no button
                expected.pop("needs_approval", None)
            assert {k: verdict[k] for k in expected} == expected, (kind, user)


@pytest.mark.parametrize("user, kind, key", [
    ("ops", "shipped", "voids.shipped_use_return"),
    ("ops", "requested", "voids.request_pending"),
    ("warehouse", "pending", "error.permission"),
    ("sales", "other_rep", "orders.not_found"),
])
def test_the_verdict_names_the_refusal(shop, user, kind, key):
    order_no = MAKE[kind](shop)
    verdict = void_eligibility(shop.db, shop.users[user], order_no)
    assert (verdict["eligible"], verdict["refusal"]) == (False, key)


def test_a_rule_change_shows_at_once(shop):
    order_no = make_order(shop, lines=ONE, by="sales")
    assert void_eligibility(shop.db, shop.users["sales"], order_no)["approval_reason"] == "sales_request"
    update_rules(shop.db, shop.users["ops_lead"], sales_may_request_voids=False)
    verdict = void_eligibility(shop.db, shop.users["sales"], order_no)
    assert (verdict["eligible"], verdict["refusal"]) == (False, "voids.sales_requests_off")
