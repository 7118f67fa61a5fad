"""One order: header, lines with stock, the actions the user may take, and one timeline."""
import streamlit as st

from lib import i18n
from lib.errors import NotFound
from lib.queries.orders import get_order, timeline
from lib.ui import order_actions
from lib.ui.badges import payment_badge, status_badge
from lib.ui.guard import signed_in_user
from lib.ui.context import database, lang, md_escape, show_error, tr
from lib.ui.tables import show_table

db = database()
user = signed_in_user("order.view")

order_no = st.query_params.get("no", "").strip()
if not order_no:
    st.title(tr("order.title_empty"))
    typed = st.text_input(tr("order.enter_number"), placeholder="SO-20261123-00001")
    if typed:
        st.query_params["no"] = typed.strip()
        st.rerun()
    st.stop()

try:
    order = get_order(db, user, order_no)
except NotFound as exc:
    show_error(exc)
    st.stop()

flash = st.session_state.pop("order_flash", None)
if flash:
    kind, text = flash
    (st.success if kind == "ok" else st.warning)(text)

st.title(tr("order.title", order_no=md_escape(order["order_no"])))
row = st.container(horizontal=True)
status_badge(order["status"], row)
payment_badge(order["payment_status"], row)
if order.get("pending_void"):
    row.badge(tr("order.void_pending_badge"), color="orange", icon=":material/hourglass_top:")

money = lambda v: i18n.fmt_money(v, lang())  # noqa: E731
customer, total, paid, refunded = st.columns([2, 1, 1, 1])
# An imported customer code is any text: escaped, not put in a code span (a backquote in it would end the span).
customer.markdown(f"**{tr('col.customer')}**  \n{md_escape(order['customer_name'] or '–')} · "
                  f"{md_escape(order['customer_code'])}")
total.metric(tr("col.total"), money(order["total"]))
paid.metric(tr("order.paid"), money(order["amount_paid"]))
refunded.metric(tr("order.refunded"), money(order["amount_refunded"]))
st.caption(" · ".join([
    f"{tr('col.rep')}: {md_escape(order.get('rep_name') or '–')}",
    f"{tr('col.assignee')}: {md_escape(order.get('assignee_name') or '–')}",
    f"{tr('col.warehouse')}: {md_escape(order['warehouse'])}",
    f"{tr('col.created')}: {i18n.fmt_datetime(order['created_at'], lang())}"]))

st.subheader(tr("order.lines"))
show_table(order_actions.lines_frame(order), hide_index=True, width="stretch",
           column_config=order_actions.lines_columns())

actions_col, timeline_col = st.columns([2, 3], gap="large")
with actions_col:
    st.subheader(tr("order.actions"))
    order_actions.panel(db, user, order)

with timeline_col:
    st.subheader(tr("order.timeline"))
    with st.container(height=640, border=False):
        for event in timeline(db, user, order["id"], lang()):
            st.markdown(f"**{order_actions.event_summary(event)}**  \n"
                        f":gray[{i18n.fmt_datetime(event['at'], lang())} · {md_escape(event['actor'])}]")
            if event.get("note"):
                st.text(event["note"])  # user text: shown as text, never as markdown or HTML
            st.divider()
