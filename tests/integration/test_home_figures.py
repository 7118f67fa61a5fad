"""Home's void figures count what the dashboards count: voids in effect (a restored void was undone)."""
from datetime import timedelta

from lib import clock
from lib.queries.home import home_figures, weekly_voids_by_reason
from lib.services.voids import restore, void_order
from tests.integration.void_helpers import make_order


def test_voids_this_week_and_the_weekly_trend_leave_out_restored_voids(shop):
    kept, undone = make_order(shop), make_order(shop)
    lead = shop.users["ops_lead"]
    void_order(shop.db, shop.users["ops"], kept, "out_of_stock")
    void_order(shop.db, shop.users["ops"], undone, "customer_cancelled")
    restore(shop.db, lead, undone, "customer called back")
    later = clock.now() + timedelta(seconds=1)
    assert home_figures(shop.db, lead, now=later)["voids_this_week"] == 1
    trend = weekly_voids_by_reason(shop.db, lead, "zh", now=later)
    assert list(zip(trend["code"], trend["reason"], trend["voids"])) == [("out_of_stock", "缺货", 1)]
