"""An operations lead imports a GBK-encoded ERP export with Chinese headers in the browser (issue #7): uploads it,
accepts the proposed mapping, checks it and sees the preview, loads it, then finds an imported order in search.
Its own server on its own small demo database, so the shared one is left as the other journeys expect it."""
import subprocess
import sys

import duckdb
import pytest

from lib import clock
from tests.e2e.conftest import ROOT, SERVER_ENV, goto, login, new_page, settle, start_server, stop_server

pytestmark = pytest.mark.e2e
HEADERS = "订单编号,客户名称,下单时间,订单状态,仓库,商品编码,数量,单价"


@pytest.fixture(scope="module")
def import_server(tmp_path_factory):
    """A seeded database, a GBK export for it (orders of a real customer, SKUs in stock), and a server on it."""
    path = tmp_path_factory.mktemp("e2e_import") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--orders", "300", "--seed", "5",
                    "--today", clock.today().isoformat(), "--db", str(path)],
                   cwd=ROOT, check=True, capture_output=True)
    con = duckdb.connect(str(path), read_only=True)
    try:
        customer = con.execute("SELECT name FROM customers WHERE name IN (SELECT name FROM customers GROUP BY name"
                               " HAVING count(*) = 1) ORDER BY id LIMIT 1").fetchall()[0][0]
        (wh, name_zh), = con.execute("SELECT w.code, w.name_zh FROM warehouses w ORDER BY code LIMIT 1").fetchall()
        skus = [r[0] for r in con.execute("SELECT sku FROM stock_balances WHERE warehouse = ? AND on_hand - reserved > 10"
                                          " ORDER BY sku LIMIT 2", [wh]).fetchall()]
    finally:
        con.close()
    lines = [f"E2E-IMP-001,{customer},2026/3/5 9:30,待处理,{name_zh},{skus[0]},2,",
             f"E2E-IMP-001,{customer},2026/3/5 9:30,待处理,{name_zh},{skus[1]},1,",
             f"E2E-IMP-002,{customer},2026年3月6日,已完成,{name_zh},{skus[0]},3,120.50"]
    data = "\n".join([HEADERS] + lines).encode("gbk")
    # An English export with a title row above its header and no warehouse column (the wizard gets a fixed one).
    titled = "\n".join(["Sales orders export, March 2026", "order_no,customer_name,created_at,status,sku,qty",
                         f"E2E-FIX-001,{customer},2026-03-07 10:00,pending,{skus[0]},1",
                         f"E2E-FIX-002,{customer},2026-03-07 11:00,pending,{skus[1]},2"]).encode()
    proc, url = start_server(path, env_extra=SERVER_ENV)
    yield url, data, titled, wh
    stop_server(proc)


def _grid_text(pg, index: int, showing: str) -> str:
    """The text of a dataframe's cells, from the grid's accessibility table (the grid itself is a canvas), once a
    row shows `showing`: the grid fills in its rows a moment after the run that drew it."""
    grid = pg.locator("[data-testid=stDataFrame]").nth(index)
    grid.locator("tbody tr", has_text=showing).first.wait_for(state="attached")
    return " ".join(grid.locator("tbody td").all_text_contents())


def _upload(pg, url: str, name: str, data: bytes) -> None:
    """As the lead: the import page, and the file dropped on its uploader."""
    login(pg, url, "lead")
    goto(pg, f"{url}/import", "Import data")
    pg.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}])


def test_import_a_gbk_export_and_find_the_order(browser, import_server):
    url, data, _titled, _wh = import_server
    pg = new_page(browser)
    try:
        _upload(pg, url, "订单导出.csv", data)
        pg.get_by_text("CSV, GB18030, separated by ,").wait_for()
        pg.get_by_text("Columns and values").wait_for()
        settle(pg)

        pg.get_by_role("button", name="Check every row").click()
        pg.get_by_text("All 3 rows passed the check.").wait_for()
        settle(pg)
        preview = _grid_text(pg, 0, showing="E2E-IMP-002")
        assert "E2E-IMP-001" in preview and "E2E-IMP-002" in preview and "Pending" in preview

        pg.get_by_role("button", name="Load all 3 rows").click()
        pg.get_by_text("Loaded 3 rows from 订单导出.csv.").wait_for()
        settle(pg)

        goto(pg, f"{url}/search", "Orders")
        pg.get_by_label("Order number (exact or prefix)").fill("E2E-IMP-00")
        pg.keyboard.press("Enter")
        # The count of every order before, 2 once the search by the prefix has run (and drawn its results).
        pg.locator("[data-testid=stMetricValue]").get_by_text("2", exact=True).wait_for()
        settle(pg)
        results = _grid_text(pg, 0, showing="E2E-IMP-00")
        assert "E2E-IMP-001" in results and "E2E-IMP-002" in results
    finally:
        pg.context.close()


# Behind --runslow for the suite's five minutes: title rows and a fixed warehouse are also proven by
# tests/integration/test_import_layouts.py and the wizard's AppTest (tests/app/test_import_page.py).
@pytest.mark.slow
def test_a_file_with_a_title_row_and_a_fixed_warehouse_loads_from_the_wizard(browser, import_server):
    url, _data, titled, wh = import_server
    pg = new_page(browser)
    try:
        _upload(pg, url, "export.csv", titled)
        pg.get_by_text("header on row 2").wait_for()   # the title row above it was passed over
        pg.get_by_text("Columns and values").wait_for()
        settle(pg)
        pg.locator("[data-testid=stSelectbox]").filter(has_text="Warehouse *").click()
        pg.get_by_role("option", name="A fixed value…").click()
        fixed = pg.get_by_label("Warehouse: the value for every row")
        fixed.fill(wh)
        fixed.press("Tab")
        settle(pg)

        pg.get_by_role("button", name="Check every row").click()
        pg.get_by_text("All 2 rows passed the check.").wait_for()
        settle(pg)
        pg.get_by_role("button", name="Load all 2 rows").click()
        pg.get_by_text("Loaded 2 rows from export.csv.").wait_for()
        settle(pg)

        goto(pg, f"{url}/order?no=E2E-FIX-002", "Order E2E-FIX-002")
        pg.get_by_text(f"Warehouse: {wh}").first.wait_for()
    finally:
        pg.context.close()
