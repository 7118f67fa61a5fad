"""An operations lead finds an order, opens it, comments with markup that must stay text, and bookmarks a search."""
import pytest

from tests.e2e.conftest import goto, login, settle

pytestmark = pytest.mark.e2e


def test_search_open_order_and_comment_shows_markup_literally(server, page, demo_orders):
    login(page, server, "lead")
    order_no = demo_orders["processing"]
    goto(page, f"{server}/search?number={order_no}", "Orders")
    page.get_by_text("Matching orders", exact=True).wait_for()
    page.locator("[data-testid=stMetricValue]").get_by_text("1", exact=True).wait_for()
    goto(page, f"{server}/order?no={order_no}", f"Order {order_no}")

    comment = '<script>window.pwned = 1</script> <img src=x onerror="window.pwned=2"> [link](http://evil)'
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Add comment").click()
    page.get_by_text("Comment added.").wait_for()
    page.get_by_text(comment, exact=True).wait_for()       # shown literally, as text
    settle(page)
    assert page.evaluate("window.pwned === undefined")
    assert page.locator("a[href='http://evil']").count() == 0


# Behind --runslow for the suite's five minutes; filters from a bookmarked URL: tests/app/test_search_page.py and
# test_order_pages.py.
@pytest.mark.slow
def test_a_bookmarked_search_opens_with_its_filters(server, page):
    login(page, server, "ops")
    goto(page, f"{server}/search?status=voided&warehouse=SH&sort=total:desc", "Orders")
    page.get_by_text("Matching orders", exact=True).wait_for()
    chips = page.locator("[data-testid=stMultiSelect] span[data-tag]")
    chips.first.wait_for()
    assert sorted(set(t.strip() for t in chips.all_inner_texts())) == ["Shanghai DC", "Voided"]
    assert "status=voided" in page.url and "warehouse=SH" in page.url
