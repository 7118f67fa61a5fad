"""One order: header, lines with stock, the actions the user may take, and one timeline."""
import streamlit as st

from lib import i18n
from lib.domain import can
from lib.errors import ConcurrentChange, NotFound, VoidDeskError
from lib.queries.orders import get_order, timeline
from lib.ui import order_actions
from lib.ui.badges import payment_badge, status_badge
from lib.ui.guard import signed_in_user
from lib.ui.context import database, label, lang, show_error, tr

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

head, badges = st.columns([3, 2], vertical_alignment="bottom")
head.title(tr("order.title", order_no=order["order_no"]))
with badges:
    row = st.container(horizontal=True)
    status_badge(order["status"], row)
    payment_badge(order["payment_status"], row)
    if order.get("pending_void"):
        row.badge(tr("order.void_pending_badge"), color="orange", icon=":material/hourglass_top:")

money = lambda v: i18n.fmt_money(v, lang())  # noqa: E731
cols = st.columns(4)
cols[0].metric(tr("col.customer"), order["customer_name"] or "–", border=True)
cols[1].metric(tr("col.total"), money(order["total"]), border=True)
cols[2].metric(tr("order.paid"), money(order["amount_paid"]), border=True)
cols[3].metric(tr("order.refunded"), money(order["amount_refunded"]), border=True)

facts = st.columns(4)
facts[0].caption(f"{tr('col.rep')}: {order.get('rep_name') or '–'}")
facts[1].caption(f"{tr('col.assignee')}: {order.get('assignee_name') or '–'}")
facts[2].caption(f"{tr('col.warehouse')}: {order['warehouse']}")
facts[3].caption(f"{tr('col.created')}: {i18n.fmt_datetime(order['created_at'], lang())}")

st.subheader(tr("order.lines"))
st.dataframe(order_actions.lines_frame(order), hide_index=True, width="stretch",
             column_config=order_actions.lines_columns())

actions_col, timeline_col = st.columns([2, 3], gap="large")
with actions_col:
    st.subheader(tr("order.actions"))
    try:
        order_actions.render(db, user, order)
    except ConcurrentChange as exc:
        st.session_state["order_flash"] = ("warn", exc.message(lang()))
        st.rerun()
    except VoidDeskError as exc:
        show_error(exc)

with timeline_col:
    st.subheader(tr("order.timeline"))
    for event in timeline(db, user, order["id"], lang()):
        with st.container(border=True):
            st.caption(f"{i18n.fmt_datetime(event['at'], lang())} · {event['actor']}")
            st.markdown(f"**{order_actions.event_summary(event)}**")
            if event.get("note"):
                st.text(event["note"])  # user text: shown as text, never as markdown or HTML
