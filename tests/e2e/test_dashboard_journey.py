"""The void dashboard in the browser: an analyst changes the period and the grain, clicks a bar or a heat-map cell,
and lands on Search with the matching filters in the URL and as many orders as the bar or cell said."""
from datetime import date, timedelta

import pytest

from lib import clock
from tests.e2e.conftest import click_plot, goto, login, matching_orders, params, settle, wait_for_params

pytestmark = pytest.mark.e2e

# The biggest mark of one trace type in a Plotly chart: its trace and point index, and its customdata.
BIGGEST = """(gd, kind) => {
  let best = null;
  gd.data.forEach((trace, i) => {
    if (trace.type !== kind) return;
    trace.customdata.forEach((data, j) => {
      const n = data[2];
      if (best === null || n > best.n) best = {trace: i, point: j, n: n, data: data};
    });
  });
  return best;
}"""


def open_dashboard(page, server) -> None:
    login(page, server, "analyst")
    goto(page, f"{server}/void-dashboard", "Void analytics")


def chart(page, key: str):
    plot = page.locator(f".st-key-{key} .js-plotly-plot")
    plot.wait_for()
    return plot


def click_centre(page, plot, box) -> None:
    click_plot(page, plot, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_trend_bar_opens_its_orders_in_search(server, page):
    open_dashboard(page, server)
    page.get_by_role("radio", name="365 days").click()
    start = clock.today() - timedelta(days=364)
    wait_for_params(page, **{"from": start.isoformat()})
    page.get_by_role("radio", name="Month", exact=True).click()
    wait_for_params(page, grain="month")
    # The URL is written before the charts are drawn: wait for the trend drawn by month (ticks once a month).
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].some(gd => gd.layout?.xaxis?.dtick === 'M1')",
                           arg=".st-key-void_trend .js-plotly-plot")
    settle(page)
    plot = chart(page, "void_trend")
    assert params(page)["from"] == [start.isoformat()] and params(page)["grain"] == ["month"]

    best = plot.evaluate(BIGGEST, "bar")
    period, reason, count = best["data"]
    assert date.fromisoformat(period).day == 1 and count > 0
    bar = plot.locator(".barlayer .trace").nth(best["trace"]).locator(".point").nth(best["point"])
    click_centre(page, plot, bar.bounding_box())

    assert matching_orders(page) == count
    found = params(page)
    assert found["void_reason"] == [reason]
    assert found["voided_from"] == [max(date.fromisoformat(period), start).isoformat()]
    month_end = (date.fromisoformat(period) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    assert found["voided_to"] == [min(month_end, clock.today()).isoformat()]


# Behind --runslow for the suite's five minutes; a heat-map cell's drill parameters are proven by the AppTest and
# analytics tests, and a trend bar drills in the browser above.
@pytest.mark.slow
def test_a_heat_map_cell_opens_that_category_and_month(server, page):
    open_dashboard(page, server)
    plot = chart(page, "void_heatmap")
    plot.scroll_into_view_if_needed()
    best = plot.evaluate(BIGGEST, "scatter")
    month, category, count = best["data"]
    # The cell's centre in page pixels, from the chart's own axes (categories are placed by index).
    box = plot.evaluate("""(gd, at) => {
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
        const x = gd.data[at.trace].x[at.point], y = gd.data[at.trace].y[at.point];
        return {x: r.left + xa._offset + xa.l2p(xa.d2l(x)), y: r.top + ya._offset + ya.l2p(ya.d2l(y)),
                width: 0, height: 0};
    }""", best)
    click_centre(page, plot, box)

    assert matching_orders(page) == count > 0
    found = params(page)
    assert found["category"] == [category]
    assert found["voided_from"][0][:7] == month[:7]
