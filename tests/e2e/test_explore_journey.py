"""Explore in the browser: a click on a point of the pivot's chart, or on a cell of its table, opens Search on the
orders behind it, with as many matching orders as the pivot counted."""
from datetime import date, timedelta

import pytest

from lib import clock
from tests.e2e.conftest import click_plot, goto, login, matching_orders, params

pytestmark = pytest.mark.e2e

# (Plotly sends numbers packed; _fullData holds them unpacked.)
# The highest point of the chart's lines: its page position (from the chart's own axes), value and series name.
HIGHEST = """gd => {
  let best = null;
  gd._fullData.forEach((trace, i) => Array.from(trace.y).forEach((y, j) => {
    if (best === null || y > best.y) best = {trace: i, point: j, y: y, name: trace.name, x: trace.x[j]};
  }));
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  best.px = r.left + xa._offset + xa.l2p(xa.d2l(best.x));
  best.py = r.top + ya._offset + ya.l2p(ya.d2l(best.y));
  return best;
}"""
# Per line: its name and the sum of its points.
TOTALS = "gd => Object.fromEntries(gd._fullData.map(t => [t.name, Array.from(t.y).reduce((a, b) => a + b, 0)]))"


def open_explore(page, server):
    login(page, server, "analyst")
    goto(page, f"{server}/explore", "Explore")
    plot = page.locator("[class*=st-key-explore_chart_] .js-plotly-plot")
    plot.wait_for()
    return plot


def test_a_point_of_the_pivot_chart_opens_its_orders(server, page):
    plot = open_explore(page, server)
    assert params(page)["measure"] == ["voids"] and params(page)["grain"] == ["week"]
    best = plot.evaluate(HIGHEST)
    assert best["y"] > 0
    click_plot(page, plot, best["px"], best["py"])

    assert matching_orders(page) == best["y"]
    found = params(page)
    monday = date.fromisoformat(str(best["x"])[:10])
    assert monday.weekday() == 0 and len(found["void_reason"]) == 1
    period_start = clock.today() - timedelta(days=89)
    assert found["voided_from"] == [max(monday, period_start).isoformat()]
    assert found["voided_to"] == [min(monday + timedelta(days=6), clock.today()).isoformat()]


# Behind --runslow for the suite's five minutes: a pivot cell's drill parameters are proven by
# tests/integration/test_explore.py, and a chart point drills in the browser above.
@pytest.mark.slow
def test_a_row_label_of_the_pivot_table_opens_that_row_over_the_whole_period(server, page):
    plot = open_explore(page, server)
    totals = plot.evaluate(TOTALS)
    grid = page.locator("[class*=st-key-explore_wide_] [data-testid=stDataFrame]")
    grid.locator("tbody tr").first.wait_for(state="attached")   # rows are filled in a moment after the run
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)   # the first row's first cell (below a 35 px header)

    count = matching_orders(page)
    biggest = max(sorted(totals), key=lambda name: totals[name])   # rows: biggest total first, ties by label
    assert count == totals[biggest] > 0
    found = params(page)
    assert found["voided_from"] == [(clock.today() - timedelta(days=89)).isoformat()]
    assert found["voided_to"] == [clock.today().isoformat()] and len(found["void_reason"]) == 1
