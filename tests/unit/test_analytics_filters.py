"""Analytics filters: defaults, the previous period, validation, URL round trip and the drill-down to Search."""
from dataclasses import replace
from datetime import date

import pytest

from lib.analytics.filters import MAX_DAYS, AnalyticsFilters, check_dimension, check_grain, reason_code_of
from lib.errors import InvalidInput
from lib.queries.search_filters import SearchFilters

TODAY = date(2026, 11, 29)
MARCH = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31))


def test_default_is_the_last_90_days_ending_today():
    f = AnalyticsFilters.default(TODAY)
    assert (f.date_from, f.date_to, f.basis, f.days, f.labels) == (date(2026, 9, 1), TODAY, "event", 90, "current")


def test_previous_is_the_equal_length_period_just_before():
    assert MARCH.previous() == AnalyticsFilters(date(2024, 1, 30), date(2024, 2, 29))
    one_day = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 1))
    assert one_day.previous() == AnalyticsFilters(date(2024, 2, 29), date(2024, 2, 29))
    narrowed = replace(MARCH, reasons=("other",), reps=("sales",))
    assert narrowed.previous().reasons == ("other",) and narrowed.previous().reps == ("sales",)


def test_cleaned_dedupes_trims_and_lowercases_usernames():
    f = replace(MARCH, reasons=(" other ", "other", ""), reps=("Sales", "sales"), basis=" ORDER ",
                labels=" Recorded").cleaned()
    assert (f.reasons, f.reps, f.basis, f.labels) == (("other",), ("sales",), "order", "recorded")


@pytest.mark.parametrize("bad, key", [
    (replace(MARCH, date_from=date(2024, 4, 1)), "search.bad_date_range"),
    (replace(MARCH, basis="shipping"), "analytics.bad_basis"),
    (replace(MARCH, labels="historic"), "analytics.bad_labels"),
    (replace(MARCH, date_from=date(2010, 1, 1)), "analytics.period_too_long"),
    (replace(MARCH, warehouses=tuple(f"W{i}" for i in range(201))), "search.too_many_values"),
    (replace(MARCH, reasons=("x" * 101,)), "search.text_too_long"),
    (replace(MARCH, date_to="31/03/2024"), "search.bad_date"),
])
def test_bad_filters_are_refused_with_a_clear_message(bad, key):
    with pytest.raises(InvalidInput) as info:
        bad.cleaned()
    assert info.value.key == key
    assert info.value.message("en") != key and info.value.message("zh") != key


def test_ten_years_is_allowed():
    assert AnalyticsFilters(date(2016, 12, 1), date(2026, 11, 29)).cleaned().days <= MAX_DAYS


def test_url_params_round_trip():
    f = AnalyticsFilters(date(2024, 3, 1), date(2024, 3, 31), "order", ("other", "fraud_risk"), ("phones",),
                         ("SH", "GZ"), ("sales",))
    params = f.to_params()
    assert params == {"from": "2024-03-01", "to": "2024-03-31", "basis": "order", "reason": ["other", "fraud_risk"],
                      "category": ["phones"], "warehouse": ["SH", "GZ"], "rep": ["sales"]}
    assert AnalyticsFilters.from_params(params, TODAY) == f
    assert AnalyticsFilters.from_params(MARCH.to_params(), TODAY) == MARCH


def test_reason_names_as_recorded_go_in_the_url_and_current_ones_stay_out():
    recorded = replace(MARCH, labels="recorded")
    assert recorded.to_params()["labels"] == "recorded" and "labels" not in MARCH.to_params()
    assert AnalyticsFilters.from_params(recorded.to_params(), TODAY) == recorded
    assert AnalyticsFilters.from_params({"labels": "current"}, TODAY).labels == "current"


def test_missing_params_give_the_default_period_and_comma_lists_split():
    assert AnalyticsFilters.from_params({}, TODAY) == AnalyticsFilters.default(TODAY)
    f = AnalyticsFilters.from_params({"from": "2026-11-01", "reason": "other,fraud_risk"}, TODAY)
    assert (f.date_from, f.date_to, f.reasons) == (date(2026, 11, 1), TODAY, ("other", "fraud_risk"))
    only_to = AnalyticsFilters.from_params({"to": "2025-01-31"}, TODAY)
    assert (only_to.date_from, only_to.days) == (date(2024, 11, 3), 90)


def test_bad_url_params_raise_invalid_input():
    with pytest.raises(InvalidInput):
        AnalyticsFilters.from_params({"from": "yesterday"}, TODAY)
    with pytest.raises(InvalidInput):
        AnalyticsFilters.from_params({"basis": "sideways"}, TODAY)
    with pytest.raises(InvalidInput):
        AnalyticsFilters.from_params({"labels": "both"}, TODAY)


def test_search_params_by_void_date_put_the_period_on_the_void():
    f = replace(MARCH, reasons=("other",), categories=("phones",), warehouses=("SH",), reps=("sales",))
    assert f.search_params() == {"voided_from": "2024-03-01", "voided_to": "2024-03-31", "void_reason": ["other"],
                                 "category": ["phones"], "warehouse": ["SH"], "rep": ["sales"]}


def test_search_params_by_order_date_put_the_period_on_the_order():
    f = replace(MARCH, basis="order")
    assert f.search_params("return") == {"from": "2024-03-01", "to": "2024-03-31", "returned_from": "2024-03-01"}


def test_a_clicked_bar_narrows_within_the_period():
    params = MARCH.search_params("void", reason="out_of_stock", period_start=date(2024, 2, 26),
                                 period_end="2024-03-03", sku="PHN-1", customer="Acme", rep="sales2",
                                 warehouse="GZ", category="toys")
    assert params == {"voided_from": "2024-03-01", "voided_to": "2024-03-03", "void_reason": ["out_of_stock"],
                      "category": ["toys"], "warehouse": ["GZ"], "rep": ["sales2"], "product": "PHN-1",
                      "customer": "Acme"}


@pytest.mark.parametrize("kind", ["void", "return"])
@pytest.mark.parametrize("basis", ["event", "order"])
def test_search_accepts_every_drill_down(kind, basis):
    f = replace(MARCH, basis=basis, reasons=("other",), categories=("phones",), reps=("sales",))
    search = SearchFilters.from_params(f.search_params(kind, period_start="2024-03-04", period_end="2024-03-10"))
    assert search.void_history if kind == "void" else search.return_history
    assert search.category == ["phones"] and search.rep == ["sales"]
    returned = f.search_params("return", category="toys", sku="TOY-1")
    assert (returned["returned_category"], returned["returned_product"]) == (["toys"], "TOY-1")   # what was returned


@pytest.mark.parametrize("kind", ["void", "return"])
def test_a_main_line_segment_drills_to_its_main_line_for_either_kind(kind):
    """Explain counts orders and return notes alike under the order's main line (lib.queries.main_line)."""
    f = replace(MARCH, categories=("phones",))
    params = f.search_params(kind, main_sku="TOY-1")
    assert params["main_product"] == "TOY-1" and "product" not in params and "returned_product" not in params
    params = f.search_params(kind, main_category="toys")
    assert params["main_category"] == ["toys"] and params["category"] == ["phones"]   # the filter still asks any line
    assert SearchFilters.from_params(params).main_category == ["toys"]


def test_an_as_recorded_reason_key_drills_down_by_its_code():
    f = replace(MARCH, labels="recorded")
    assert reason_code_of("out_of_stock~1F2E") == reason_code_of("out_of_stock") == "out_of_stock"
    assert f.search_params("void", reason="out_of_stock~1F2E")["void_reason"] == ["out_of_stock"]
    assert f.search_params("return", reason="quality")["return_reason"] == ["quality"]


def test_unknown_kind_or_narrowing_is_refused():
    with pytest.raises(InvalidInput):
        MARCH.search_params("refund")
    with pytest.raises(InvalidInput):
        MARCH.search_params("void", colour="red")


def test_grain_and_dimension_checks():
    assert check_grain("week") == "week" and check_dimension("sku") == "sku"
    with pytest.raises(InvalidInput):
        check_grain("year")
    with pytest.raises(InvalidInput):
        check_dimension("colour")
