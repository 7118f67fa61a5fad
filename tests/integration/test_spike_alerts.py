"""Spike alerts to people (issue #17) on both backends: a new spike notifies the ops leads and analysts once and
writes one audit entry; a second run, or a run racing it, sends nothing again. The alert names a warehouse beside
its top segment only when that warehouse holds the spike (DuckDB only: on PostgreSQL explain reads the same DuckDB
copy)."""
import json
from datetime import date, datetime, timedelta

import pytest

from lib.analytics.filters import AnalyticsFilters
from lib.db import scalar
from lib.services.spike_alerts import alert_new_spikes
from tests.integration import analytics_data as ad
from tests.integration.test_cli_explain import SPIKE_WEEK, plant_spike

WEEK = AnalyticsFilters(SPIKE_WEEK, date(2024, 3, 24))


@pytest.fixture
def desk(shop):
    book = ad.make_book(seed=17, n=300)
    plant_spike(book)
    ad.insert_book(shop.db, book)
    return shop


@pytest.mark.both_backends
def test_a_spike_is_alerted_once_on_each_backend(desk):
    analyst = desk.users["analyst"]
    first = alert_new_spikes(desk.db, analyst, WEEK, kinds=("void",))
    assert [(s["reason_code"], s["new"]) for s in first] == [("out_of_stock", True)]
    assert first[0]["top"] is not None
    assert [s["new"] for s in alert_new_spikes(desk.db, analyst, WEEK, kinds=("void",))] == [False]
    with desk.db.read() as cur:
        after = [json.loads(a) for (a,) in cur.execute(
            "SELECT after FROM audit_log WHERE action = 'spike.alert' AND entity_id = 'out_of_stock'").fetchall()]
        told = scalar(cur, "SELECT count(*) FROM notifications WHERE kind = 'spike.detected'")
    assert [(a["kind"], a["week"], a["top"]["dimension"]) for a in after] == [("void", "2024-03-18",
                                                                              first[0]["top"]["dimension"])]
    assert told == 2   # the shop's ops lead and analyst


def plant_phone_spike(book: ad.Book, warehouses: tuple[str, ...]) -> None:
    """Sixteen one-phone orders (both phone models, both reps, both customers) voided for out of stock in one week,
    from the warehouses taken in turn."""
    for i in range(16):
        created = datetime.combine(SPIKE_WEEK, datetime.min.time()) + timedelta(hours=5 * i + 1)
        o = ad.Order(f"PS-{i:03d}", f"CUS-{1 + i % 2}", ("sales", "sales2")[i // 2 % 2],
                     warehouses[i % len(warehouses)], created, [[f"PHN-{1 + i % 2}", 1, 0]])
        book.orders.append(o)
        when = created + timedelta(hours=2)
        book.voids.append(ad.Void(o, "applied", "out_of_stock", when, False, None, when))
    book.orders.sort(key=lambda o: o.created)


def alerted_top(shop, warehouses: tuple[str, ...]) -> tuple[dict, str]:
    """The top of the out-of-stock spike's alert, and its notification's English text."""
    book = ad.make_book(seed=17, n=300)
    plant_phone_spike(book, warehouses)
    ad.insert_book(shop.db, book)
    (found,) = alert_new_spikes(shop.db, shop.users["analyst"], WEEK, kinds=("void",))
    with shop.db.read() as cur:
        (after,) = [json.loads(a) for (a,) in cur.execute(
            "SELECT after FROM audit_log WHERE action = 'spike.alert'").fetchall()]
        params = json.loads(scalar(cur, "SELECT params FROM notifications WHERE kind = 'spike.detected' LIMIT 1"))
    assert after["top"] == found["top"]
    return found["top"], params["top_en"]


def test_a_spike_held_by_one_warehouse_names_the_category_in_that_warehouse(shop):
    top, text = alerted_top(shop, ("GZ",))
    assert (top["dimension"], top["key"]) == ("category", "phones")
    assert (top["in"]["dimension"], top["in"]["key"]) == ("warehouse", "GZ") and top["in"]["share"] >= 0.75
    assert text == f"mostly Phones (category) in warehouse {top['in']['label_en']}"


def test_a_spike_spread_over_the_warehouses_names_the_category_alone(shop):
    top, text = alerted_top(shop, ("GZ", "SH"))
    assert (top["dimension"], top["key"], top["in"]) == ("category", "phones", None)
    assert text == "mostly Phones (category)"
