"""Browser tests: a real Streamlit server on a temporary database, driven by Debian's Chromium.

Every helper waits for what the step expects to see, never for a fixed time (issue #13). Streamlit's
`data-test-script-state` alone cannot say that the run an action starts is over: right after a click it still
shows the previous run as finished, and between the runs of one chain (st.rerun, a callback, a page switch) it
shows "notRunning" too. So wait for something the awaited run draws first, then `settle()`.
"""
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from lib import clock
from lib.config import SESSION_COOKIE
from lib.tools.devserver import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server, stop_server  # noqa: F401
from lib.i18n import LANGUAGES

HERE = Path(__file__).resolve().parent
# Generous, because a loaded machine makes a run take seconds; a passing test never waits this long.
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
SIGN_OUT = {"en": "Sign out", "zh": "退出登录"}
SESSION_COOKIE_SET = f"() => document.cookie.split('; ').some(c => c.startsWith('{SESSION_COOKIE}='))"
SERVER_ENV = {"VOIDDESK_LANG": "en"}   # the sign-in page's language, whatever the shell says


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The browser tests first, as one unit of work for one worker (tests/conftest.py's scheduler): one seeded
    demo database, one server and one Chromium, never two of each competing for the two cores; the longest unit
    starts at once and the other worker takes the modules one by one meanwhile."""
    browser = [item for item in items if HERE in Path(item.path).resolve().parents]
    # The two replicas' module first: the scheduler hands it to a second worker (it has servers of its own). The
    # other modules with servers of their own (the company sign-in's) come after the shared unit's first test, so
    # they are the next unit for that second worker.
    order = {"test_replicas_journey.py": 0, "test_oidc_journey.py": 2}
    browser.sort(key=lambda item: order.get(item.path.name, 1))
    items[:] = browser + [item for item in items if item not in browser]


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
            # prefix, of a day before the newest order's (so orders created during the run never join that prefix,
            # and the newest order of all, which Search lists first when unfiltered, has another prefix).
            "collab": pick("SELECT order_no FROM orders o WHERE status = 'completed'"
                           " AND assignee_id = (SELECT id FROM users WHERE username = 'ops')"
                           " AND left(order_no, 12) < (SELECT left(max(order_no), 12) FROM orders)"
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
        # How many orders share the collab order's prefix: what Search must count once it is filtered by it.
        picks["collab_prefix_count"] = con.execute("SELECT count(*) FROM orders WHERE left(order_no, 12) = ?",
                                                   [picks["collab"][:12]]).fetchall()[0][0]
    finally:
        con.close()
    _request_voids(demo_db, *picks["requests"])
    return picks


def _request_voids(path: Path, rep: str, numbers: list[str]) -> None:
    """The sales rep asks for the voids of `numbers` (through the service, before the server takes the file; the
    request dialog itself is proven by tests/app/test_void_pages.py): the approvals journey decides them."""
    from lib.db import Database
    from lib.services import voids
    from lib.tools.bench import user_named

    db = Database(str(path))
    try:
        for number in numbers:
            assert voids.void_order(db, user_named(db, rep), number, "customer_cancelled")["outcome"] == "pending_approval"
    finally:
        db.close()


@pytest.fixture(scope="session")
def server(demo_db, demo_orders):
    proc, url = start_server(demo_db, env_extra=SERVER_ENV)
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


def new_page(browser):
    """A fresh browser session (its own cookies) with the suite's window, locale and timeouts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)   # tabs the page opens get it too
    return context.new_page()


@pytest.fixture
def page(browser):
    pg = new_page(browser)
    yield pg
    pg.context.close()


def settle(pg) -> None:
    """Wait until the app shows no run going. Call it once something the awaited run draws is there (module doc)."""
    pg.wait_for_selector(IDLE)


def goto(pg, url: str, heading: str) -> None:
    """Open `url` (a new session of the app) and wait for the page's heading (its whole text) and the run's end."""
    pg.goto(url)
    pg.get_by_role("heading", name=heading, exact=True).wait_for()
    settle(pg)


def sign_in(pg, url: str, username: str, password: str) -> None:
    """Open the app in this browser session and send the sign-in form (in the server's default language)."""
    pg.goto(url)
    pg.get_by_label("Username").wait_for()
    settle(pg)
    pg.get_by_label("Username").fill(username)
    pg.get_by_role("textbox", name="Password").fill(password)
    pg.get_by_role("button", name="Sign in", exact=True).click()   # not "Sign in with your company account"


def login(pg, url: str, username: str, password: str = "demo1234", language: str = "en") -> None:
    """Sign in and switch to `language`, then wait until the sidebar shows it and the browser holds the session
    cookie: a page opened next by URL is a new session, and signs in only from that cookie. The home page may
    still be drawing: wait for what you need of it."""
    sign_in(pg, url, username, password)
    sign_out = pg.locator(".st-key-logout").get_by_role("button")
    sign_out.wait_for()   # signed in, in the language this user chose last (another test may have left it)
    # The run after sign-in writes the cookie once; let the browser have it before a click starts another run.
    pg.wait_for_function(SESSION_COOKIE_SET)
    switch = pg.locator("[data-testid=stSidebar]").get_by_role("radio", name=LANGUAGES[language], exact=True)
    if not switch.is_checked():   # (a click on the language shown would start a run for nothing)
        switch.click()
    sign_out.filter(has_text=SIGN_OUT[language]).wait_for()   # the switch has run (and was saved for the user)


def matching_orders(page) -> int:
    """The Search page's count of matching orders, once a drill-down has landed there."""
    page.wait_for_url("**/search?**")
    metric = page.locator("[data-testid=stMetric]").filter(has_text="Matching orders")
    metric.wait_for()
    settle(page)
    return int(metric.locator("[data-testid=stMetricValue]").inner_text().replace(",", ""))


def params(page) -> dict[str, list[str]]:
    """The page URL's query parameters."""
    return parse_qs(urlparse(page.url).query)


def wait_for_params(page, **expected: str) -> None:
    """Wait until the page URL's query parameters include `expected` (the app writes them as it runs)."""
    page.wait_for_url(lambda url: all(parse_qs(urlparse(url).query).get(k) == [v] for k, v in expected.items()))


def click_plot(page, plot, x: float, y: float) -> None:
    """Click a Plotly mark at page pixels (x, y): Plotly acts on the point it has registered under the pointer,
    so hover there first and wait until it has. A chart drawn again meanwhile (a loaded machine) never saw that
    pointer move: move again, by half a pixel, until the chart on the page now has registered the point."""
    for attempt in range(40):
        page.mouse.move(x + (attempt % 2) * 0.5, y)
        try:
            page.wait_for_function("gd => (gd._hoverdata || []).length > 0", arg=plot.element_handle(),
                                   timeout=1500)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError(f"Plotly registered no point under the pointer at ({x:.0f}, {y:.0f})")
    page.mouse.click(x + (attempt % 2) * 0.5, y)


def void_in_dialog(page, button: str, reason: str, confirm: str, look=None) -> None:
    """On an open order page: the void dialog's button, a reason, Review and continue, then the confirmation;
    look(dialog), when given, checks the dialog as it opens. The caller waits for the outcome it expects."""
    page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    if look is not None:
        look(dialog)
    dialog.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name=reason).click()
    # Enabled only once the run that got the reason has drawn the dialog again; a click waits for that.
    dialog.get_by_role("button", name="Review and continue").click()
    dialog.get_by_role("button", name=confirm).click()
