"""Spike alerts to people (issue #17) on both backends: a new spike notifies the ops leads and analysts once and
writes one audit entry; a second run, or a run racing it, sends nothing again."""
import json
from datetime import date

import pytest

from lib.analytics.filters import AnalyticsFilters
from lib.db import scalar
from lib.services.spike_alerts import alert_new_spikes
from tests.integration import analytics_data as ad
from tests.integration.test_cli_explain import SPIKE_WEEK, plant_spike

pytestmark = pytest.mark.both_backends
WEEK = AnalyticsFilters(SPIKE_WEEK, date(2024, 3, 24))


@pytest.fixture
def desk(shop):
    book = ad.make_book(seed=17, n=300)
    plant_spike(book)
    ad.insert_book(shop.db, book)
    return shop


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
