"""The tables that appear only after a click, in 中文 (issue #16): no column's own name as a header, no "None" in a
cell, and order and return numbers in columns wide enough to show them whole. The first-load tables of every
page are walked by test_pages.py."""
from lib.services import voids
from lib.services.returns import create_return
from tests.app import builders as b
from tests.app.conftest import app_on
from tests.app.readable import cut_numbers, raw_names


def in_chinese(app, username: str):
    """`app` signed in as `username`, then switched to 中文 for this session only (as the language switch does)."""
    b.sign_in(app, username)
    app.session_state["lang"] = "zh"
    return app


def unreadable(app, where: str, *, headers: bool = True) -> list[str]:
    assert not app.exception, f"{where}: {app.exception}"
    assert app.dataframe, f"{where}: no table shown"
    found = raw_names(app) if headers else []
    return [f"{where}: {what}" for what in found + cut_numbers(app)]


def _select(app, key: str, rows: list[int]):
    app.session_state[key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return app.run()


def test_a_leads_tables_after_choosing_read_as_words(app, demo_db_path):
    """Approvals with one and two requests chosen (the impact preview's tables), the batch preview of the orders
    chosen in search, an order's lines, and one SKU's stock ledger."""
    path = demo_db_path
    requested = []
    for _ in range(2):
        requested.append(b.order(path, rep="sales"))
        voids.void_order(b.handle(path), b.user(path, "sales"), requested[-1], "customer_cancelled", "asked by phone")
    in_chinese(app, "lead")
    found = []
    b.open_page(app, "pages/approvals.py")
    queue = list(b.table_with(app, "order_no")["order_no"])
    _select(app, "queue", [queue.index(requested[0])])
    found += unreadable(app, "approvals, one chosen")
    _select(app, "queue", [queue.index(n) for n in requested])
    found += unreadable(app, "approvals, two chosen")

    b.open_page(app, "pages/search.py", status="processing")
    _select(app, "results", [0, 1, 2])
    app.selectbox(key="batch_reason").set_value("customer_cancelled").run()
    app.button(key="batch_preview_button").click().run()
    assert len(app.dataframe) == 2, "the batch preview is shown"
    found += unreadable(app, "search, batch preview")

    b.open_page(app, "pages/order.py", no=requested[0])
    found += unreadable(app, "order")

    b.open_page(app, "pages/stock.py")
    sku = b.table_with(app, "sku")["sku"].iloc[0]
    app.text_input(key="stock_sku").input(sku).run()
    assert len(app.dataframe) == 2, "the ledger is shown"
    found += unreadable(app, "stock ledger")
    assert not found, found


def test_finance_and_warehouse_tables_after_choosing_read_as_words(app, demo_db_path, monkeypatch):
    """A refund chosen in the queue and the paid-out list; a return note with its lines."""
    path = demo_db_path
    order_no = b.order(path, lines=2, status="shipped", paid=True)
    skus = [r["sku"] for r in b.rows(path, "SELECT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id"
                                            " WHERE o.order_no = ?", [order_no])]
    return_no = create_return(b.handle(path), b.user(path, "ops"), order_no, {s: 1 for s in skus}, "quality",
                              "scratched")["return_no"]
    found = []
    in_chinese(app, "finance")
    b.open_page(app, "pages/refunds.py")
    _select(app, "refund_table", [0])
    found += unreadable(app, "refunds, one chosen")
    app.segmented_control(key="refund_status").set_value("paid").run()
    found += unreadable(app, "refunds paid out")
    warehouse = in_chinese(app_on(path, monkeypatch), "warehouse")
    b.open_page(warehouse, "pages/returns.py", no=return_no)
    found += unreadable(warehouse, "return note")
    assert not found, found


def test_console_results_keep_order_numbers_whole(app):
    """The SQL console shows the query's own column names, but its order numbers whole like every other table."""
    in_chinese(app, "analyst")
    b.open_page(app, "pages/explore.py")
    app.text_area(key="console_sql").input("SELECT order_no, created_at FROM orders ORDER BY id DESC LIMIT 5")
    app.button(key="console_run").click().run()
    assert not unreadable(app, "console", headers=False)
    assert any("数据截至 " in c.value for c in app.caption), [c.value for c in app.caption]   # how fresh
