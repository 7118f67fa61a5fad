"""The order page's void controls: void (dialog with impact preview and a second confirmation),
decide a pending request, restore a voided order.

The Void button comes from a one-query eligibility check; the impact preview runs only inside the dialog
(issue #13), which opens from a session_state flag (lib.ui.flag_dialog)."""
import uuid
from functools import partial

import streamlit as st

from lib import i18n
from lib.domain import can, refusal
from lib.errors import ConcurrentChange, VoidDeskError
from lib.queries.void_eligibility import void_eligibility
from lib.queries.voids import active_reasons, preview_void
from lib.services import voids
from lib.ui.cached import clear_read_caches
from lib.ui.context import lang, md_escape, message_md, show_error, tr
from lib.ui.flag_dialog import forget_dialog, go_to_step, open_dialog
from lib.ui.void_ui import impact, reason_picker, refusal_text

DIALOG_FLAG = "void_dialog"


def render(db, user, order: dict) -> None:
    """Void, approve/reject or restore, as the order's state and the user's role allow."""
    if order["status"] == "voided":
        _restore(db, user, order)
    elif order.get("pending_void"):
        _decide(db, user, order)
    else:
        _void_button(db, user, order)
    if st.session_state.get(DIALOG_FLAG) == order["order_no"]:
        _void_dialog(db, user, order)


def _void_button(db, user, order: dict) -> None:
    verdict = void_eligibility(db, user, order["order_no"])
    why = refusal_text(verdict, md_escape)
    label = tr("void.request_button") if verdict["needs_approval"] else tr("void.button")
    st.button(label, type="secondary", disabled=why is not None, help=why, icon=":material/block:",
              key="void_open", on_click=open_dialog, args=("void", order["order_no"]))
    if why and order["status"] == "shipped":
        st.caption(tr("void.use_return"))


@st.dialog(" ", width="large", on_dismiss=partial(forget_dialog, "void"))  # × or Esc
def _void_dialog(db, user, order: dict) -> None:
    st.subheader(tr("void.dialog_title", order_no=md_escape(order["order_no"])))
    reasons = active_reasons(db, "void", lang())
    code, note = reason_picker(reasons, "void_dialog")
    preview = preview_void(db, user, order["order_no"], code, lang=lang())
    impact(preview)
    step = st.session_state.get("void_step", 1)
    if step == 1:
        cols = st.columns(2)
        cols[0].button(tr("void.review"), type="primary", disabled=not code, key="void_review",
                       on_click=go_to_step, args=("void", 2))
        if cols[1].button(tr("common.cancel"), key="void_cancel"):
            _close_dialog()
        return
    # A request changes nothing until a lead approves it: it is confirmed in words that say so.
    st.error(tr("void.confirm_text_request" if preview.get("needs_approval") else "void.confirm_text",
                order_no=md_escape(order["order_no"]), refund=i18n.fmt_money(preview.get("refund") or 0, lang())),
             icon=":material/warning:")
    cols = st.columns(2)
    if cols[0].button(tr("void.confirm_request") if preview.get("needs_approval") else tr("void.confirm"),
                      type="primary", key="void_confirm"):
        try:
            result = voids.void_order(db, user, order["order_no"], code, note or None,
                                      expected_version=order["version"], submission_key=st.session_state["void_key"])
            _close_dialog(_outcome_text(result))
        except ConcurrentChange as exc:
            _close_dialog(message_md(exc), kind="warn")
        except VoidDeskError as exc:
            show_error(exc)
    cols[1].button(tr("common.back"), key="void_back", on_click=go_to_step, args=("void", 1))


def _outcome_text(result: dict) -> str:
    if result["outcome"] == "pending_approval":
        return tr("void.done_pending", order_no=md_escape(result["order_no"]))
    return tr("void.done", order_no=md_escape(result["order_no"]),
              refund=i18n.fmt_money(result.get("refund") or 0, lang()))


def _close_dialog(message: str | None = None, kind: str = "ok") -> None:
    forget_dialog("void")
    if message:
        st.session_state["order_flash"] = (kind, message)
    clear_read_caches()
    st.rerun()


def _decide(db, user, order: dict) -> None:
    request = order["pending_void"]
    reason = request.get("reason_label_zh" if lang() == "zh" else "reason_label_en") or request["reason_code"]
    st.info(tr("void.pending_info", reason=md_escape(reason), by=md_escape(request.get("requested_by_name") or "–")),
            icon=":material/hourglass_top:")
    if request.get("note"):
        st.text(request["note"])
    denied = refusal(user, "void.approve")
    why = message_md(denied) if denied else None
    note = st.text_input(tr("void.decision_note"), key="decision_note", disabled=why is not None, max_chars=2000)
    cols = st.columns(2)
    key = st.session_state.setdefault(f"decide_key_{order['order_no']}", uuid.uuid4().hex)
    try:
        if cols[0].button(tr("void.approve"), type="primary", disabled=why is not None, help=why, key="approve"):
            voids.approve(db, user, order["order_no"], note or None, submission_key=key)
            _after_decision(order, tr("void.approved", order_no=md_escape(order["order_no"])))
        if cols[1].button(tr("void.reject"), disabled=why is not None, help=why, key="reject"):
            voids.reject(db, user, order["order_no"], note, submission_key=key + "-reject")
            _after_decision(order, tr("void.rejected", order_no=md_escape(order["order_no"])))
    except ConcurrentChange:
        raise
    except VoidDeskError as exc:
        show_error(exc)


def _after_decision(order: dict, message: str) -> None:
    st.session_state.pop(f"decide_key_{order['order_no']}", None)
    st.session_state["order_flash"] = ("ok", message)
    clear_read_caches()
    st.rerun()


def _restore(db, user, order: dict) -> None:
    denied = refusal(user, "void.restore")
    why = message_md(denied) if denied else None
    with st.expander(tr("void.restore_title"), icon=":material/undo:", expanded=False):
        st.caption(tr("void.restore_help"))
        note = st.text_input(tr("void.restore_note"), key="restore_note", disabled=why is not None, max_chars=2000)
        key = st.session_state.setdefault(f"restore_key_{order['order_no']}", uuid.uuid4().hex)
        if st.button(tr("void.restore"), disabled=why is not None or not can(user, "void.restore"), help=why,
                     icon=":material/undo:", key="restore"):
            try:
                voids.restore(db, user, order["order_no"], note, submission_key=key)
                _after_decision(order, tr("void.restored", order_no=md_escape(order["order_no"])))
            except ConcurrentChange:
                raise
            except VoidDeskError as exc:
                show_error(exc)
