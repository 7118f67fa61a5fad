"""Home: the figures that say where today's work is, for the signed-in user."""
import streamlit as st

from lib import charts, i18n
from lib.domain import can
from lib.queries import home
from lib.ui.guard import signed_in_user
from lib.ui.context import database, lang, md_escape, tr
from lib.ui.tables import show_table

db = database()
user = signed_in_user()

st.title(tr("home.title", name=md_escape(user.display_name)))
st.caption(tr("home.subtitle"))

if home.database_is_empty(db):
    st.info(tr("home.empty_db"), icon=":material/database:")
    st.stop()

f = home.home_figures(db, user)
fmt = lambda n: i18n.fmt_int(n, lang())  # noqa: E731

cols = st.columns(4)
cols[0].metric(tr("home.open_orders"), fmt(f["open_orders"]), border=True,
               help=tr("home.open_orders_help", scope=tr("home.scope_own") if user.is_sales else ""))
cols[1].metric(tr("home.voids_week"), fmt(f["voids_this_week"]),
               delta=f["voids_this_week"] - f["voids_last_week"], delta_color="inverse",
               delta_description=tr("home.vs_last_week", n=fmt(f["voids_last_week"])),
               border=True, help=tr("home.voids_week_help"))
cols[2].metric(tr("home.pending_approvals"), fmt(f["pending_approvals"]), border=True,
               help=tr("home.pending_approvals_help"))
cols[3].metric(tr("home.unread"), fmt(f["unread"]), border=True, help=tr("home.unread_help"))

def link(col, key: str, **params) -> None:
    col.page_link("pages/search.py", label=tr(key), icon=":material/arrow_forward:", query_params=params)


link(cols[0], "home.see_open", status=["pending", "processing"])
link(cols[1], "home.see_voided", status=["voided"], sort="created_at:desc")
if can(user, "void.approve"):
    cols[2].page_link("pages/approvals.py", label=tr("home.see_approvals"), icon=":material/arrow_forward:")
cols[3].page_link("pages/inbox.py", label=tr("home.see_inbox"), icon=":material/arrow_forward:")

cols = st.columns(4)
cols[0].metric(tr("home.assigned_to_me"), fmt(f["assigned_to_me"]), border=True)
cols[1].metric(tr("home.void_rate"), i18n.fmt_pct(f["void_rate_30d"], lang()), border=True,
               help=tr("home.void_rate_help"))
cols[2].metric(tr("home.low_stock"), fmt(f["low_stock"]), border=True,
               help=tr("home.low_stock_help", n=f["low_stock_level"]))
link(cols[0], "home.see_assigned", assignee=[user.username], status=["pending", "processing"])
if can(user, "stock.view"):
    cols[2].page_link("pages/stock.py", label=tr("home.see_low_stock"), icon=":material/arrow_forward:",
                      query_params={"low": "1"})

left, right = st.columns([3, 2])
with left:
    trend = home.weekly_voids_by_reason(db, user, lang())
    by_code = charts.reason_colours(trend["code"])   # the same colour per reason as on the dashboards
    fig = charts.stacked_weekly_bars(trend, "week", "voids", "reason", title=tr("home.trend_title"),
                                     x_label=tr("col.week"), y_label=tr("col.count"), order_by="sort_order",
                                     colours={r: by_code[c] for r, c in zip(trend["reason"], trend["code"])})
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False})
with right:
    st.subheader(tr("home.recent_voids"))
    recent = home.recent_voids(db, user, lang())
    if recent.empty:
        st.caption(tr("home.no_voids"))
    else:
        recent["total"] = recent["total"].map(lambda v: i18n.fmt_money(v, lang()))
        recent["applied_at"] = recent["applied_at"].map(lambda v: i18n.fmt_datetime(v, lang()))
        show_table(recent, hide_index=True, width="stretch", column_config={
            "order_no": tr("col.order_no"), "customer": tr("col.customer"), "reason": tr("col.reason"),
            "total": tr("col.total"), "applied_at": tr("col.voided_at"), "by_user": tr("col.by")})
