"""A return from end to end in the browser (issue 5): ops creates it for two lines of a shipped, paid order,
the warehouse inspects it (one line restocked, one scrapped), finance pays the refund out; then the stock
page, the order's timeline and the refund queue's 'Paid out' view all show it."""
import re

import pytest

from tests.e2e.conftest import login, wait_idle

pytestmark = pytest.mark.e2e
REF = "E2E-RETURN-0001"


@pytest.fixture
def sign_in_as(browser, server):
    """A fresh browser session per person, signed in; closed at the end of the test."""
    contexts = []

    def open_as(username: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        login(pg, server, username)
        return pg

    yield open_as
    for context in contexts:
        context.close()


def _table_rows(pg, index: int = 0) -> list[list[str]]:
    """The cells of a dataframe's rows, read from the grid's accessibility table (the grid itself is a canvas)."""
    grid = pg.locator("[data-testid=stDataFrame]").nth(index)
    return [[cell.text_content() for cell in row.locator("td").all()] for row in grid.locator("tbody tr").all()]


def _on_hand(pg, server: str, warehouse: str, sku: str) -> tuple[int, list[list[str]]]:
    """On-hand stock of one SKU in one warehouse, and the SKU's ledger rows, as the stock page shows them."""
    pg.goto(f"{server}/stock")
    wait_idle(pg)
    pg.get_by_label("SKU starts with").fill(sku)
    pg.keyboard.press("Enter")
    wait_idle(pg)
    header = [h.text_content() for h in pg.locator("[data-testid=stDataFrame]").first.locator("thead th").all()]
    row = next(r for r in _table_rows(pg) if r[header.index("Warehouse")] == warehouse)
    return int(row[header.index("On hand")].replace(",", "")), _table_rows(pg, 1)


def _create_return(pg, server: str, order_no: str) -> tuple[str, str, list[tuple[str, int]]]:
    """As ops, through the order page's dialog: all of the first line, one unit of the second."""
    pg.goto(f"{server}/order?no={order_no}")
    wait_idle(pg)
    warehouse = re.search(r"Warehouse: (\w+)", pg.get_by_text("Warehouse:").first.text_content()).group(1)
    pg.get_by_role("button", name="Create return (退库)").click()
    wait_idle(pg)
    pg.keyboard.press("Escape")   # dismissed, it stays closed when the page runs again
    pg.get_by_label("Note for the next step (optional)").fill("-")
    pg.keyboard.press("Enter")
    wait_idle(pg)
    assert not pg.get_by_role("dialog").is_visible()
    pg.get_by_role("button", name="Create return (退库)").click()
    wait_idle(pg)
    dialog = pg.get_by_role("dialog")
    labels = [t for t in dialog.locator("[data-testid=stWidgetLabel]").all_inner_texts() if "return how many" in t]
    lines = [(re.match(r"(\S+) · ", t).group(1), int(re.search(r"\(up to (\d+)\)", t).group(1))) for t in labels]
    assert len(lines) >= 2, labels
    chosen = [(lines[0][0], lines[0][1]), (lines[1][0], 1)]
    for (sku, qty), label in zip(chosen, labels):
        dialog.get_by_label(label).fill(str(qty))
        dialog.get_by_label(label).press("Tab")
        wait_idle(pg)
    dialog.locator("[data-testid=stSelectbox]").filter(has_text="Reason").click()
    pg.get_by_role("option", name="Quality problem").click()
    wait_idle(pg)
    dialog.get_by_role("button", name="Review and continue").click()
    wait_idle(pg)
    dialog.get_by_text(f"Return {chosen[0][1] + 1} item(s) of {order_no}").wait_for()
    dialog.get_by_role("button", name="Yes, create the return note").click()
    wait_idle(pg)
    flash = pg.get_by_text(re.compile(r"Return note RT-\d{8}-\d{5} created"))
    flash.wait_for()
    return re.search(r"RT-\d{8}-\d{5}", flash.text_content()).group(0), warehouse, chosen


def _inspect(pg, server: str, return_no: str, scrap_sku: str) -> None:
    """As the warehouse: receive the goods, then restock every line but `scrap_sku`."""
    pg.goto(f"{server}/returns?no={return_no}")
    wait_idle(pg)
    pg.get_by_role("heading", name=f"Return {return_no}").wait_for()
    pg.get_by_role("button", name="Mark received").click()
    wait_idle(pg)
    pg.get_by_text("Inspection: what happens to each line").wait_for()
    pg.get_by_role("radiogroup", name=re.compile(f"^{scrap_sku} × ")).get_by_role("radio", name="Scrap").click()
    pg.get_by_role("button", name="Record inspection and move stock").click()
    wait_idle(pg)
    pg.get_by_text("Inspected", exact=True).first.wait_for()   # the note's status badge


def _pay_refund(pg, server: str, order_no: str) -> None:
    """As finance: pick the newest pending refund (the last row, oldest first) and mark it paid out."""
    pg.goto(f"{server}/refunds")
    wait_idle(pg)
    grid = pg.locator("[data-testid=stDataFrame]").first
    assert order_no in [r[0] for r in _table_rows(pg)]
    # Rows are drawn on a canvas: focus the grid, go to the last row and select it with the keyboard.
    grid.locator("canvas").first.click(position={"x": 80, "y": 52}, force=True)
    pg.keyboard.press("Control+ArrowDown")
    pg.keyboard.press("Shift+Space")
    wait_idle(pg)
    pg.get_by_role("heading", name=re.compile(f"Pay out .* for {order_no}")).wait_for()
    pg.get_by_label("Payment reference (bank transfer no.)").fill(REF)
    pg.get_by_role("button", name="Mark paid out").click()
    wait_idle(pg)
    pg.get_by_text(f"Refund for {order_no} marked paid out.").wait_for()


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
    finance.goto(f"{server}/order?no={order_no}")
    wait_idle(finance)
    finance.get_by_text(re.compile(f"Return {return_no} created: Quality problem, {restock_qty + 1} item")).wait_for()
    finance.get_by_text(re.compile(f"Return {return_no} inspected")).wait_for()
    finance.get_by_text(re.compile(rf"Refund of .* paid out \(ref\. {REF}\)")).wait_for()

    finance.goto(f"{server}/refunds")
    wait_idle(finance)
    finance.get_by_role("radiogroup", name="Status").get_by_role("radio", name="Paid out").click()
    wait_idle(finance)
    paid = [r for r in _table_rows(finance) if order_no in r]   # the reference column is off-screen on the right
    assert paid and return_no in paid[0], paid
