"""Explain a spike in the browser (issue #17): an analyst opens a spike alert's explanation, and its biggest step
opens exactly the orders of that segment it counted, of the spike week, in Search."""
import pytest

from tests.e2e.conftest import click_plot, goto, login, matching_orders, params, settle

pytestmark = pytest.mark.e2e


def test_a_spikes_top_contributor_opens_its_orders(server, page):
    login(page, server, "analyst")
    goto(page, f"{server}/void-dashboard", "Void analytics")
    page.get_by_role("button", name="Explain", exact=True).first.click()
    banner = page.get_by_text("Explaining the spike of")
    banner.wait_for()
    plot = page.locator(".st-key-void_explain_category .js-plotly-plot")
    plot.wait_for()
    settle(page)
    week = banner.inner_text().split("week of ")[1].split(" ")[0]
    # the steps are ranked by |contribution|: the first after "Before" is the top contributor
    top = plot.evaluate("gd => ({data: gd.data[1].customdata[1]})")["data"]
    what, category, count = top
    assert what == "row" and count > 0
    bar = plot.locator(".barlayer .trace").nth(1).locator(".point").nth(1)
    plot.scroll_into_view_if_needed()
    box = bar.bounding_box()
    click_plot(page, plot, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    # Search lists exactly the orders counted: each under its main line, so by main category (one void per order)
    assert matching_orders(page) == count
    found = params(page)
    assert found["main_category"] == [category] and found["void_reason"] == ["out_of_stock"]
    assert found["voided_from"] == [week]
