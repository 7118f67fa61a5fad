"""A return from end to end in the browser (issue 5): ops creates it for two lines of a shipped, paid order,
the warehouse inspects it (one line restocked, one scrapped), finance pays the refund out; then the stock
page, the order's timeline and the refund queue's 'Paid out' view all show it."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import goto, login, new_page, settle

pytestmark = pytest.mark.e2e
REF = "E2E-RETURN-0001"


@pytest.fixture
def sign_in_as(browser, server):
    """A fresh browser session per person, signed in; closed at the end of the test."""
    contexts = []

    def open_as(username: str):
        pg = new_page(browser)
        contexts.append(pg.context)
        login(pg, server, username)
        return pg

    yield open_as
    for context in contexts:
        context.close()


def _table_rows(pg, index: int = 0) -> list[list[str]]:
    """The cells of a dataframe's rows, read from the grid's accessibility table (the grid itself is a canvas);
    call it once the run that draws the grid is over."""
    grid = pg.locator("[data-testid=stDataFrame]").nth(index)
    grid.locator("tbody tr").first.wait_for(state="attached")
    return [[cell.text_content() for cell in row.locator("td").all()] for row in grid.locator("tbody tr").all()]


def _on_hand(pg, server: str, warehouse: str, sku: str) -> tuple[int, list[list[str]]]:
    """On-hand stock of one SKU in one warehouse, and the SKU's ledger rows, as the stock page shows them."""
    goto(pg, f"{server}/stock", "Stock")
    pg.get_by_label("SKU starts with").fill(sku)
    pg.keyboard.press("Enter")
    pg.locator("[data-testid=stDataFrame]").nth(1).wait_for()   # the ledger: shown once the list is one SKU's
    settle(pg)
    # The grid fills in its rows a moment after the run: wait until every row it shows is the SKU's.
    levels = pg.locator("[data-testid=stDataFrame]").first
    expect(levels.locator("tbody tr").filter(has_not_text=sku)).to_have_count(0)
    levels.locator("tbody tr").first.wait_for(state="attached")
    header = [h.text_content() for h in levels.locator("thead th").all()]
    row = next(r for r in _table_rows(pg) if r[header.index("Warehouse")] == warehouse)
    return int(row[header.index("On hand")].replace(",", "")), _table_rows(pg, 1)


def _create_return(pg, server: str, order_no: str) -> tuple[str, str, list[tuple[str, int]]]:
    """As ops, through the order page's dialog: all of the first line, one unit of the second."""
    goto(pg, f"{server}/order?no={order_no}", f"Order {order_no}")
    warehouse = re.search(r"Warehouse: (\w+)", pg.get_by_text("Warehouse:").first.text_content()).group(1)
    pg.get_by_role("button", name="Create return (退库)").click()
    dialog = pg.get_by_role("dialog")
    dialog.wait_for()
    pg.keyboard.press("Escape")   # dismissed, it stays closed when the page runs again:
    dialog.wait_for(state="hidden")
    # a run that draws what it did — an empty comment is refused, and nothing is written — and is then over.
    pg.get_by_role("button", name="Add comment").click()
    pg.get_by_text("A comment cannot be empty.").wait_for()
    settle(pg)
    assert not dialog.is_visible()
    pg.get_by_role("button", name="Create return (退库)").click()
    dialog.get_by_text("return how many").first.wait_for()
    settle(pg)
    labels = [t for t in dialog.locator("[data-testid=stWidgetLabel]").all_inner_texts() if "return how many" in t]
    lines = [(re.match(r"(\S+) · ", t).group(1), int(re.search(r"\(up to (\d+)\)", t).group(1))) for t in labels]
    assert len(lines) >= 2, labels
    chosen = [(lines[0][0], lines[0][1]), (lines[1][0], 1)]
    refund = dialog.locator("[data-testid=stWidgetLabel]").filter(has_text="Refund (returned value")
    for (sku, qty), label in zip(chosen, labels):
        before = refund.inner_text()
        # by its accessible name, which is the label people see (no Markdown escape of the SKU's "-" read out)
        box = dialog.get_by_label(label, exact=True)
        box.fill(str(qty))
        box.press("Tab")
        refund.filter(has_not_text=before).wait_for()   # the run that got the quantity has drawn the value it adds
        settle(pg)
        expect(refund).to_have_count(1)
    dialog.locator("[data-testid=stSelectbox]").filter(has_text="Reason").click()
    pg.get_by_role("option", name="Quality problem").click()
    # Enabled only once the run that got the reason has drawn the dialog again; a click waits for that.
    dialog.get_by_role("button", name="Review and continue").click()
    dialog.get_by_text(f"Return {chosen[0][1] + 1} item(s) of {order_no}").wait_for()
    dialog.get_by_role("button", name="Yes, create the return note").click()
    flash = pg.get_by_text(re.compile(r"Return note RT-\d{8}-\d{5} created"))
    flash.wait_for()
    settle(pg)
    return re.search(r"RT-\d{8}-\d{5}", flash.text_content()).group(0), warehouse, chosen


def _inspect(pg, server: str, return_no: str, scrap_sku: str) -> None:
    """As the warehouse: receive the goods, then restock every line but `scrap_sku`."""
    goto(pg, f"{server}/returns?no={return_no}", f"Return {return_no}")
    pg.get_by_role("button", name="Mark received").click()
    pg.get_by_text("Inspection: what happens to each line").wait_for()
    settle(pg)
    # by the group's accessible name, which reads as its label does: "BTY-0007 × 1 …", with no Markdown escape
    group = pg.get_by_role("radiogroup", name=re.compile("^" + re.escape(scrap_sku) + " × "))
    group.get_by_role("radio", name="Scrap").click()
    pg.get_by_role("button", name="Record inspection and move stock").click()
    pg.get_by_text("Inspected", exact=True).first.wait_for()   # the note's status badge
    settle(pg)


def _pay_refund(pg, server: str, order_no: str) -> None:
    """As finance: pick the newest pending refund (the last row, oldest first) and mark it paid out."""
    goto(pg, f"{server}/refunds", "Refunds")
    grid = pg.locator("[data-testid=stDataFrame]").first
    assert order_no in [r[0] for r in _table_rows(pg)]
    # Rows are drawn on a canvas: focus the grid, go to the last row and select it with the keyboard, each key once
    # the grid's accessibility table shows where the one before has put the current cell.
    grid.locator("canvas").first.click(position={"x": 80, "y": 52}, force=True)
    grid.locator("tbody tr").first.locator("td[aria-selected=true]").wait_for(state="attached")
    pg.keyboard.press("Control+ArrowDown")
    grid.locator("tbody tr").last.locator("td[aria-selected=true]").wait_for(state="attached")
    pg.keyboard.press("Shift+Space")
    pg.get_by_role("heading", name=re.compile(f"Pay out .* for {order_no}")).wait_for()
    settle(pg)
    pg.get_by_label("Payment reference (bank transfer no.)").fill(REF)
    pg.get_by_role("button", name="Mark paid out").click()
    pg.get_by_text(f"Refund for {order_no} marked paid out.").wait_for()
    settle(pg)


def test_return_inspect_and_refund_from_end_to_end(sign_in_as, server, demo_orders):
    order_no = demo_orders["returnable"]
    return_no, warehouse, ((restock_sku, restock_qty), (scrap_sku, _one)) = _create_return(
        sign_in_as("ops"), server, order_no)

    store = sign_in_as("warehouse")
    before, _ledger = _on_hand(store, server, warehouse, restock_sku)
    _inspect(store, server, return_no, scrap_sku)
    after, ledger = _on_hand(store, server, warehouse, restock_sku)
    assert after == before + restock_qty
    assert ledger[0][2:4] == ["Return restocked", str(restock_qty)], ledger[0]   # newest first: kind, Δ on hand

    finance = sign_in_as("finance")
    _pay_refund(finance, server, order_no)
    goto(finance, f"{server}/order?no={order_no}", f"Order {order_no}")
    finance.get_by_text(re.compile(f"Return {return_no} created: Quality problem, {restock_qty + 1} item")).wait_for()
    finance.get_by_text(re.compile(f"Return {return_no} inspected")).wait_for()
    finance.get_by_text(re.compile(rf"Refund of .* paid out \(ref\. {REF}\)")).wait_for()

    goto(finance, f"{server}/refunds", "Refunds")
    finance.get_by_role("radiogroup", name="Status").get_by_role("radio", name="Paid out").click()
    # The return's refund is listed only once paid out: its row is there when the run for that list has drawn it.
    finance.locator("[data-testid=stDataFrame]").first.locator("tbody tr", has_text=return_no).wait_for(
        state="attached")
    settle(finance)
    paid = [r for r in _table_rows(finance) if order_no in r]   # the reference column is off-screen on the right
    assert paid and return_no in paid[0], paid
