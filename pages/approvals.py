"""Void requests waiting for an operations lead: the same impact preview, then approve or reject."""
import uuid

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.queries.voids import approvals_queue, preview_void
from lib.services import voids
from lib.ui.cached import clear_read_caches
from lib.ui.context import database, lang, md_escape, show_error, tr
from lib.ui.guard import signed_in_user
from lib.ui.links import order_link
from lib.ui.approvals_many import decide_many
from lib.ui.void_ui import impact
from lib.ui.tables import show_table

db = database()
user = signed_in_user("void.approve")

st.title(tr("approvals.title"))
flash = st.session_state.pop("approvals_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
left_open = st.session_state.pop("approvals_left_open", None)
if left_open:
    st.warning("\n".join([tr("approvals.many_left_open", n=len(left_open))] + [f"- {md_escape(m)}" for m in left_open]),
               icon=":material/pending_actions:")
if flash or left_open:
    # The decided request has left the queue and the rows below it moved up: start with nothing selected
    # rather than showing (and letting a second click decide) whichever request took its row.
    st.session_state["queue"] = {"selection": {"rows": [], "columns": [], "cells": []}}

queue = approvals_queue(db, user, lang())
if queue.empty:
    st.info(tr("approvals.empty"), icon=":material/task_alt:")
    st.stop()

# A selection is a list of row positions. When the queue changed since it was shown (another lead decided a
# request, a new one came in), those positions point at other requests: start again with nothing selected.
listed = tuple(queue["order_no"])
if st.session_state.get("queue_listed") not in (None, listed):
    if (st.session_state.get("queue") or {}).get("selection", {}).get("rows"):
        st.info(tr("approvals.queue_changed"), icon=":material/sync:")
    st.session_state["queue"] = {"selection": {"rows": [], "columns": [], "cells": []}}
st.session_state["queue_listed"] = listed

st.caption(tr("approvals.count", n=i18n.fmt_int(len(queue), lang())))
shown = queue.copy()
shown["note"] = shown["note"].fillna("")
if "approval_reason" in shown:
    shown["approval_reason"] = shown["approval_reason"].map(lambda r: tr(f"approval_reason.{r}") if r else "")
event = show_table(
    shown, hide_index=True, width="stretch", key="queue", on_select="rerun", selection_mode="multi-row",
    column_config={"order_no": tr("col.order_no"), "customer": tr("col.customer"),
                   "total": st.column_config.NumberColumn(tr("col.total"), format="%.2f"),
                   "reason_label": tr("col.reason"), "note": tr("approvals.note"),
                   "requested_by": tr("approvals.requested_by"),
                   "requested_at": st.column_config.DatetimeColumn(tr("approvals.requested_at"),
                                                                   format="YYYY-MM-DD HH:mm"),
                   "approval_reason": tr("approvals.why"), "age": tr("approvals.age")})

rows = [r for r in (event.selection.rows if event and event.selection else []) if r < len(queue)]
if not rows:
    st.caption(tr("approvals.pick"))
    st.stop()
if len(rows) > 1:
    decide_many(db, user, queue.iloc[rows])
    st.stop()

order_no = queue.iloc[rows[0]]["order_no"]
st.divider()
st.subheader(tr("approvals.deciding", order_no=md_escape(order_no)))
order_link(order_no)
try:
    impact(preview_void(db, user, order_no, lang=lang()))
except VoidDeskError as exc:
    show_error(exc)
    st.stop()

key = st.session_state.setdefault(f"decide_key_{order_no}", uuid.uuid4().hex)
note = st.text_input(tr("void.decision_note"), key=f"approval_note_{order_no}", max_chars=2000)
approve_col, reject_col = st.columns(2)
try:
    if approve_col.button(tr("void.approve"), type="primary", key="queue_approve", icon=":material/check:"):
        voids.approve(db, user, order_no, note or None, submission_key=key)
        clear_read_caches()
        st.session_state["approvals_flash"] = tr("void.approved", order_no=md_escape(order_no))
        st.session_state.pop(f"decide_key_{order_no}", None)
        st.rerun()
    if reject_col.button(tr("void.reject"), key="queue_reject", icon=":material/close:"):
        voids.reject(db, user, order_no, note, submission_key=key + "-reject")
        clear_read_caches()
        st.session_state["approvals_flash"] = tr("void.rejected", order_no=md_escape(order_no))
        st.session_state.pop(f"decide_key_{order_no}", None)
        st.rerun()
except VoidDeskError as exc:
    show_error(exc)
