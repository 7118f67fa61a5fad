"""Voiding in the browser: impact preview, second confirmation, the order shows voided; shipped points to returns."""
import pytest

from tests.e2e.conftest import goto, login, settle, void_in_dialog

pytestmark = pytest.mark.e2e


def test_void_with_preview_and_confirmation_then_restore(server, page, demo_orders):
    order_no = demo_orders["voidable"]
    login(page, server, "lead")
    goto(page, f"{server}/order?no={order_no}", f"Order {order_no}")

    def impact_preview(dialog):
        dialog.get_by_text("Reserved stock that will be released").wait_for()
        dialog.get_by_text("Who will be told").wait_for()

    void_in_dialog(page, "Void order", "Customer cancelled", "Yes, void the order", look=impact_preview)
    page.get_by_text(f"Order {order_no} voided").wait_for()
    settle(page)
    page.get_by_text("Voided", exact=True).first.wait_for()  # the status badge
    page.get_by_text("Order voided: Customer cancelled").first.wait_for()  # on the timeline

    page.get_by_text("Undo the void (restore)").click()
    why = page.get_by_label("Why is the void undone? (required)")
    why.fill("Customer called back: keep it")
    why.press("Tab")   # the note is sent (a run of its own) before the click, not raced by it
    settle(page)
    page.get_by_role("button", name="Restore order").click()
    page.get_by_text(f"Order {order_no} restored").wait_for()


# Behind --runslow for the suite's five minutes; the refusal and its pointer to returns: tests/app/test_void_button.py
# and tests/integration/test_voids.py.
@pytest.mark.slow
def test_a_shipped_order_cannot_be_voided_and_points_to_returns(server, page, demo_orders):
    login(page, server, "ops")
    goto(page, f"{server}/order?no={demo_orders['shipped']}", f"Order {demo_orders['shipped']}")
    assert page.get_by_role("button", name="Void order").is_disabled()
    page.get_by_text("Shipped goods come back through a return note instead.").wait_for()
    assert page.get_by_role("button", name="Create return (退库)").is_enabled()
