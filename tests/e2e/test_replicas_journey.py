"""Two app processes on one PostgreSQL database (issue #14), in the browser: operations void an order on one
replica; an analyst on the other sees it counted on the void dashboard, which says how fresh its data is."""
import re
import subprocess
import sys

import psycopg
import pytest

from lib import clock
from tests.e2e.conftest import ROOT, SERVER_ENV, goto, login, new_page, settle, start_server, stop_server, \
    void_in_dialog

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def replicas(pg_server):
    """A seeded PostgreSQL database and two servers on it; and an order ops may void at once."""
    with psycopg.connect(pg_server.url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE vd_replicas")
    url = pg_server.database_url("vd_replicas")
    subprocess.run([sys.executable, "-m", "lib.cli", "seed", "--orders", "600", "--today", clock.today().isoformat(),
                    "--db", url], cwd=ROOT, check=True, capture_output=True)
    with psycopg.connect(url) as conn:
        order = conn.execute(
            "SELECT order_no FROM orders o WHERE status IN ('pending', 'processing') AND total < 10000"
            " AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.order_id = o.id AND v.status = 'pending_approval')"
            " ORDER BY id DESC LIMIT 1").fetchone()[0]
    servers = [start_server(url, env_extra=SERVER_ENV) for _ in range(2)]
    yield [u for _, u in servers], order
    for proc, _ in servers:
        stop_server(proc)


def _voids_shown(page) -> int:
    metric = page.locator("[data-testid=stMetric]").filter(has_text=re.compile(r"^Voids"))
    metric.first.wait_for()
    return int(metric.first.locator("[data-testid=stMetricValue]").inner_text().replace(",", ""))


def test_a_void_on_one_replica_shows_on_the_other_replicas_dashboard(browser, replicas):
    (a, b), order = replicas
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
