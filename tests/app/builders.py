"""Data for the page tests, made through the services so each mutating test owns what it changes."""
import re
import uuid

from streamlit.testing.v1 import AppTest

from lib.db import open_database, rows_as_dicts
from lib.queries.check import run_checks
from lib.services.auth import user_from_row
from lib.services.orders import LineInput, change_status, create_order
from tests.app.conftest import APP
from tests.app.conftest import sign_in as sign_in_form

STEPS = ("pending", "processing", "shipped")
# Products for small orders (well under the approval threshold of 10,000) and for big ones (above it).
PRICED = {False: "p.unit_price < 2000", True: "p.unit_price >= 10000"}


def handle(path):
    """The app under test holds the file open in this process: share its handle."""
    return open_database(str(path))


def user(path, username: str):
    with handle(path).read() as cur:
        return user_from_row(rows_as_dicts(cur, "SELECT * FROM users WHERE username = ?", [username])[0])


def rows(path, sql: str, params: list | None = None) -> list[dict]:
    with handle(path).read() as cur:
        return rows_as_dicts(cur, sql, params or [])


def value(path, sql: str, params: list | None = None):
    return rows(path, sql, params)[0]


def order(path, *, lines: int = 1, qty: int = 1, paid: bool = False, status: str = "pending", rep: str | None = None,
          big: bool = False, by: str = "ops") -> str:
    """A new order of `lines` SKUs × `qty` in `status` (pending, processing or shipped), made by `by` for the
    sales rep `rep`; `big` puts it above the approval threshold."""
    stocked = rows(path, "WITH s AS (SELECT b.warehouse, b.sku FROM stock_balances b JOIN products p USING (sku)"
                         f" WHERE p.active AND {PRICED[big]} AND b.on_hand - b.reserved > ? + 5)"
                         " SELECT * FROM s WHERE warehouse = (SELECT warehouse FROM s GROUP BY warehouse"
                         " ORDER BY count(*) DESC, warehouse LIMIT 1) ORDER BY sku LIMIT ?", [qty, lines])
    customer = value(path, "SELECT code FROM customers ORDER BY id LIMIT 1")["code"]
    db = handle(path)
    order_no = create_order(db, user(path, by), customer, stocked[0]["warehouse"],
                            [LineInput(s["sku"], qty) for s in stocked], rep=rep, paid=paid)["order_no"]
    for step in STEPS[1:STEPS.index(status) + 1]:
        change_status(db, user(path, "ops"), order_no, step)
    return order_no


def order_status(path, order_no: str) -> str:
    return value(path, "SELECT status FROM orders WHERE order_no = ?", [order_no])["status"]


def assert_consistent(path) -> None:
    result = run_checks(handle(path))
    assert result["ok"], result["problems"]


def sign_in(at, username: str):
    """Sign in and switch to English: the language is remembered per user, and another test may have left
    this user in Chinese."""
    sign_in_form(at, username)
    if at.session_state["lang"] != "en":
        at.segmented_control(key="lang_choice").set_value("en").run()
    return at


def another_app():
    """A second browser session on the same database (the `app` fixture has set VOIDDESK_DB)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def open_page(at, page: str, **params):
    at.query_params.clear()
    for key, val in params.items():
        at.query_params[key] = val
    return at.switch_page(page).run()


def void_dialog(at, order_no: str, reason: str, note: str = ""):
    """Open the order page's void dialog the way its button does (AppTest can't click into a one-shot
    dialog), choose the reason and go on to the second confirmation."""
    at.session_state["void_dialog"] = order_no
    at.session_state["void_step"] = 1
    at.session_state["void_key"] = uuid.uuid4().hex
    open_page(at, "pages/order.py", no=order_no)
    at.selectbox(key="void_dialog_reason").set_value(reason).run()
    at.text_area(key="void_dialog_note").input(note)
    return at.button(key="void_review").click().run()


def messages(elements) -> list[str]:
    return [e.value for e in elements]


def as_read(markdown: str) -> str:
    """Markdown as the browser shows it: without the backslashes that keep numbers and names literal (md_escape)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def table_with(at, column: str):
    """The first dataframe shown that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def select_row(at, key: str, column: str, value):
    """Select the row of dataframe `key` whose `column` is `value` (AppTest can't click rows: set the state)."""
    table = next(df.value for df in at.dataframe if column in df.value.columns and value in set(df.value[column]))
    at.session_state[key] = {"selection": {"rows": [list(table[column]).index(value)], "columns": [], "cells": []}}
    return at.run()
