"""The approvals page with several requests selected: decide them together (lib.services.voids.decide_many)."""
import hashlib
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.services import voids
from lib.ui.cached import clear_read_caches
from lib.void_checks import describe
from lib.ui.context import lang, md_escape, show_error, tr


def decide_many(db, user, chosen: pd.DataFrame) -> None:
    """What is selected, one note, and Approve N / Reject N; the outcome is shown above the queue afterwards."""
    numbers = list(chosen["order_no"])
    st.divider()
    st.subheader(tr("approvals.deciding_many", n=len(numbers)))
    left, right = st.columns(2)
    left.metric(tr("approvals.selected_total"), i18n.fmt_money(chosen["total"].sum(), lang()))
    right.metric(tr("approvals.selected_orders"), i18n.fmt_int(len(numbers), lang()))
    st.markdown(tr("approvals.selected_list", orders=md_escape(", ".join(numbers))))
    st.caption(tr("approvals.many_hint"))
    # One submission key per selection: a double click decides once; another selection is another decision.
    selection = hashlib.sha256("\n".join(sorted(numbers)).encode()).hexdigest()[:16]
    key = st.session_state.setdefault(f"decide_many_key_{selection}", uuid.uuid4().hex)
    note = st.text_input(tr("void.decision_note"), key="approval_note_many", max_chars=2000)
    approve_col, reject_col = st.columns(2)
    try:
        if approve_col.button(tr("approvals.approve_n", n=len(numbers)), type="primary", key="queue_approve_many",
                              icon=":material/done_all:"):
            _done(voids.decide_many(db, user, numbers, "approve", note or None, submission_key=key), selection)
        if reject_col.button(tr("approvals.reject_n", n=len(numbers)), key="queue_reject_many",
                             icon=":material/close:"):
            _done(voids.decide_many(db, user, numbers, "reject", note, submission_key=key + "-reject"), selection)
    except VoidDeskError as exc:
        show_error(exc)


def _done(result: dict, selection: str) -> None:
    clear_read_caches()
    st.session_state["approvals_flash"] = tr("approvals.many_done", approved=result["approved"],
                                             rejected=result["rejected"])
    st.session_state["approvals_left_open"] = [describe(r["message_key"], r["message_params"], lang())
                                               for r in result["results"] if r["outcome"] == "refused"]
    st.session_state.pop(f"decide_many_key_{selection}", None)
    st.session_state.pop("approval_note_many", None)
    st.rerun()

