"""Void analytics (SPEC §8): KPIs against the previous period, spike alerts, trend, Pareto, rates, heat map,
time to void, approval turnaround; every bar opens the orders behind it in Search."""
import streamlit as st

from lib.analytics import voids
from lib.ui import analytics_views as views
from lib.ui import explain_view
from lib.ui.cached import void_dashboard
from lib.ui.analytics_panels import Kpi, dashboard_top, turnaround
from lib.ui.context import data_as_of_caption, database, lang, tr
from lib.ui.guard import signed_in_user

KPIS = (Kpi("orders", "dash.kpi.orders", help_key="dash.kpi.orders_help"),
        Kpi("voids", "dash.kpi.voids", delta_color="inverse", help_key="dash.kpi.voids_help"),
        Kpi("void_rate", "dash.kpi.void_rate", "pct", "inverse", "dash.kpi.void_rate_help"),
        Kpi("voided_value", "dash.kpi.voided_value", "money", "inverse"),
        Kpi("refunds_owed", "dash.kpi.refunds_owed", "money", "inverse", "dash.kpi.refunds_owed_help"),
        Kpi("stock_released", "dash.kpi.stock_released", delta_color="off",
            help_key="dash.kpi.stock_released_help"))

db = database()
user = signed_in_user("analytics.view")

st.title(tr("dash.void_title"))
st.caption(tr("dash.void_subtitle"))
data_as_of_caption(database())
f, grain, dash, names, colours = dashboard_top(
    db, "void", lambda f, grain: void_dashboard(db, user, f, grain, lang=lang()), KPIS, "orders", "voids")
explain_view.section(db, user, "void", f, names)

views.trend(dash.trend, f, grain, "void", "voids", names, colours)
views.pareto(dash.pareto, f, names, colours)
views.rates(dash.rates, f, "void", "orders", "voids", voids.RANKING_METHOD_KEY)
views.heatmap(dash.heatmap, f)

left, right = st.columns(2, gap="large")
with left:
    views.time_to_void(dash.time_to_void, dash.time_to_void_median_hours)
with right:
    st.markdown(f"**{tr('dash.turnaround_title')}**")
    st.caption(tr(f"dash.turnaround_note_{f.basis}"))
    turnaround(dash.approval)
