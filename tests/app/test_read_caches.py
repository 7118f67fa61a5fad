"""The dashboards and Explore are cached per process (lib.ui.cached) and follow the app's own writes (issue #13): a
void on the order page or an approval on the approvals page shows at once; a write no page made (executemany, whose
SQL the old invalidation never saw) shows once the read caches are cleared, as every page does after its writes."""
from datetime import datetime, time, timedelta

import pytest

from lib import clock, i18n
from lib.services import voids
from lib.ui.cached import clear_read_caches
from tests.app import builders as b
from tests.app.conftest import app_on, seeded


@pytest.fixture(scope="module")
def own_db(tmp_path_factory):
    """A small demo database of this module's own: its tests change what the dashboards count."""
    return seeded(tmp_path_factory.mktemp("read_caches") / "demo.duckdb", orders=300, seed=5)


@pytest.fixture
def at(own_db, monkeypatch):
    return b.sign_in(app_on(own_db, monkeypatch), "lead")


def kpi(at, key: str) -> int:
    assert not at.exception, at.exception
    return int(next(m.value for m in at.metric if m.label == i18n.t(key, "en")).replace(",", ""))


def dashboard(at, key: str = "dash.kpi.voids") -> int:
    b.open_page(at, "pages/void_dashboard.py")
    return kpi(at, key)


def explored_voids(at) -> int:
    """Voids of the default period in Explore, by warehouse, summed."""
    b.open_page(at, "pages/explore.py")
    at.selectbox(key="ex_measure").set_value("voids")
    at.multiselect(key="ex_dims").set_value(["warehouse"])
    at.selectbox(key="ex_grain").set_value("none").run()
    assert not at.exception, at.exception
    return int(b.table_with(at, "Warehouse")["Voids"].sum())


def test_a_void_on_the_order_page_shows_on_the_dashboard_at_once(at, own_db):
    order_no = b.order(own_db)
    before = dashboard(at)
    b.void_dialog(at, order_no, "customer_cancelled").button(key="void_confirm").click().run()
    assert b.order_status(own_db, order_no) == "voided"
    assert dashboard(at) == before + 1


def test_an_approval_shows_on_the_dashboard_and_in_explore_at_once(at, own_db):
    order_no = b.order(own_db, rep="sales")
    voids.void_order(b.handle(own_db), b.user(own_db, "sales"), order_no, "customer_cancelled", "asked by phone")
    before, explored = dashboard(at), explored_voids(at)
    b.open_page(at, "pages/approvals.py")
    b.select_row(at, "queue", "order_no", order_no)
    at.button(key="queue_approve").click().run()
    assert b.order_status(own_db, order_no) == "voided"
    assert dashboard(at) == before + 1 and explored_voids(at) == explored + 1


def test_a_write_no_page_made_shows_once_the_read_caches_are_cleared(at, own_db):
    before = dashboard(at, "dash.kpi.orders")
    start = datetime.combine(clock.today() - timedelta(days=89), time())
    with b.handle(own_db).transaction() as cur:
        older = [r[0] for r in cur.execute("SELECT id FROM orders WHERE created_at < ? ORDER BY id LIMIT 5",
                                           [start]).fetchall()]
        yesterday = datetime.combine(clock.today() - timedelta(days=1), time(12))
        cur.executemany("UPDATE orders SET created_at = ? WHERE id = ?", [[yesterday, i] for i in older])
    assert len(older) == 5
    at.run()
    # Only this app writes the file while it runs (DuckDB: one writing process), so only its pages clear the caches.
    assert kpi(at, "dash.kpi.orders") == before
    clear_read_caches()
    at.run()
    assert kpi(at, "dash.kpi.orders") == before + 5
