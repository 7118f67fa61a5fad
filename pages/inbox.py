"""Notifications inbox: newest first, each linking to its order or return; mark read or all read."""
import streamlit as st

from lib import i18n
from lib.domain import can
from lib.queries.catalog import reason_labels
from lib.queries.notifications import inbox
from lib.services.inbox import mark_all_read, mark_read
from lib.ui.context import database, lang, md_escape, tr
from lib.ui.guard import signed_in_user
from lib.ui.links import order_link, refund_link, return_link

# A notification about a refund opens that refund, in the list of its status.
REFUND_STATUS = {"refund.created": "pending", "refund.cancelled": "cancelled", "refund.paid": "paid"}

db = database()
user = signed_in_user()

st.title(tr("inbox.title"))
top = st.columns([2, 1], vertical_alignment="bottom")
unread_only = top[0].toggle(tr("inbox.unread_only"), key="inbox_unread_only")
if top[1].button(tr("inbox.mark_all"), icon=":material/done_all:", key="inbox_all"):
    mark_all_read(db, user)
    st.rerun()

items = inbox(db, user, unread_only=unread_only, limit=200)
reasons = reason_labels(db, lang())
if not items:
    st.info(tr("inbox.empty"), icon=":material/notifications_off:")
    st.stop()

for item in items:
    with st.container(border=True):
        text, actions = st.columns([4, 2], vertical_alignment="center")
        params = i18n.in_language(dict(item["params"] or {}), lang())
        if "reason" in params:  # stored as a code; shown as the reason's words
            kind = "return" if item["kind"].startswith("return") else "void"
            params["reason"] = reasons.get((kind, params["reason"]), params["reason"])
        if "amount" in params:
            params["amount"] = i18n.fmt_money(params["amount"], lang())
        params = {k: md_escape(v) for k, v in params.items()}
        weight = "**" if item["read_at"] is None else ""
        text.markdown(f"{weight}{i18n.t('notification.' + item['kind'], lang(), **params)}{weight}  \n"
                      f":gray[{i18n.fmt_datetime(item['created_at'], lang())}]")
        with actions:
            if item["kind"] in REFUND_STATUS and item.get("order_no") and can(user, "refund.view"):
                refund_link(item["order_no"], REFUND_STATUS[item["kind"]], key="inbox.open_refund")
            # The message names the order or return in full; the link says what it opens, so no number is ever
            # cut short in a narrow column (…0002 of …00028 reads as another order).
            elif item.get("return_no"):
                return_link(item["return_no"], key="inbox.open_return")
            elif item.get("order_no"):
                order_link(item["order_no"], key="inbox.open_order")
            if item["read_at"] is None and st.button(tr("inbox.mark_read"), key=f"read_{item['id']}",
                                                     icon=":material/done:"):
                mark_read(db, user, [item["id"]])
                st.rerun()
