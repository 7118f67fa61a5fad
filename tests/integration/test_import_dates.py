"""Dates as other systems write them: year last in day/month or month/day order (chosen, or decided from the
file's values; a file that cannot tell or says both is refused), and ISO timestamps with an offset or Z, stored as
this process's local wall-clock time. Through the real import into a real DuckDB file."""
import time
from datetime import datetime as dt, timedelta

import pytest

from lib.errors import InvalidInput
from lib.imports import check_import, propose, read_bytes, run_import
from lib.imports.dates import Detection, detect_date_order
from tests.integration import import_samples as samples
from tests.integration.test_import_orders import EXPECTED, content
from tests.integration.test_import_rejects import problems, snapshot

LATER = [(r[0], r[1], r[2] + timedelta(days=10), *r[3:]) for r in samples.ORDERS]   # 15–18 March: days above 12


def load(shop, data: bytes, order: str | None = None, name: str = "orders.csv"):
    source = read_bytes(name, data)
    mapping = propose("orders", source)
    if order:
        mapping.date_order = order
    return run_import(shop.db, shop.users["ops_lead"], source, mapping)


def created(db) -> dict[str, dt]:
    with db.read() as cur:
        return dict(cur.execute("SELECT order_no, created_at FROM orders ORDER BY 1").fetchall())


def _dotted(t: dt) -> str:
    return f"{t.day}.{t.month}.{t.year}" + ("" if (t.hour, t.minute) == (0, 0) else f" {t.hour}:{t:%M}")


@pytest.mark.parametrize("order, render", [
    ("day_first", lambda t: f"{t:%d/%m/%Y %H:%M}"),
    ("day_first", _dotted),
    ("day_first", lambda t: f"{t:%d-%m-%Y %H:%M:%S}"),
    ("month_first", lambda t: f"{t:%m/%d/%Y %H:%M}"),
    ("month_first", lambda t: f"{t.month}/{t.day}/{t.year} {t:%I:%M %p}"),
    ("month_first", lambda t: f"{t:%Y-%m-%d %H:%M}"),   # year first reads the same whatever the order
])
def test_day_first_month_first_and_iso_forms_store_the_same_orders(shop, order, render):
    result = load(shop, samples.dated_csv(render), order)
    assert (result.ok, result.loaded) == (True, 6), result.problems
    assert content(shop.db) == EXPECTED


@pytest.mark.parametrize("render", [lambda t: f"{t:%d/%m/%Y %H:%M}", lambda t: f"{t:%m/%d/%Y %H:%M}",
                                    lambda t: f"{t:%Y-%m-%dT%H:%M:%S}"])
def test_auto_reads_the_order_the_values_show(shop, render):
    assert load(shop, samples.dated_csv(render, LATER)).ok
    assert created(shop.db) == {r[0]: r[2] for r in LATER}


def test_one_telling_date_decides_for_the_ambiguous_ones(shop):
    lines = ["A-1,CUS-1,05/03/2026 09:15,pending,SH,TOY-1,1,", "A-2,CUS-1,25/03/2026,pending,SH,TOY-1,1,",
             "A-3,CUS-1,7.3.2026,pending,SH,TOY-1,1,"]
    source = read_bytes("a.csv", samples.orders_csv(lines))
    found = detect_date_order(source, propose("orders", source))
    assert found == Detection(day=("25/03/2026", 3), ambiguous=("05/03/2026 09:15", 2))
    assert found.order == "day_first"
    assert load(shop, samples.orders_csv(lines)).ok
    assert created(shop.db) == {"A-1": dt(2026, 3, 5, 9, 15), "A-2": dt(2026, 3, 25), "A-3": dt(2026, 3, 7)}


def test_a_file_of_only_ambiguous_dates_is_refused_row_by_row(shop):
    before = snapshot(shop.db)
    lines = ["B-1,CUS-1,04/03/2026,pending,SH,TOY-1,1,", "B-2,CUS-1,05/05/2026,pending,SH,TOY-1,1,",
             "B-3,CUS-1,2026-03-09,pending,SH,TOY-1,1,", "B-4,CUS-1,11.12.2025 10:00,pending,SH,TOY-1,1,"]
    result = load(shop, samples.orders_csv(lines))
    assert result.loaded == 0 and snapshot(shop.db) == before
    reason = "could be day/month or month/day: choose the date order (no date in the file shows which)"
    assert problems(result) == [(2, "Order date", "04/03/2026", f"04/03/2026 {reason}"),
                                (5, "Order date", "11.12.2025 10:00", f"11.12.2025 10:00 {reason}")]
    assert load(shop, samples.orders_csv(lines), "month_first").ok
    assert created(shop.db)["B-1"] == dt(2026, 4, 3) and created(shop.db)["B-4"] == dt(2025, 11, 12, 10)


def test_a_file_with_both_orders_is_refused_naming_one_of_each(shop):
    before = snapshot(shop.db)
    lines = ["C-1,CUS-1,2026-03-01,pending,SH,TOY-1,1,", "C-2,CUS-1,25/03/2026,pending,SH,TOY-1,1,",
             "C-3,CUS-1,03/26/2026,pending,SH,TOY-1,1,", "C-4,CUS-1,31/03/2026,pending,SH,TOY-1,1,"]
    source = read_bytes("c.csv", samples.orders_csv(lines))
    for work in (run_import, check_import):
        with pytest.raises(InvalidInput) as caught:
            work(shop.db, shop.users["ops_lead"], source, propose("orders", source))
        assert caught.value.key == "import.mixed_date_order"
    assert caught.value.message("en").startswith(
        "The dates mix day first (25/03/2026, row 3) and month first (03/26/2026, row 4); a file cannot be both.")
    assert "25/03/2026" in caught.value.message("zh") and "03/26/2026" in caught.value.message("zh")
    assert snapshot(shop.db) == before


def test_a_chosen_order_rejects_the_dates_written_the_other_way(shop):
    lines = ["D-1,CUS-1,25/03/2026,pending,SH,TOY-1,1,", "D-2,CUS-1,03/26/2026,pending,SH,TOY-1,1,",
             "D-3,CUS-1,31/02/2026,pending,SH,TOY-1,1,"]
    result = load(shop, samples.orders_csv(lines), "day_first")
    assert problems(result) == [
        (3, "Order date", "03/26/2026",
         "03/26/2026 is not a date read day first (day/month/year), the date order chosen"),
        (4, "Order date", "31/02/2026", "31/02/2026 is not a date (e.g. 2026-03-05, 2026/3/5 14:30, 2026年3月5日)")]
    result = load(shop, samples.orders_csv(lines[:2]), "month_first")
    assert [p[3] for p in problems(result)] == [
        "25/03/2026 is not a date read month first (month/day/year), the date order chosen"]


def test_void_dates_count_towards_the_file_and_follow_its_order(shop):
    headers = samples.EN_HEADERS + ["voided_at"]
    lines = ["V-1,CUS-1,01/03/2026,voided,SH,TOY-1,1,,02/03/2026", "V-2,CUS-1,2026-03-01,voided,SH,TOY-1,1,,14/03/2026"]
    assert load(shop, samples.orders_csv(lines, headers)).ok
    with shop.db.read() as cur:
        voided = cur.execute("SELECT order_no, created_at, voided_at FROM orders ORDER BY 1").fetchall()
    assert voided == [("V-1", dt(2026, 3, 1), dt(2026, 3, 2)), ("V-2", dt(2026, 3, 1), dt(2026, 3, 14))]


# --- offsets ----------------------------------------------------------------------------------------------------

@pytest.fixture
def local_zone(monkeypatch):
    """Set this process's local time zone (offsets are stored in local time); put it back afterwards."""
    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()
    yield use
    monkeypatch.undo()
    time.tzset()


OFFSET_LINES = ["T-1,CUS-1,2026-03-05T02:30:00+08:00,pending,SH,TOY-1,1,",
                "T-2,CUS-1,2026-03-05T20:30:00Z,pending,SH,TOY-1,1,",
                "T-3,CUS-1,2026-03-05 14:30:00+0800,pending,SH,TOY-1,1,",
                "T-4,CUS-1,2026-03-05T21:15:30.5-05:00,pending,SH,TOY-1,1,",
                "T-5,CUS-1,2026-03-05 14:30,pending,SH,TOY-1,1,"]


@pytest.mark.parametrize("zone, expected", [
    ("UTC", [dt(2026, 3, 4, 18, 30), dt(2026, 3, 5, 20, 30), dt(2026, 3, 5, 6, 30), dt(2026, 3, 6, 2, 15, 30, 500000),
             dt(2026, 3, 5, 14, 30)]),
    ("Asia/Shanghai", [dt(2026, 3, 5, 2, 30), dt(2026, 3, 6, 4, 30), dt(2026, 3, 5, 14, 30),
                       dt(2026, 3, 6, 10, 15, 30, 500000), dt(2026, 3, 5, 14, 30)]),
])
def test_offsets_become_local_wall_clock_time_across_midnight(shop, local_zone, zone, expected):
    local_zone(zone)
    result = load(shop, samples.orders_csv(OFFSET_LINES))
    assert result.ok, result.problems
    assert list(created(shop.db).values()) == expected


def test_offsets_follow_summer_time_of_the_local_zone(shop, local_zone):
    local_zone("Europe/Berlin")
    lines = [f"S-{i},CUS-1,{moment},completed,SH,TOY-1,1," for i, moment in enumerate(
        ["2025-03-30T00:30:00Z", "2025-03-30T01:30:00Z", "2025-10-26T00:30:00+00:00", "2025-10-26T01:30:00Z"])]
    assert load(shop, samples.orders_csv(lines)).ok
    assert list(created(shop.db).values()) == [dt(2025, 3, 30, 1, 30), dt(2025, 3, 30, 3, 30),
                                               dt(2025, 10, 26, 2, 30), dt(2025, 10, 26, 2, 30)]


def test_bad_offsets_are_not_dates(shop):
    lines = ["U-1,CUS-1,2026-03-05T02:30:00+25:00,pending,SH,TOY-1,1,", "U-2,CUS-1,2026-03-05+08:00,pending,SH,TOY-1,1,",
             "U-3,CUS-1,2026-03-05T02:30:00+08:75,pending,SH,TOY-1,1,"]
    result = load(shop, samples.orders_csv(lines))
    assert [(p[0], p[3].split(" is ")[1][:8]) for p in problems(result)] == [(2, "not a da"), (3, "not a da"),
                                                                              (4, "not a da")]


def test_parquet_timestamps_with_a_zone_are_moved_to_local_time(shop, local_zone):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    local_zone("Asia/Shanghai")
    out = io.BytesIO()
    pq.write_table(pa.table({
        "order_no": ["Z-1"], "customer_code": ["CUS-1"], "status": ["completed"], "warehouse": ["SH"],
        "created_at": pa.array([dt(2026, 3, 5, 20, 30)], pa.timestamp("us", tz="UTC")),
        "sku": ["TOY-1"], "qty": [1]}), out)
    assert load(shop, out.getvalue(), name="z.parquet").ok
    assert created(shop.db) == {"Z-1": dt(2026, 3, 6, 4, 30)}
