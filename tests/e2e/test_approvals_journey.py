"""Void requests in the browser: a sales rep's two void requests (made before the server starts: see
tests/e2e/conftest.py demo_orders) wait on the Approvals page; an operations lead selects both and approves them
together; both orders end voided."""
import pytest

from tests.e2e.conftest import goto, login, new_page, settle

pytestmark = pytest.mark.e2e


def queue_rows(page) -> list[str]:
    """The order number of each row of the approvals queue, top to bottom (from the grid's accessibility table)."""
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.locator("tbody tr").first.wait_for(state="attached")
    return [row.locator("td").first.text_content().strip() for row in grid.locator("tbody tr").all()]


def test_a_lead_approves_two_requests_together(server, browser, demo_orders):
    _rep, numbers = demo_orders["requests"]
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
