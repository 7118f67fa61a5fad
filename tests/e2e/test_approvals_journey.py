"""Void requests in the browser: a sales rep asks for two voids through the dialog, an operations lead selects both
on the Approvals page and approves them together; both orders end voided."""
import pytest

from tests.e2e.conftest import goto, login, new_page, settle, void_in_dialog

pytestmark = pytest.mark.e2e


def request_void(page, server, order_no: str) -> None:
    goto(page, f"{server}/order?no={order_no}", f"Order {order_no}")
    void_in_dialog(page, "Request void", "Customer cancelled", "Yes, send the void request")
    page.get_by_text(f"Void request for {order_no} sent for approval.").wait_for()
    settle(page)


def queue_rows(page) -> list[str]:
    """The order number of each row of the approvals queue, top to bottom (from the grid's accessibility table)."""
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.locator("tbody tr").first.wait_for(state="attached")
    return [row.locator("td").first.text_content().strip() for row in grid.locator("tbody tr").all()]


def test_a_lead_approves_two_requests_together(server, browser, demo_orders):
    rep, numbers = demo_orders["requests"]
    asking = new_page(browser)
    login(asking, server, rep)
    for number in numbers:
        request_void(asking, server, number)
    asking.context.close()

    page = new_page(browser)
    login(page, server, "lead")
    goto(page, f"{server}/approvals", "Void approvals")
    rows = queue_rows(page)
    box = page.locator("[data-testid=stDataFrame]").first.bounding_box()
    deciding = [f"Deciding the void of {numbers[0]}", "Deciding 2 void requests together"]
    for number, heading in zip(numbers, deciding):
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17 + 35 * rows.index(number))   # the row's checkbox
        page.get_by_role("heading", name=heading).wait_for()
        settle(page)
    page.get_by_role("button", name="Approve 2").click()
    page.get_by_text("2 approved and voided, 0 rejected.").wait_for()
    for number in numbers:
        goto(page, f"{server}/order?no={number}", f"Order {number}")
        page.get_by_text("Voided", exact=True).first.wait_for()
    page.context.close()
