"""Return analytics (SPEC §8): KPIs against the previous period, spike alerts, trend by reason, reasons,
dispositions, return rate by category and by product; bars open the orders behind them in Search."""
import streamlit as st

from lib.analytics import voids
from lib.ui import analytics_views as views
from lib.ui import explain_view
from lib.ui.cached import returns_dashboard
from lib.ui.analytics_panels import Kpi, dashboard_top
from lib.ui.context import data_as_of_caption, database, lang, tr
from lib.ui.guard import signed_in_user

KPIS = (Kpi("shipped_orders", "dash.kpi.shipped_orders", help_key="dash.kpi.shipped_orders_help"),
        Kpi("returns", "dash.kpi.returns", delta_color="inverse", help_key="dash.kpi.returns_help"),
        Kpi("return_rate", "dash.kpi.return_rate", "pct", "inverse", "dash.kpi.return_rate_help"),
        Kpi("units_returned", "dash.kpi.units_returned", delta_color="inverse"),
        Kpi("value_refunded", "dash.kpi.value_refunded", "money", "inverse",
            "dash.kpi.value_refunded_help"))

db = database()
user = signed_in_user("analytics.view")

st.title(tr("dash.returns_title"))
st.caption(tr("dash.returns_subtitle"))
data_as_of_caption(database())
f, grain, dash, names, colours = dashboard_top(
    db, "return", lambda f, grain: returns_dashboard(db, user, f, grain, lang=lang()), KPIS,
    "shipped_orders", "returns")
explain_view.section(db, user, "return", f, names)

views.trend(dash.trend, f, grain, "return", "returns", names, colours)
left, right = st.columns(2, gap="large")
with left:
    views.return_reasons(dash.reasons, f, names, colours)
with right:
    views.dispositions(dash.dispositions)

views.rates({"category": dash.rates_by_category, "sku": dash.rates_by_sku}, f, "return", "units_sold",
            "units_returned", voids.RANKING_METHOD_KEY)
