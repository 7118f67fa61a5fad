"""Two app processes on one PostgreSQL database (issue #14), in the browser: operations void an order on one
replica; the other replica's order page shows it at once, and an analyst there sees it counted on the void
dashboard, which says how fresh its data is. Two users on the two replicas voiding one order: one wins, the other
is told. A scheduled import from the command line runs while both serve, and its orders are there on both."""
import os
import re
import socket
import subprocess
import sys
import urllib.request

import psycopg
import pytest

from lib import clock
from lib.tools import cluster
from lib.tools.devserver import free_port
from tests.e2e.conftest import ROOT, SERVER_ENV, goto, login, new_page, settle, void_in_dialog

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def replicas(pg_server, tmp_path_factory):
    """A seeded PostgreSQL database and two replicas on it behind nginx, started by the demo cluster tool
    (scripts/cluster.sh); the replicas' own URLs, two orders ops may void at once, the database URL, and nginx's."""
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE vd_replicas")
    url = pg_server.database_url("vd_replicas")
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--orders", "1500", "--today", clock.today().isoformat(),
                    "--db", url], cwd=ROOT, check=True, capture_output=True)
    with psycopg.connect(url) as conn:
        orders = [r[0] for r in conn.execute(
            "SELECT order_no FROM orders o WHERE status IN ('pending', 'processing') AND total < 10000"
            " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
            " ORDER BY id DESC LIMIT 2").fetchall()]
    env = {**SERVER_ENV, "VOIDDESK_DB": url, "VOIDDESK_CLUSTER_DIR": str(tmp_path_factory.mktemp("cluster"))}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        state = cluster.start(replicas=2, port=free_port(), replica_port=_two_free_ports(), mail_every=3600)
        yield [f"http://127.0.0.1:{p}" for p in state["replica_ports"]], orders, url, state["url"]
    finally:
        cluster.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _two_free_ports() -> int:
    """A port whose next one is free too (the cluster numbers its replicas' ports one after another)."""
    for _ in range(50):
        first = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", first + 1))
            except OSError:
                continue
        return first
    raise RuntimeError("no two free ports in a row")


def _voids_shown(page) -> int:
    metric = page.locator("[data-testid=stMetric]").filter(has_text=re.compile(r"^Voids"))
    metric.first.wait_for()
    return int(metric.first.locator("[data-testid=stMetricValue]").inner_text().replace(",", ""))


def test_a_void_on_one_replica_shows_on_the_other_replicas_order_page_and_dashboard(browser, replicas):
    (a, b), (order, _), _, _ = replicas
    analyst = new_page(browser)
    login(analyst, b, "analyst")
    analyst.goto(f"{b}/void-dashboard")
    analyst.get_by_role("heading", name="Void analytics", exact=True).wait_for()
    settle(analyst)
    analyst.get_by_text(re.compile(r"Data as of \d\d:\d\d:\d\d")).wait_for()
    before = _voids_shown(analyst)

    ops = new_page(browser)
    login(ops, a, "ops")
    goto(ops, f"{a}/order?no={order}", f"Order {order}")
    void_in_dialog(ops, "Void order", "Customer cancelled", "Yes, void the order")
    ops.get_by_text(f"Order {order} voided").wait_for()

    # The order page on the other replica reads the shared database itself: current at once. (The session cookie
    # is the host's, whatever the port, and sessions live in the shared database: the same browser is signed in there.)
    goto(ops, f"{b}/order?no={order}", f"Order {order}")
    ops.get_by_text("Voided", exact=True).first.wait_for()
    assert ops.get_by_role("button", name="Void order").count() == 0

    # The other replica's copy is refreshed by a read once it is a second old: reload until the count moves
    # (each reload is a full run of the page; bounded, never a fixed sleep).
    for _ in range(30):
        analyst.reload()
        analyst.get_by_role("heading", name="Void analytics", exact=True).wait_for()
        settle(analyst)
        if _voids_shown(analyst) == before + 1:
            break
    assert _voids_shown(analyst) == before + 1
    analyst.context.close()
    ops.context.close()


def test_two_users_on_two_replicas_voiding_one_order_one_wins_and_the_other_is_told(browser, replicas):
    (a, b), (_, order), _, _ = replicas
    first, second = new_page(browser), new_page(browser)
    login(first, a, "ops")
    login(second, b, "lead")
    for pg, url in ((first, a), (second, b)):   # both see the order open, both decide to void it
        goto(pg, f"{url}/order?no={order}", f"Order {order}")
        pg.get_by_role("button", name="Void order").wait_for()
    void_in_dialog(first, "Void order", "Customer cancelled", "Yes, void the order")
    first.get_by_text(f"Order {order} voided").wait_for()
    void_in_dialog(second, "Void order", "Out of stock", "Yes, void the order")
    second.get_by_text(re.compile(r"changed by someone else|already voided|can no longer be voided")).first.wait_for()
    assert second.get_by_text(f"Order {order} voided").count() == 0
    with psycopg.connect(replicas[2]) as conn:
        applied = conn.execute("SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                               " WHERE o.order_no = %s AND v.status = 'applied'", [order]).fetchone()[0]
    assert applied == 1
    first.context.close()
    second.context.close()


def test_a_scheduled_import_runs_while_both_replicas_serve(browser, replicas, tmp_path):
    (a, b), _, url, _ = replicas
    with psycopg.connect(url) as conn:
        customer = conn.execute("SELECT code FROM customers ORDER BY id LIMIT 1").fetchone()[0]
        sku, warehouse = conn.execute("SELECT sku, warehouse FROM stock_balances WHERE on_hand - reserved > 5"
                                      " ORDER BY sku LIMIT 1").fetchone()
    file = tmp_path / "nightly.csv"
    file.write_text("order_no,customer_code,created_at,status,warehouse,sku,qty,unit_price\n"
                    f"ERP-900001,{customer},2026-11-20 09:00,pending,{warehouse},{sku},2,10.00\n"
                    f"ERP-900002,{customer},2026-11-21 10:30,completed,{warehouse},{sku},1,12.50\n", encoding="utf-8")
    viewer = new_page(browser)   # a user on replica B keeps working while the job runs
    login(viewer, b, "ops")
    done = subprocess.run([sys.executable, "-m", "lib.cli", "import", "orders", str(file), "--user", "admin",
                           "--db", url], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for pg, server in ((viewer, b), (new_page(browser), a)):
        if pg is not viewer:
            login(pg, server, "ops")
        goto(pg, f"{server}/order?no=ERP-900001", "Order ERP-900001")
        pg.get_by_text("Pending", exact=True).first.wait_for()
        pg.context.close()


def test_nginx_keeps_each_browser_on_one_replica(browser, replicas):
    """Streamlit keeps a session in one process: nginx hands a new browser a replica and a cookie naming it, then
    routes by the cookie, WebSocket included (the pages run through it)."""
    _, _, url, front = replicas
    seen = set()
    for _ in range(12):   # new browsers are spread over the replicas
        with urllib.request.urlopen(f"{front}/_stcore/health") as reply:
            seen.add(reply.headers["X-VoidDesk-Replica"])
            assert any(c.startswith(f"{cluster.COOKIE}=") for c in reply.headers.get_all("Set-Cookie"))
    assert seen == {"replica_1", "replica_2"}
    page = new_page(browser)
    login(page, front, "ops")   # sign-in and every page after it run over the proxied WebSocket
    goto(page, f"{front}/search", "Orders")
    with psycopg.connect(url) as conn:   # counted under the browser's address that nginx passed on (issue #16)
        assert conn.execute("SELECT count(*) FROM login_attempts WHERE username = 'ops' AND address = '127.0.0.1'"
                            " AND signed_in_at IS NOT NULL").fetchall() == [(1,)]
    cookie = next(c for c in page.context.cookies() if c["name"] == cluster.COOKIE)["value"]
    for _ in range(3):
        reply = page.request.get(f"{front}/_stcore/health")
        assert reply.headers["x-voiddesk-replica"] == cookie
    page.context.close()
