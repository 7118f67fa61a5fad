"""The warehouses & categories page through AppTest, on a database made with init-db only (no warehouses, no
categories), as a team starting on its own data has it."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.db import Database, apply_migrations
from lib.services import auth
from tests.app import builders as b
from tests.app.conftest import APP
from tests.app.conftest import sign_in as sign_in_form
from tests.app.readable import raw_names
from tests.conftest import add_user

PAGE = "pages/catalog.py"
PASSWORD = "demo1234"


@pytest.fixture(scope="module")
def empty_db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalog_page") / "empty.duckdb"
    db = Database(str(path))
    apply_migrations(db)
    for username, role in (("lead", "ops_lead"), ("ops", "ops"), ("analyst", "analyst")):
        add_user(db, username, role)
        with db.transaction() as cur:
            cur.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                        [auth.hash_password(PASSWORD), username])
    db.close()
    return path


@pytest.fixture
def app(empty_db_path, monkeypatch):
    monkeypatch.setenv("VOIDDESK_DB", str(empty_db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def _open(at) -> AppTest:
    b.sign_in(at, "lead")
    return b.open_page(at, PAGE)


def _add(at, kind: str, code: str, name_en: str, name_zh: str) -> AppTest:
    at.text_input(key=f"catalog_add_code_{kind}").input(code)
    at.text_input(key=f"catalog_add_en_{kind}").input(name_en)
    at.text_input(key=f"catalog_add_zh_{kind}").input(name_zh)
    return at.button(key=f"catalog_add_submit_{kind}").click().run()


def _table(at, kind: str):
    """The warehouses table (it counts SKUs) or the categories table (it counts products)."""
    return b.table_with(at, {"warehouse": "skus", "category": "products"}[kind])


def test_ops_lead_adds_a_warehouse_and_a_category_and_sees_them(app, empty_db_path):
    _open(app)
    assert not app.exception and app.title[0].value == "Warehouses & categories"
    shown = b.messages(app.info)
    assert "No warehouses yet: add the first one below." in shown
    assert "No categories yet: add the first one below." in shown

    _add(app, "warehouse", "HZ", "Hangzhou", "杭州仓")
    assert "Warehouse HZ added." in b.messages(app.success)
    assert app.text_input(key="catalog_add_code_warehouse").value == ""      # an empty form for the next one
    _add(app, "category", "peripherals", "Peripherals", "外设")
    _add(app, "category", "cables", "Cables", "线缆")
    assert "Category cables added." in b.messages(app.success)
    warehouses, categories = _table(app, "warehouse"), _table(app, "category")
    assert warehouses.values.tolist() == [["HZ", "Hangzhou", "杭州仓", 0]]
    assert list(categories["code"]) == ["peripherals", "cables"] and list(categories["products"]) == [0, 0]

    app.selectbox(key="catalog_pick_category").set_value("cables").run()
    app.button(key="catalog_up").click().run()
    assert list(_table(app, "category")["code"]) == ["cables", "peripherals"]
    app.selectbox(key="catalog_pick_warehouse").set_value("HZ").run()
    app.text_input(key="catalog_en_warehouse_HZ").input("Hangzhou East")
    app.button(key="catalog_save_warehouse_HZ").click().run()
    assert "Warehouse HZ renamed." in b.messages(app.success)
    assert _table(app, "warehouse").values.tolist() == [["HZ", "Hangzhou East", "杭州仓", 0]]
    actions = [r["action"] for r in b.rows(empty_db_path, "SELECT action FROM audit_log WHERE entity_type IN"
                                                          " ('warehouse', 'category') ORDER BY id")]
    assert actions == ["warehouse.create", "category.create", "category.create", "category.move", "warehouse.rename"]
    assert not raw_names(app)   # issue #16: the lists after edits in words too


def test_a_bad_code_is_refused_on_the_page_and_kept_for_correcting(app, empty_db_path):
    _open(app)
    _add(app, "warehouse", "hz 2", "Bad", "坏")
    assert any("upper-case letters, digits and underscores" in m for m in b.messages(app.error))
    assert app.text_input(key="catalog_add_code_warehouse").value == "hz 2"
    assert b.value(empty_db_path, "SELECT count(*) AS n FROM warehouses WHERE name_en = 'Bad'")["n"] == 0


@pytest.mark.parametrize("username", ["ops", "analyst"])
def test_other_roles_cannot_open_the_page(app, empty_db_path, monkeypatch, username):
    b.sign_in(app, username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)
    # Run directly (without app.py's navigation in front), the page's own guard refuses.
    _, token = auth.login(b.handle(empty_db_path), username, PASSWORD)
    at = AppTest.from_file(str(Path(APP).parent / PAGE), default_timeout=60)
    at.session_state["token"] = token
    at.run()
    assert not at.exception and at.error[0].value.startswith("Only ")
    assert not at.title and not at.text_input and not at.button


def test_the_page_renders_in_chinese(app, empty_db_path):
    db, user = b.handle(empty_db_path), b.user(empty_db_path, "lead")
    auth.set_language(db, user, "zh")       # remembered per user: put it back afterwards
    try:
        sign_in_form(app, "lead", PASSWORD)
        b.open_page(app, PAGE)
        assert not app.exception and not app.error and app.title[0].value == "仓库与品类"
        assert [t.label for t in app.tabs] == ["仓库", "品类"]
        assert app.text_input(key="catalog_add_code_category").label == "代码"
        assert "添加品类" in [s.value for s in app.subheader]
    finally:
        auth.set_language(db, user, "en")
