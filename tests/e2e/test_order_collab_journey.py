"""Working on an order together (issue 3): find it by a number prefix, open it from the results, comment,
reassign it, and read both on its timeline."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import goto, login, settle

pytestmark = pytest.mark.e2e

HEADER_AND_HALF_A_ROW = 35 + 17  # st.dataframe's header and row height are 35 px


def _result_links(page) -> list[str]:
    """The first column of every result row, from the grid's accessible table (the grid itself is a canvas)."""
    return page.locator("[data-testid=stDataFrame] td[role=gridcell][aria-colindex='1']").all_inner_texts()


# Behind --runslow for the suite's five minutes; prefix search, comments, reassignment and the timeline:
# tests/app/test_order_page.py and test_search_page.py.
@pytest.mark.slow
def test_find_by_prefix_comment_and_reassign_then_read_the_timeline(server, page, demo_orders):
    order_no = demo_orders["collab"]  # the newest order of its prefix: the first row of the default sort
    prefix = order_no[:12]
    login(page, server, "lead")
    goto(page, f"{server}/search", "Orders")
    page.get_by_label("Order number (exact or prefix)").fill(prefix)
    page.keyboard.press("Enter")
    # Every order is counted before; the prefix's orders once the search by it has run and drawn its results.
    count = page.locator("[data-testid=stMetricValue]").first
    count.get_by_text(f"{demo_orders['collab_prefix_count']:,}", exact=True).wait_for()
    settle(page)
    assert f"number={prefix}" in page.url
    # The grid fills in its rows a moment after the run: wait for the first row of the results (before, the
    # first row was the newest order of all, of a later day).
    first_link = page.locator("[data-testid=stDataFrame] td[role=gridcell][aria-colindex='1']").first
    expect(first_link).to_have_text(f"/order?no={order_no}")
    links = _result_links(page)
    assert len(links) > 1 and all(link.startswith(f"/order?no={prefix}") for link in links)
    # The grid's table holds the rows it has drawn (about ten); the count covers them all.
    assert int(count.inner_text().replace(",", "")) >= len(links)
    assert links[0] == f"/order?no={order_no}"

    grid = page.locator("[data-testid=stDataFrame] canvas").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    x, y = box["x"] + 80, box["y"] + HEADER_AND_HALF_A_ROW  # the first row's order number
    page.mouse.move(x, y)  # the grid follows a link only once it has seen the pointer over it
    page.wait_for_function("c => c.style.cursor === 'pointer'", arg=grid.element_handle())
    with page.context.expect_page() as opened:  # a link cell opens the order in a new tab
        page.mouse.click(x, y)
    order_page = opened.value
    order_page.bring_to_front()
    order_page.get_by_role("heading", name=f"Order {order_no}").wait_for()
    settle(order_page)

    comment = "Customer asks for a call back before Friday — see ticket #4411"
    order_page.get_by_label("Comment").fill(comment)
    order_page.get_by_role("button", name="Add comment").click()
    order_page.get_by_text("Comment added.").wait_for()
    settle(order_page)

    # Typing into the focused box opens its list wherever it sits: a click on the box right after the page
    # settles sometimes only focused it (a new tab, still laying out) and the list never opened.
    assign_to = order_page.get_by_role("combobox", name="Assign to")
    assign_to.focus()
    order_page.keyboard.type("Kevin Zhao")
    order_page.get_by_role("option", name="Kevin Zhao · Operations").click()
    assert assign_to.input_value() == "Kevin Zhao · Operations"
    order_page.get_by_role("button", name="Assign", exact=True).click()
    order_page.get_by_text("Assigned to Kevin Zhao · Operations; they have been notified.").wait_for()
    settle(order_page)
    assert "Assignee: Kevin Zhao" in order_page.get_by_text("Assignee:").inner_text()

    order_page.reload()  # the timeline is read back from the database, newest first
    reassigned = order_page.get_by_text("Reassigned from 李娜 to Kevin Zhao", exact=True)
    commented = order_page.get_by_text(comment, exact=True)
    reassigned.wait_for()
    commented.wait_for()
    settle(order_page)
    assert reassigned.bounding_box()["y"] < commented.bounding_box()["y"]
