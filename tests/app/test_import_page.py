"""The import wizard's wiring (AppTest, its own small seeded database): upload, proposed mapping, check with
preview, rejected rows with a report, load, and who may open it."""
import pytest
from streamlit.testing.v1 import AppTest

from lib import clock
from lib.db import Database, apply_migrations
from lib.ui.context import md_escape
from tests.app.builders import assert_consistent, open_page, rows, sign_in
from tests.app.conftest import APP
from tests.app.readable import cut_numbers, raw_names
from tests.integration.import_samples import workbook

HEADERS = "订单编号,客户编码,下单时间,订单状态,仓库,商品编码,数量,单价"


@pytest.fixture(scope="module")
def import_db(tmp_path_factory):
    from lib.seed import seed

    path = tmp_path_factory.mktemp("import_page") / "demo.duckdb"
    db = Database(str(path))
    apply_migrations(db)
    seed(db, orders=300, seed=11, today=clock.today())
    db.close()
    return path


@pytest.fixture
def at(import_db, monkeypatch):
    monkeypatch.setenv("VOIDDESK_DB", str(import_db))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    return app


def stocked(path) -> dict:
    """A customer, and two SKUs with plenty of available stock in one warehouse."""
    pair = rows(path, "SELECT warehouse, sku FROM stock_balances WHERE on_hand - reserved > 20"
                      " ORDER BY on_hand - reserved DESC, sku LIMIT 2")
    customer = rows(path, "SELECT code FROM customers ORDER BY id LIMIT 1")[0]["code"]
    return {"customer": customer, "warehouse": pair[0]["warehouse"], "skus": [pair[0]["sku"], pair[1]["sku"]]}


def gbk_orders(path, prefix: str, bad_qty: bool = False) -> bytes:
    s = stocked(path)
    wh = rows(path, "SELECT name_zh FROM warehouses WHERE code = ?", [s["warehouse"]])[0]["name_zh"]
    lines = [f"{prefix}-1,{s['customer']},2026/3/5 9:30,待处理,{wh},{s['skus'][0]},2,",
             f"{prefix}-1,{s['customer']},2026/3/5 9:30,待处理,{wh},{s['skus'][1]},{'-1' if bad_qty else 1},",
             f"{prefix}-2,{s['customer']},2026年3月6日,已作废,{wh},{s['skus'][0]},1,88"]
    return "\n".join([HEADERS] + lines).encode("gbk")


def start(at, data: bytes, name: str = "订单.csv", user: str = "lead"):
    sign_in(at, user)
    open_page(at, "pages/import_data.py")
    assert not at.exception, at.exception
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_a_gbk_file_is_mapped_checked_previewed_and_loaded(at, import_db):
    start(at, gbk_orders(import_db, "APPIMP"))
    assert any("GB18030" in c.value for c in at.caption)
    chosen = {s.label: s.value for s in at.selectbox}
    assert chosen["Order number *"] == "订单编号" and chosen["Status *"] == "订单状态"
    assert chosen['"待处理" means'] == "pending" and chosen['"已作废" means'] == "voided"
    at.button(key="import_check_button").click().run()
    assert [s.value for s in at.success] == ["All 3 rows passed the check."]
    preview = at.dataframe[0].value
    assert list(preview["order_no"]) == ["APPIMP-1", "APPIMP-1", "APPIMP-2"]
    assert list(preview["status"]) == ["Pending", "Pending", "Voided"]
    assert not raw_names(at) + cut_numbers(at)   # issue #16: the preview in words, its numbers whole
    assert rows(import_db, "SELECT count(*) AS n FROM orders WHERE order_no LIKE 'APPIMP-%'")[0]["n"] == 0
    at.button(key="import_load_button").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == f"Loaded 3 rows from {md_escape('订单.csv')}."   # a file's name is shown as text
    assert not raw_names(at)
    stored = rows(import_db, "SELECT order_no, status, source FROM orders WHERE order_no LIKE 'APPIMP-%' ORDER BY 1")
    assert [(r["order_no"], r["status"], r["source"]) for r in stored] == [
        ("APPIMP-1", "pending", "import"), ("APPIMP-2", "voided", "import")]
    assert_consistent(import_db)


def test_rejected_rows_are_listed_with_a_report_and_nothing_loads(at, import_db):
    start(at, gbk_orders(import_db, "APPBAD", bad_qty=True))
    at.button(key="import_check_button").click().run()
    assert at.error[0].value.startswith("1 of 3 rows have problems")
    problems = at.dataframe[1].value
    assert [tuple(r) for r in problems.itertuples(index=False)] == [(3, "Quantity", "-1", "-1 is not a quantity above zero")]
    assert not raw_names(at) + cut_numbers(at)
    assert at.get("download_button")
    assert not [b for b in at.button if b.key == "import_load_button"]
    assert rows(import_db, "SELECT count(*) AS n FROM orders WHERE order_no LIKE 'APPBAD-%'")[0]["n"] == 0


def test_a_missing_required_column_is_named(at, import_db):
    data = gbk_orders(import_db, "APPMISS").decode("gbk").replace("订单状态", "备注").encode("gbk")
    start(at, data)
    assert [e.value for e in at.error] == ["Choose a column for Status."]
    assert not [b for b in at.button if b.key == "import_check_button"]


def test_a_web_page_saved_as_csv_is_refused(at):
    start(at, b"<!DOCTYPE html><html><body><table></table></body></html>", "export.csv")
    assert at.error[0].value.startswith("The file is a web page (HTML)")


def selectbox(at, label: str):
    return next(s for s in at.selectbox if s.label == label)


def test_a_workbook_opens_on_its_first_table_and_another_sheet_can_be_chosen(at, import_db):
    s = stocked(import_db)
    orders = [HEADERS.split(","), ["APPXL-1", s["customer"], "2026-03-05 09:30", "待处理", s["warehouse"], s["skus"][0], 2, None],
              ["APPXL-2", s["customer"], "2026-03-06 10:00", "已完成", s["warehouse"], s["skus"][1], 1, 88]]
    data = workbook({"封面": [], "订单": orders, "备注": [["说明", "作者"], ["ERP 导出", "张三"]]})
    start(at, data, "导出.xlsx")
    sheet = selectbox(at, "Sheet")
    assert (sheet.value, sheet.options) == ("订单", ["封面 (0 rows)", "订单 (2 rows)", "备注 (1 rows)"])
    assert any("sheet 订单" in c.value for c in at.caption)
    at.button(key="import_check_button").click().run()
    assert [s.value for s in at.success] == ["All 2 rows passed the check."]
    sheet = selectbox(at, "Sheet")
    sheet.set_value("备注").run()
    assert not at.exception, at.exception
    assert any(f"{md_escape('导出.xlsx')}: 1 rows, 2 columns; Excel workbook, sheet 备注" in c.value for c in at.caption)
    assert at.error[0].value.startswith("Choose a column for")
    selectbox(at, "Sheet").set_value("订单").run()
    at.button(key="import_check_button").click().run()
    at.button(key="import_load_button").click().run()
    assert at.success[0].value == f"Loaded 2 rows from {md_escape('导出.xlsx')}."
    assert rows(import_db, "SELECT count(*) AS n FROM orders WHERE order_no LIKE 'APPXL-%'")[0]["n"] == 2


def dated_orders(path, prefix: str, dates: list[str]) -> bytes:
    s = stocked(path)
    lines = [f"{prefix}-{i},{s['customer']},{d},已完成,{s['warehouse']},{s['skus'][0]},1," for i, d in enumerate(dates)]
    return "\n".join([HEADERS] + lines).encode("utf-8")


def test_the_date_order_names_what_the_file_shows_and_dates_are_read_so(at, import_db):
    start(at, dated_orders(import_db, "APPDF", ["05/03/2026 9:30", "25/03/2026"]))
    order = selectbox(at, "Date order (for dates like 05/03/2026)")
    assert order.value == "auto"
    assert order.options == ["Automatic: Day first (detected: 25/03/2026)", "Day first (detected: 25/03/2026)",
                             "Month first (month/day/year)"]
    at.button(key="import_check_button").click().run()
    assert [str(t) for t in at.dataframe[0].value["created_at"]] == ["2026-03-05 09:30:00", "2026-03-25 00:00:00"]


def test_a_file_with_both_date_orders_is_refused_until_one_is_chosen(at, import_db):
    start(at, dated_orders(import_db, "APPMIX", ["25/03/2026", "03/26/2026"]))
    assert at.error[0].value.startswith("The dates mix day first (25/03/2026, row 2) and month first (03/26/2026, row 3)")
    assert not [b for b in at.button if b.key == "import_check_button"]
    selectbox(at, "Date order (for dates like 05/03/2026)").set_value("day_first").run()
    assert not at.error
    at.button(key="import_check_button").click().run()
    assert [tuple(r) for r in at.dataframe[1].value.itertuples(index=False)] == [
        (3, "Order date", "03/26/2026", "03/26/2026 is not a date read day first (day/month/year), the date order chosen")]


def test_dates_that_cannot_tell_their_order_are_flagged_and_read_once_chosen(at, import_db):
    start(at, dated_orders(import_db, "APPAMB", ["05/03/2026", "04/03/2026"]))
    assert [w.value for w in at.warning] == [
        "No date in the file shows whether the day or the month comes first (e.g. 05/03/2026, row 2): choose the"
        " date order, or those rows are rejected."]
    selectbox(at, "Date order (for dates like 05/03/2026)").set_value("month_first").run()
    assert not at.warning
    at.button(key="import_check_button").click().run()
    assert [str(t) for t in at.dataframe[0].value["created_at"]] == ["2026-05-03 00:00:00", "2026-04-03 00:00:00"]


def test_only_leads_and_admins_see_the_import_page():
    from lib.domain import ROLES, User
    from lib.ui.nav import visible_pages

    def sees(role):
        return "import" in [p.url_path for p in visible_pages(User(0, "x", "x", role))]
    assert [role for role in ROLES if sees(role)] == ["ops_lead", "admin"]


def test_the_page_run_on_its_own_asks_for_sign_in(import_db, monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("VOIDDESK_DB", str(import_db))
    page = AppTest.from_file(str(Path(APP).parent / "pages" / "import_data.py"), default_timeout=60).run()
    assert not page.file_uploader and page.text_input(key="login_username") is not None


def test_the_files_own_word_for_a_warehouse_is_chosen_in_the_wizard(at, import_db):
    data = gbk_orders(import_db, "APPWH")
    wh_name = rows(import_db, "SELECT w.name_zh FROM warehouses w JOIN stock_balances b ON b.warehouse = w.code"
                              " WHERE b.on_hand - b.reserved > 20 ORDER BY b.on_hand - b.reserved DESC, b.sku"
                              " LIMIT 1")[0]["name_zh"]
    code = stocked(import_db)["warehouse"]
    start(at, data.decode("gbk").replace(wh_name, "一号库").encode("gbk"))
    word = next(s for s in at.selectbox if s.label == '"一号库" means')
    assert word.value is None or word.value == ""   # not a warehouse code or name: asked
    word.set_value(code).run()
    at.button(key="import_check_button").click().run()
    assert [s.value for s in at.success] == ["All 3 rows passed the check."]
    at.button(key="import_load_button").click().run()
    stored = rows(import_db, "SELECT DISTINCT warehouse FROM orders WHERE order_no LIKE 'APPWH-%'")
    assert [r["warehouse"] for r in stored] == [code]


def test_records_already_here_can_be_updated_and_the_outcome_is_shown(at, import_db):
    known = rows(import_db, "SELECT code, name FROM customers ORDER BY id LIMIT 1")[0]
    data = f"客户编码,客户名称,城市\n{known['code']},{known['name']},新城市\nAPPNEW-1,New Shop,Wuhan\n".encode()
    sign_in(at, "lead")
    open_page(at, "pages/import_data.py")
    at.selectbox(key="import_kind").set_value("customers").run()
    at.file_uploader[0].set_value(("客户.csv", data, "text/csv")).run()
    mode = next(r for r in at.radio if r.label == "Records already here")
    mode.set_value("upsert").run()
    at.button(key="import_check_button").click().run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == {"New": "1", "Updated": "1", "Unchanged": "0", "Conflicts": "0"}
    at.button(key="import_load_button").click().run()
    assert not at.exception, at.exception
    assert rows(import_db, "SELECT city FROM customers WHERE code = ?", [known["code"]])[0]["city"] == "新城市"
    assert {m.label: m.value for m in at.metric}["Updated"] == "1"
    assert not raw_names(at)
    assert_consistent(import_db)
