"""The void and returns dashboards through AppTest: who may open them, KPIs against an independent SQL count in
both languages, the period and grain taken from the URL, and a bad URL value explained instead of raised."""
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import clock, i18n
from lib.db import open_database
from lib.services import auth
from lib.ui.context import md_escape
from lib.ui.nav import visible_pages
from tests.app.conftest import APP

VOID, RETURNS = "pages/void_dashboard.py", "pages/returns_dashboard.py"
_tokens: dict[tuple[str, str], str] = {}


def _login(path, username: str) -> str:
    key = (str(path), username)
    if key not in _tokens:
        _tokens[key] = auth.login(open_database(str(path)), username, "demo1234")[1]
    return _tokens[key]


def open_as(app, path, username: str, page: str, language: str = "en", **params):
    """Sign `username` in by session token and open `page` with `params` as URL query parameters."""
    app.session_state["token"] = _login(path, username)
    app.run()
    app.session_state["lang"] = language     # remembered per user in the shared database: set it each time
    app.query_params.update(params)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def scalar(path, sql: str, params=()):
    with open_database(str(path)).read() as cur:
        return cur.execute(sql, list(params)).fetchall()[0][0]


def metric(app, key: str, language: str = "en") -> str:
    label = i18n.t(key, language)
    return next(m.value for m in app.metric if m.label == label)


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def bounds(start: date, end: date) -> list[datetime]:
    midnight = datetime.min.time()
    return [datetime.combine(start, midnight), datetime.combine(end + timedelta(days=1), midnight)]


def default_period() -> list[datetime]:
    return bounds(clock.today() - timedelta(days=89), clock.today())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_analyst_sees_the_void_kpis_counted_as_sql_counts_them(app, demo_db_path, language):
    open_as(app, demo_db_path, "analyst", VOID, language)
    voids = scalar(demo_db_path, "SELECT count(*) FROM voids WHERE status = 'applied'"
                                 " AND applied_at >= ? AND applied_at < ?", default_period())
    orders = scalar(demo_db_path, "SELECT count(*) FROM orders WHERE created_at >= ? AND created_at < ?",
                    default_period())
    assert voids > 0
    assert as_int(metric(app, "dash.kpi.voids", language)) == voids
    assert as_int(metric(app, "dash.kpi.orders", language)) == orders
    assert metric(app, "dash.kpi.void_rate", language) == i18n.fmt_pct(voids / orders, language, 2)
    assert app.title[0].value == i18n.t("dash.void_title", language)
    assert len(app.get("plotly_chart")) >= 5
    assert not app.error


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_analyst_sees_the_returns_kpis_counted_as_sql_counts_them(app, demo_db_path, language):
    open_as(app, demo_db_path, "analyst", RETURNS, language)
    returns = scalar(demo_db_path, "SELECT count(*) FROM return_notes WHERE created_at >= ? AND created_at < ?",
                     default_period())
    assert returns > 0
    assert as_int(metric(app, "dash.kpi.returns", language)) == returns
    assert app.title[0].value == i18n.t("dash.returns_title", language)
    assert len(app.get("plotly_chart")) >= 3
    assert not app.error


def test_a_lead_may_open_both_dashboards(app, demo_db_path):
    for page in (VOID, RETURNS):
        open_as(app, demo_db_path, "lead", page)
        assert app.metric and not app.error


def page_alone(path, username: str, page: str) -> AppTest:
    """The page file run on its own, as Streamlit may serve it without app.py's navigation in front."""
    at = AppTest.from_file(str(Path(APP).parent / page), default_timeout=60)
    at.session_state["token"] = _login(path, username)
    at.session_state["lang"] = "en"
    return at.run()


@pytest.mark.parametrize("page", [VOID, RETURNS])
def test_ops_cannot_open_the_dashboards(app, demo_db_path, page):
    ops = auth.resume(open_database(str(demo_db_path)), _login(demo_db_path, "ops"))
    assert page not in [p.path for p in visible_pages(ops)]
    alone = page_alone(demo_db_path, "ops", page)
    assert not alone.exception
    assert alone.error and not alone.metric and not alone.get("plotly_chart")


def test_the_period_and_grain_come_from_the_url(app, demo_db_path):
    start, end = clock.today() - timedelta(days=200), clock.today() - timedelta(days=30)
    open_as(app, demo_db_path, "analyst", VOID, **{"from": start.isoformat(), "to": end.isoformat(),
                                                    "grain": "month", "basis": "order"})
    assert app.date_input(key="af_from").value == start
    assert app.date_input(key="af_to").value == end
    assert app.segmented_control(key="af_grain").value == "month"
    assert app.segmented_control(key="af_basis").value == "order"
    expected = scalar(demo_db_path, "SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                                    " WHERE v.status = 'applied' AND o.created_at >= ? AND o.created_at < ?",
                      bounds(start, end))
    assert as_int(metric(app, "dash.kpi.voids")) == expected
    assert app.query_params["from"] == start.isoformat() and app.query_params["grain"] == "month"


def test_a_reason_from_the_url_narrows_every_figure(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", VOID, reason="out_of_stock")
    expected = scalar(demo_db_path, "SELECT count(*) FROM voids WHERE status = 'applied' AND reason_code = ?"
                                    " AND applied_at >= ? AND applied_at < ?", ["out_of_stock"] + default_period())
    assert app.multiselect(key="af_reasons").value == ["out_of_stock"]
    assert as_int(metric(app, "dash.kpi.voids")) == expected > 0


@pytest.mark.parametrize("page, language", [(VOID, "zh"), (RETURNS, "en")])
def test_reason_names_as_recorded_come_from_the_url_and_show_the_switch_selected(app, demo_db_path, page, language):
    open_as(app, demo_db_path, "analyst", page, language, labels="recorded")
    switch = app.segmented_control(key="af_labels")
    assert (switch.value, switch.label) == ("recorded", i18n.t("dash.labels", language))
    assert i18n.t("dash.labels_note", language) in [c.value for c in app.caption]
    assert app.query_params["labels"] == "recorded"
    assert app.metric and len(app.get("plotly_chart")) >= 3 and not app.error
    assert not [w for w in app.warning if i18n.t("dash.url_fallback", language) in w.value]


def test_switching_back_to_current_names_leaves_the_url(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", VOID, labels="recorded")
    # the seeded spike is named as recorded, not by its internal key
    assert any(w.value.startswith("**Out of stock**") for w in app.warning)
    app.segmented_control(key="af_labels").set_value("current").run()
    assert not app.exception and "labels" not in app.query_params
    assert any(w.value.startswith("**Out of stock**") for w in app.warning)


def test_a_bad_reason_names_value_in_the_url_is_explained(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", VOID, labels="sometimes")
    assert "sometimes" in " ".join(w.value for w in app.warning)
    assert app.segmented_control(key="af_labels").value == "current" and app.metric


def test_changing_the_period_in_the_widgets_updates_the_kpis_and_the_url(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", VOID)
    start = clock.today() - timedelta(days=29)
    app.pills(key="af_quick").set_value(30).run()
    assert not app.exception
    assert app.date_input(key="af_from").value == start
    expected = scalar(demo_db_path, "SELECT count(*) FROM voids WHERE status = 'applied'"
                                    " AND applied_at >= ? AND applied_at < ?", bounds(start, clock.today()))
    assert as_int(metric(app, "dash.kpi.voids")) == expected
    assert app.query_params["from"] == start.isoformat()


@pytest.mark.parametrize("params, words", [
    ({"from": "2026-13-45"}, "from"),
    ({"grain": "fortnight"}, "fortnight"),
    ({"basis": "moon"}, "moon"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "2026-05-01"),
])
def test_a_bad_url_value_is_explained_and_the_defaults_are_shown(app, demo_db_path, params, words):
    open_as(app, demo_db_path, "analyst", VOID, **params)
    message = " ".join(w.value for w in app.warning)
    assert md_escape(words) in message and i18n.t("dash.url_fallback") in message   # the URL's value as text
    assert app.date_input(key="af_from").value == clock.today() - timedelta(days=89)
    assert app.metric and not app.error


def test_an_empty_period_shows_a_friendly_note(app, demo_db_path):
    open_as(app, demo_db_path, "analyst", RETURNS, **{"from": "2001-01-01", "to": "2001-03-31"})
    assert [i.value for i in app.info] == [i18n.t("dash.empty_period")]
    assert not app.get("plotly_chart") and not app.error


def test_the_period_follows_the_user_to_the_other_dashboard_but_the_reasons_do_not(app, demo_db_path):
    start = clock.today() - timedelta(days=150)
    open_as(app, demo_db_path, "analyst", VOID, **{"from": start.isoformat()}, reason="out_of_stock")
    for name in list(app.query_params):
        del app.query_params[name]   # as the sidebar navigation does
    app.switch_page(RETURNS).run()
    assert not app.exception
    assert app.date_input(key="af_from").value == start
    assert app.multiselect(key="af_reasons").value == []
    assert app.query_params["from"] == start.isoformat() and "reason" not in app.query_params


@pytest.mark.parametrize("start, grain, end", [
    (date(2026, 3, 9), "day", date(2026, 3, 9)), (date(2026, 3, 9), "week", date(2026, 3, 15)),
    (date(2026, 2, 1), "month", date(2026, 2, 28)), (date(2025, 12, 1), "month", date(2025, 12, 31)),
])
def test_a_clicked_period_ends_where_its_bar_ends(start, grain, end):
    from lib.analytics.filters import period_end

    assert period_end(start, grain) == end


def test_every_trend_bar_carries_its_period_reason_and_count_for_the_drill_down():
    import pandas as pd

    from lib.charts import reason_colours, stacked_trend

    df = pd.DataFrame({"period": pd.to_datetime(["2026-03-02", "2026-03-02", "2026-03-09"]),
                       "reason_code": ["out_of_stock", "other", "other"], "voids": [5, 2, 7], "value": [1.0, 2.0, 3.0]})
    fig = stacked_trend(df, "voids", {"other": "<b>x</b>"}, reason_colours(["out_of_stock", "other"]), "week", "en",
                        title="t")
    marks = sorted(tuple(d) for trace in fig.data for d in trace.customdata)
    assert marks == [("2026-03-02", "other", 2), ("2026-03-02", "out_of_stock", 5), ("2026-03-09", "other", 7)]
    assert {trace.name for trace in fig.data} == {"&lt;b&gt;x&lt;/b&gt;", "out_of_stock"}  # data text stays text
