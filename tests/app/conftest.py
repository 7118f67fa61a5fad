"""AppTest fixtures: a small seeded demo database, and an app signed in as one demo user."""
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib import clock
from lib.db import Database, apply_migrations

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEMO_USERS = ("admin", "lead", "ops", "sales", "sales2", "finance", "warehouse", "analyst")


def seeded(path: Path, orders: int, seed: int) -> Path:
    """A demo database of `orders` orders at `path` (closed again: the app under test opens it)."""
    from lib.seed import seed as seed_demo

    db = Database(str(path))
    apply_migrations(db)
    seed_demo(db, orders=orders, seed=seed, today=clock.today())
    db.close()
    return path


def app_on(path: Path, monkeypatch) -> AppTest:
    """A fresh AppTest of app.py on the database at `path` (not yet signed in)."""
    monkeypatch.setenv("VOIDDESK_DB", str(path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    return seeded(tmp_path_factory.mktemp("apptest") / "demo.duckdb", orders=1500, seed=7)


@pytest.fixture(autouse=True)
def fresh_read_caches():
    """Each test starts as a freshly started app would: the tests change the shared demo database through the
    services, behind the pages that clear the read caches after their writes (lib.ui.cached)."""
    st.cache_data.clear()


@pytest.fixture
def app(demo_db_path, monkeypatch):
    """A fresh AppTest of app.py on the demo database (not yet signed in)."""
    return app_on(demo_db_path, monkeypatch)


def sign_in(at: AppTest, username: str, password: str = "demo1234") -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.form_id == "login").click()   # (the company sign-in's button may come first)
    at.run()
    return at
