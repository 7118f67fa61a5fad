"""The Explore page through AppTest: a pivot built from the widgets against an independent SQL count, who may
open the page and the console, the console refusing a write, and both languages."""
import re
from datetime import datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib import clock
from lib.db import open_database
from lib.services import auth
from lib.ui.nav import visible_pages
from tests.app import builders as b
from tests.app.builders import table_with
from tests.app.conftest import APP
from tests.app.readable import raw_names

PAGE = str(Path(APP).parent / "pages" / "explore.py")

_tokens: dict[tuple[str, str], str] = {}


def _login(path, username: str) -> str:
    """A session token for `username` (one password check per user and run)."""
    key = (str(path), username)
    if key not in _tokens:
        _tokens[key] = auth.login(open_database(str(path)), username, "demo1234")[1]
    return _tokens[key]


def open_as(app, path, username: str, language: str = "en"):
    """Sign `username` in by session token and open the Explore page."""
    app.session_state["token"] = _login(path, username)
    app.run()
    app.session_state["lang"] = language     # remembered per user in the shared database: set it each time
    app.switch_page("pages/explore.py").run()
    assert not app.exception, app.exception
    return app


def scalar(path, sql: str, params=()):
    with open_database(str(path)).read() as cur:
        return cur.execute(sql, list(params)).fetchall()[0][0]


def test_an_analyst_builds_a_pivot_and_sees_its_rows(app, demo_db_path):
    open_as(app, demo_db_path, "analyst")
    app.selectbox(key="ex_measure").set_value("voids")
    app.multiselect(key="ex_dims").set_value(["warehouse"])
    app.selectbox(key="ex_grain").set_value("none").run()
    assert not app.exception, app.exception
    table = table_with(app, "Warehouse")
    assert list(table.columns) == ["Warehouse", "Voids"]
    start = datetime.combine(clock.today() - timedelta(days=89), datetime.min.time())
    expected = scalar(demo_db_path, "SELECT count(*) FROM voids WHERE status = 'applied' AND applied_at >= ?", [start])
    assert expected > 0 and table["Voids"].sum() == expected
    assert not app.error and not raw_names(app)


def test_a_rate_keeps_its_base_beside_it(app, demo_db_path):
    open_as(app, demo_db_path, "lead")
    app.selectbox(key="ex_measure").set_value("void_rate")
    app.multiselect(key="ex_dims").set_value(["warehouse"])
    app.selectbox(key="ex_grain").set_value("none").run()
    table = table_with(app, "Warehouse")
    assert list(table.columns) == ["Warehouse", "Voids", "Orders", "Void rate"]
    assert ((table["Void rate"] - table["Voids"] / table["Orders"]).abs() < 1e-9).all()


def test_a_bad_choice_is_explained_not_raised(app, demo_db_path):
    open_as(app, demo_db_path, "analyst")
    app.selectbox(key="ex_measure").set_value("orders")
    app.multiselect(key="ex_dims").set_value(["reason"]).run()
    assert not app.exception
    assert any("no reason" in e.value for e in app.error)


def page_alone(path, username: str) -> AppTest:
    """The page file run on its own, as Streamlit may serve it without app.py's navigation in front."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["token"] = _login(path, username)
    at.session_state["lang"] = "en"
    return at.run()


def test_ops_cannot_open_the_page(app, demo_db_path):
    ops = auth.resume(open_database(str(demo_db_path)), _login(demo_db_path, "ops"))
    assert "pages/explore.py" not in [p.path for p in visible_pages(ops)]
    alone = page_alone(demo_db_path, "ops")
    assert not alone.exception
    assert [e.value for e in alone.error] and "Explore" not in [t.value for t in alone.title]
    assert not alone.dataframe and not alone.text_area


def test_the_console_refuses_a_delete_and_changes_nothing(app, demo_db_path):
    before = scalar(demo_db_path, "SELECT count(*) FROM orders")
    open_as(app, demo_db_path, "analyst")
    app.text_area(key="console_sql").input("/* tidy up */ DELETE FROM orders")
    app.button(key="console_run").click().run()
    assert not app.exception
    assert any("Only reads are allowed" in e.value for e in app.error)
    assert scalar(demo_db_path, "SELECT count(*) FROM orders") == before


def test_the_console_runs_a_read(app, demo_db_path):
    open_as(app, demo_db_path, "admin")
    app.text_area(key="console_sql").input("SELECT status, count(*) AS n FROM orders GROUP BY status")
    app.button(key="console_run").click().run()
    result = table_with(app, "n")
    assert result["n"].sum() == scalar(demo_db_path, "SELECT count(*) FROM orders")
    tables = {e.label for e in app.expander}
    assert {"orders", "voids", "users"} <= tables and not {"sessions", "login_attempts", "login_pace"} & tables
    assert not any("password_hash" in c.value for c in app.code)


def test_the_console_is_not_shown_to_leads_nor_the_page_to_sales(app, demo_db_path):
    open_as(app, demo_db_path, "lead")
    assert app.title[0].value == "Explore"
    assert not app.tabs and not app.text_area
    sales = page_alone(demo_db_path, "sales")
    assert sales.error and not sales.text_area and not sales.dataframe


def test_the_page_renders_in_chinese(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", language="zh")
    assert app.title[0].value == "探索"
    assert [t.label for t in app.tabs] == ["透视", "SQL 控制台"]
    app.text_area(key="console_sql").input("DROP TABLE orders")
    app.button(key="console_run").click().run()
    assert not app.exception
    assert any("只允许读取" in e.value for e in app.error)


def test_a_pivot_lives_in_the_url_and_a_shared_link_opens_it(app, demo_db_path):
    open_as(app, demo_db_path, "analyst")
    app.selectbox(key="ex_measure").set_value("void_rate")
    app.multiselect(key="ex_dims").set_value(["warehouse"])
    app.selectbox(key="ex_grain").set_value("none").run()
    assert not app.exception, app.exception
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731  (AppTest gives one value as a string)
    assert as_list(app.query_params["measure"]) == ["void_rate"] and as_list(app.query_params["dim"]) == ["warehouse"]
    assert as_list(app.query_params["grain"]) == ["none"]

    shared = AppTest.from_file(APP, default_timeout=60)   # another browser opens the same link
    shared.session_state["token"] = _login(demo_db_path, "lead")
    shared.run()
    shared.switch_page("pages/explore.py")
    shared.query_params.update({"measure": "returns", "dim": ["category"], "grain": "month"})
    shared.run()
    assert not shared.exception, shared.exception
    assert shared.selectbox(key="ex_measure").value == "returns"
    assert shared.multiselect(key="ex_dims").value == ["category"]
    assert shared.selectbox(key="ex_grain").value == "month"


def test_a_cell_that_cannot_be_opened_says_why_and_a_new_pivot_starts_with_nothing_clicked(app, demo_db_path):
    number = b.order(demo_db_path)
    with b.handle(demo_db_path).transaction() as cur:
        cur.execute("UPDATE orders SET rep_id = NULL WHERE order_no = ?", [number])   # e.g. imported without one
    open_as(app, demo_db_path, "analyst")
    app.selectbox(key="ex_measure").set_value("orders")
    app.multiselect(key="ex_dims").set_value(["rep"])
    app.selectbox(key="ex_grain").set_value("none").run()
    table = table_with(app, "Sales rep")
    row = list(table["Sales rep"]).index("(none)")
    [key] = [k for k in app.session_state.keys() if re.fullmatch(r"explore_wide_[0-9a-f]{12}", str(k))]
    app.session_state[key] = {"selection": {"rows": [], "columns": [], "cells": [[row, "Orders"]]}}
    app.run()
    assert any("Search cannot list orders without a value for" in e for e in b.messages(app.error))
    app.multiselect(key="ex_dims").set_value(["warehouse"]).run()
    assert not app.exception and not b.messages(app.error)
    assert table_with(app, "Warehouse") is not None
