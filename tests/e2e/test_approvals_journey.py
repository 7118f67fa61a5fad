"""Void requests in the browser: a sales rep asks for two voids through the dialog, an operations lead selects both
on the Approvals page and approves them together; both orders end voided."""
import pytest

from tests.e2e.conftest import login, void_in_dialog, wait_idle

pytestmark = pytest.mark.e2e


def request_void(page, server, order_no: str) -> None:
    page.goto(f"{server}/order?no={order_no}")
    wait_idle(page)
    void_in_dialog(page, "Request void", "Customer cancelled", "Yes, send the void request")
    page.get_by_text(f"Void request for {order_no} sent for approval.").wait_for()


def queue_rows(page) -> list[str]:
    """The order number of each row of the approvals queue, top to bottom (from the grid's accessibility table)."""
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.locator("tbody tr").first.wait_for(state="attached")
    return [row.locator("td").first.text_content().strip() for row in grid.locator("tbody tr").all()]


def test_a_lead_approves_two_requests_together(server, browser, demo_orders):
    rep, numbers = demo_orders["requests"]
    asking = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    login(asking, server, rep)
    for number in numbers:
        request_void(asking, server, number)
    asking.context.close()

    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    page.set_default_timeout(20_000)
    login(page, server, "lead")
    page.goto(f"{server}/approvals")
    wait_idle(page)
    rows = queue_rows(page)
    box = page.locator("[data-testid=stDataFrame]").first.bounding_box()
    for number in numbers:
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17 + 35 * rows.index(number))   # the row's checkbox
        wait_idle(page)
    page.get_by_text("Deciding 2 void requests together").wait_for()
    page.get_by_role("button", name="Approve 2").click()
    wait_idle(page)
    page.get_by_text("2 approved and voided, 0 rejected.").wait_for()
    for number in numbers:
        page.goto(f"{server}/order?no={number}")
        wait_idle(page)
        page.get_by_text("Voided", exact=True).first.wait_for()
    page.context.close()
