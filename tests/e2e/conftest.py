"""Browser tests: a real Streamlit server on a temporary database, driven by Debian's Chromium."""
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from lib import clock
from lib.tools.devserver import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server, stop_server  # noqa: F401


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small seeded demo database shared by the browser tests of one run."""
    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--orders", "3000",
                    "--today", clock.today().isoformat(), "--db", str(path)],
                   cwd=ROOT, check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def demo_orders(demo_db) -> dict:
    """Order numbers to use, read before the server takes the file's lock."""
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        pick = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        picks = {
            "processing": pick("SELECT order_no FROM orders o WHERE status = 'processing' AND NOT EXISTS"
                               " (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
                               " ORDER BY id DESC LIMIT 1"),
            "shipped": pick("SELECT order_no FROM orders WHERE status = 'shipped' ORDER BY id DESC LIMIT 1"),
            "voidable": pick("SELECT order_no FROM orders o WHERE status = 'processing' AND amount_paid > 0"
                             " AND total < 10000 AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id"
                             " AND v.status = 'pending_approval') ORDER BY id DESC LIMIT 1 OFFSET 1"),
            # Shipped and paid, ≥2 different SKUs, nothing returned or refunded yet; not the 'shipped' one above.
            "returnable": pick("SELECT order_no FROM orders o WHERE status = 'shipped' AND payment_status = 'paid'"
                               " AND (SELECT count(DISTINCT sku) FROM order_lines l WHERE l.order_id = o.id"
                               " AND l.qty_shipped > l.qty_returned) >= 2"
                               " AND NOT EXISTS (SELECT 1 FROM return_notes r WHERE r.order_id = o.id)"
                               " AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.order_id = o.id)"
                               " AND id < (SELECT max(id) FROM orders WHERE status = 'shipped')"
                               " ORDER BY id DESC LIMIT 1"),
            # Completed, handled by `ops`, and the newest of at least three orders sharing its 12-character
            # prefix (a past day, so orders created during the run never join that prefix).
            "collab": pick("SELECT order_no FROM orders o WHERE status = 'completed'"
                           " AND assignee_id = (SELECT id FROM users WHERE username = 'ops')"
                           " AND created_at = (SELECT max(created_at) FROM orders p"
                           " WHERE left(p.order_no, 12) = left(o.order_no, 12))"
                           " AND (SELECT count(*) FROM orders p WHERE left(p.order_no, 12) = left(o.order_no, 12)) >= 3"
                           " ORDER BY id DESC LIMIT 1"),
        }
        # A sales rep with two open orders of their own, none of the orders above, and no request yet: they ask,
        # a lead decides both.
        picks["requests"] = con.execute(
            "SELECT u.username, list(o.order_no ORDER BY o.id)[1:2] FROM orders o JOIN users u ON u.id = o.rep_id"
            " WHERE u.role = 'sales' AND u.active AND o.status IN ('pending', 'processing') AND o.total < 10000"
            " AND NOT list_contains(?, o.order_no)"
            " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
            " GROUP BY u.username HAVING count(*) >= 2 ORDER BY u.username DESC LIMIT 1", [list(picks.values())]
        ).fetchall()[0]
        return picks
    finally:
        con.close()


@pytest.fixture(scope="session")
def server(demo_db, demo_orders):
    proc, url = start_server(demo_db)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def wait_idle(pg) -> None:
    """Wait until Streamlit has finished running the script for the last action.

    A run may start a moment after the action, so wait for the state to settle twice."""
    for _ in range(2):
        pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=30_000)
        pg.wait_for_timeout(250)


def login(pg, url: str, username: str, password: str = "demo1234") -> None:
    pg.goto(url)
    wait_idle(pg)
    pg.get_by_label("Username").fill(username)
    pg.get_by_role("textbox", name="Password").fill(password)
    pg.get_by_role("button", name="Sign in").click()
    wait_idle(pg)
    # The language is remembered per user; start every test in English whatever an earlier test chose.
    pg.locator("[data-testid=stSidebar]").get_by_role("radio", name="English").first.click()
    wait_idle(pg)


def matching_orders(page) -> int:
    """The Search page's count of matching orders, once a drill-down has landed there."""
    page.wait_for_url("**/search?**")
    wait_idle(page)
    metric = page.locator("[data-testid=stMetric]").filter(has_text="Matching orders")
    return int(metric.locator("[data-testid=stMetricValue]").inner_text().replace(",", ""))


def params(page) -> dict[str, list[str]]:
    """The page URL's query parameters."""
    return parse_qs(urlparse(page.url).query)


def void_in_dialog(page, button: str, reason: str, confirm: str, look=None) -> None:
    """On an open order page: the void dialog's button, a reason, Review and continue, then the confirmation;
    look(dialog), when given, checks the dialog as it opens."""
    page.get_by_role("button", name=button).click()
    wait_idle(page)
    dialog = page.get_by_role("dialog")
    if look is not None:
        look(dialog)
    dialog.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name=reason).click()
    wait_idle(page)
    dialog.get_by_role("button", name="Review and continue").click()
    wait_idle(page)
    dialog.get_by_role("button", name=confirm).click()
    wait_idle(page)
