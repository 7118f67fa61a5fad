"""Explain a change (issue #17) against plain-Python counts of the same hand-made rows: the totals are the
dashboards' KPIs, every segment's counts are right, and the rows add up to the change exactly."""
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from lib.analytics import explain as ex
from lib.analytics import returns, voids
from lib.analytics.filters import AnalyticsFilters
from lib.errors import InvalidInput, PermissionDenied
from tests.integration import analytics_data as ad

FEB, MARCH = (date(2024, 1, 30), date(2024, 2, 29)), (date(2024, 3, 1), date(2024, 3, 31))
FILTERS = {"plain": None, "order_basis": AnalyticsFilters(*MARCH, basis="order"),
           "warehouse": AnalyticsFilters(*MARCH, warehouses=("SH",))}


@pytest.fixture(scope="module")
def book():
    return ad.make_book(seed=17, n=300)


@pytest.fixture(scope="module", params=["in_time_order", pytest.param("shuffled_ids", marks=pytest.mark.slow)])
def desk(tmp_path_factory, book, request):
    """Ids in creation order take the id-range shortcuts (bases counted by range) unless a filter narrows the
    orders (the "warehouse" variant: the general way); shuffled ids never take them."""
    desk = ad.build_desk(tmp_path_factory.mktemp("explain") / "desk.duckdb")
    ad.insert_book(desk.db, book, shuffled=request.param == "shuffled_ids")
    yield desk
    desk.db.close()


def main_sku(o: ad.Order) -> str:
    """The SKU of the order's line of largest value, the first on a tie (as the page says)."""
    return max(enumerate(o.lines), key=lambda p: (p[1][1] * ad.PRICES[p[1][0]], -p[0]))[1][0]


KEY_OF = {"category": lambda o: ad.CATEGORY[main_sku(o)], "sku": main_sku, "rep": lambda o: o.rep,
          "customer": lambda o: o.customer, "warehouse": lambda o: o.warehouse, "source": lambda o: "app"}


def expected_segments(book, f0, f1, by) -> dict:
    """key -> (b0, b1, c0, c1) counted in Python (bases: orders created; counts: voids that count)."""
    out: dict = {}
    for p, f in enumerate((f0, f1)):
        for o in ad.period_orders(book, f) if by != "reason" else []:
            out.setdefault(KEY_OF[by](o), [0, 0, 0, 0])[p] += 1
        for v in ad.counted_voids(book, f):
            key = v.reason if by == "reason" else KEY_OF[by](v.order)
            out.setdefault(key, [0, 0, 0, 0])[2 + p] += 1
    return {k: tuple(n) for k, n in out.items()}


def assert_adds_up(result: dict) -> None:
    total = sum(Decimal(str(r["contribution"])) for r in result["rows"])
    assert total == Decimal(str(result["change"]))
    for r in result["rows"]:
        if r["mix"] is not None:
            assert Decimal(str(r["mix"])) + Decimal(str(r["rate_effect"])) == Decimal(str(r["contribution"]))


@pytest.mark.parametrize("variant", FILTERS)
def test_every_dimension_adds_up_and_counts_like_python(desk, book, variant):
    found = ex.explain_all(desk.db, desk.analyst, "voids", FEB, MARCH, filters=FILTERS[variant], top=50)
    base = FILTERS[variant] or AnalyticsFilters(*MARCH)
    f0, f1 = replace(base, date_from=FEB[0], date_to=FEB[1]), replace(base, date_from=MARCH[0], date_to=MARCH[1])
    for by, result in found.items():
        assert_adds_up(result)
        got = {r["key"]: (r["before"]["base"], r["after"]["base"], r["before"]["count"], r["after"]["count"])
               for r in result["rows"]}
        want = expected_segments(book, f0, f1, by)
        if by == "reason":   # a reason splits the count only: its base is the whole base
            b0, b1 = len(ad.period_orders(book, f0)), len(ad.period_orders(book, f1))
            want = {k: (b0, b1, c0, c1) for k, (_, _, c0, c1) in want.items() if c0 or c1}
        assert got == want, by


def test_the_totals_are_the_dashboard_kpis(desk):
    f = AnalyticsFilters(*MARCH)
    kpis = voids.kpis(desk.db, desk.analyst, f)
    result = ex.explain(desk.db, desk.analyst, "voids", FEB, MARCH, by="warehouse")
    for side, period in (("before", "previous"), ("after", "current")):
        assert (result[side]["count"], result[side]["base"]) == (kpis[period]["voids"], kpis[period]["orders"])
    r_kpis = returns.kpis(desk.db, desk.analyst, f)
    r = ex.explain(desk.db, desk.analyst, "returns", FEB, MARCH, by="sku", measure="count")
    assert (r["after"]["count"], r["after"]["base"]) == (r_kpis["current"]["returns"],
                                                         r_kpis["current"]["shipped_orders"])
    assert r["change"] == r_kpis["current"]["returns"] - r_kpis["previous"]["returns"]
    assert_adds_up(r)


@pytest.mark.parametrize("measure", ex.MEASURES)
def test_the_long_tail_is_folded_into_one_row(desk, measure):
    full = ex.explain(desk.db, desk.analyst, "returns", FEB, MARCH, by="sku", measure=measure, top=50)
    short = ex.explain(desk.db, desk.analyst, "returns", FEB, MARCH, by="sku", measure=measure, top=1)
    assert len(full["rows"]) == 4 and [r["key"] for r in short["rows"]] == [full["rows"][0]["key"], None]
    assert short["rows"][1]["members"] == 3 and short["rows"][1]["label"] == "Everything else"
    assert short["change"] == full["change"]
    assert_adds_up(short)
    ranked = [abs(r["contribution"]) for r in full["rows"]]
    assert ranked == sorted(ranked, reverse=True)


def test_labels_follow_the_language(desk):
    result = ex.explain(desk.db, desk.analyst, "voids", FEB, MARCH, by="category", lang="zh")
    assert {r["label"] for r in result["rows"]} == {"手机", "玩具"}
    assert {r["label_en"] for r in result["rows"]} == {"Phones", "Toys"}


@pytest.mark.parametrize("args, key", [
    ({"by": "colour"}, "analytics.bad_dimension"), ({"measure": "value"}, "explain.bad_measure"),
    ({"kind": "refunds"}, "analytics.bad_kind"), ({"after": (MARCH[1], MARCH[0])}, "search.bad_date_range"),
    ({"before": (date(2030, 1, 1), date(2030, 1, 31))}, "explain.no_base_voids")])
def test_bad_input_is_refused_with_its_reason(desk, args, key):
    call = {"kind": "voids", "before": FEB, "after": MARCH, "by": "rep", **args}
    with pytest.raises(InvalidInput) as err:
        ex.explain(desk.db, desk.analyst, **call)
    assert err.value.key == key


def test_explaining_needs_the_analytics_permission(desk):
    with pytest.raises(PermissionDenied):
        ex.explain(desk.db, desk.users["warehouse"], "voids", FEB, MARCH, by="rep")


def test_the_strongest_dimension_is_the_most_disproportionate_segment():
    def result(rows, change):
        return {"change": change, "before": {"count": 100}, "after": {"count": 130},
                "rows": [{"key": k, "contribution": c, "before": {"count": n}} for k, c, n in rows]}
    results = {"source": result([("app", 30, 100)], 30),                    # everything, as expected: explains nothing
               "warehouse": result([("SH", 24, 20), ("GZ", 6, 80)], 30),   # 80% of the change from 20% of the voids
               "rep": result([("a", 18, 50), ("b", 12, 50)], 30)}
    best = ex.strongest(results)
    assert (best["dimension"], best["row"]["key"]) == ("warehouse", "SH")
    assert best["excess"] == pytest.approx(0.6)
    assert ex.strongest({"rep": result([("a", 0, 50)], 0)}) is None
