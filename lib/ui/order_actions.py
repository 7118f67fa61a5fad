"""The order page's pieces: lines table, the action panel by role and status, timeline wording."""
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.domain import refusal
from lib.errors import ConcurrentChange, VoidDeskError
from lib.queries import catalog
from lib.services import collab, orders
from lib.ui import return_actions, void_actions
from lib.ui.cached import clear_read_caches
from lib.ui.context import label, lang, md_escape, message_md, show_error, tr

NEXT_STEP = {"pending": "processing", "processing": "shipped", "shipped": "completed"}


def lines_frame(order: dict) -> pd.DataFrame:
    df = pd.DataFrame(order["lines"])
    if df.empty:
        return df
    return df[["line_no", "sku", "product_name", "qty", "unit_price", "amount", "qty_shipped", "qty_returned",
               "available"]]


def lines_columns() -> dict:
    money = st.column_config.NumberColumn
    return {"line_no": st.column_config.NumberColumn("#", width="small"), "sku": tr("col.sku"),
            "product_name": tr("col.product"), "qty": tr("col.qty"),
            "unit_price": money(tr("col.unit_price"), format="%.2f"), "amount": money(tr("col.amount"), format="%.2f"),
            "qty_shipped": tr("col.qty_shipped"), "qty_returned": tr("col.qty_returned"),
            "available": st.column_config.NumberColumn(tr("col.available_now"), help=tr("order.available_help"))}


def event_summary(event: dict) -> str:
    """The event's sentence in the user's language, with every parameter made inert for markdown."""
    params = {}
    for key, value in (event.get("params") or {}).items():
        if isinstance(value, str) and "." in value and value in i18n.catalogue(lang()):
            value = tr(value)
        params[key] = md_escape(value)
    return i18n.t(event["summary_key"], lang(), **params)


def _flash(text: str) -> None:
    st.session_state["order_flash"] = ("ok", text)
    clear_read_caches()
    st.rerun()


def _reason_disabled(user, order: dict, action: str, allowed_statuses: tuple[str, ...]) -> str | None:
    """Why an action can't be used now (role or status), or None when it can (a help tooltip: Markdown)."""
    denied = refusal(user, action)
    if denied is not None:
        return message_md(denied)
    if order["status"] not in allowed_statuses:
        return tr("order.not_in_status", status=label("status", order["status"]))
    return None


@st.fragment
def panel(db, user, order: dict) -> None:
    """The action panel as a fragment (issue #13): a click that writes nothing (open a dialog, type a note)
    reruns only this panel, with the order as the page last showed it. Every write ends in _flash or a
    dialog's close, an app-scoped st.rerun(), so the header and the timeline show the new state."""
    try:
        render(db, user, order)
    except ConcurrentChange as exc:   # caught here: a fragment rerun does not pass through the page's code
        st.session_state["order_flash"] = ("warn", message_md(exc))
        st.rerun()
    except VoidDeskError as exc:
        show_error(exc)


def render(db, user, order: dict) -> None:
    """Every action the page offers; those that don't apply are disabled with the reason as help."""
    seen = _version_seen(order)
    void_actions.render(db, user, order)
    return_actions.render(db, user, order)
    _status_step(db, user, order, seen)
    _archive_and_copy(db, user, order, seen)
    _assign(db, user, order, seen)
    _comment(db, user, order)


def _version_seen(order: dict) -> int:
    """The order version the user was looking at when they clicked: the one the previous run showed.

    A keyed button keeps its identity when its label changes, so a click made on a stale page arrives
    in a run that has already re-read the order. Acting on the fresh version would, say, ship an order
    whose "Start processing" was clicked after someone else had started it (issue 3); checking the
    version seen turns that into ConcurrentChange."""
    shown = st.session_state.get("order_shown")
    st.session_state["order_shown"] = (order["order_no"], order["version"])
    return shown[1] if shown and shown[0] == order["order_no"] else order["version"]


def _status_step(db, user, order: dict, seen: int) -> None:
    target = NEXT_STEP.get(order["status"])
    why = _reason_disabled(user, order, "order.change_status", tuple(NEXT_STEP))
    text = tr(f"order.step.{target}") if target else tr("order.step.none")
    if st.session_state.pop("step_note_used", False):
        st.session_state["step_note"] = ""  # a note belongs to the step it was written for
    note = st.text_input(tr("order.step_note"), key="step_note", disabled=why is not None, max_chars=500)
    if st.button(text, type="primary", disabled=why is not None, help=why, icon=":material/arrow_forward:",
                 key="step"):
        orders.change_status(db, user, order["order_no"], target, note=note or None, expected_version=seen)
        st.session_state["step_note_used"] = True
        _flash(tr("order.step_done", order_no=md_escape(order["order_no"]), status=label("status", target)))


def _archive_and_copy(db, user, order: dict, seen: int) -> None:
    row = st.container(horizontal=True)
    why = _reason_disabled(user, order, "order.archive", ("completed", "voided"))
    if row.button(tr("order.archive"), disabled=why is not None, help=why or tr("order.archive_help"),
                  icon=":material/inventory:", key="archive"):
        orders.change_status(db, user, order["order_no"], "archived", expected_version=seen)
        _flash(tr("order.archived", order_no=md_escape(order["order_no"])))
    denied = refusal(user, "order.create")
    why = message_md(denied) if denied else None
    if row.button(tr("order.copy"), disabled=why is not None, help=why or tr("order.copy_help"),
                  icon=":material/content_copy:", key="copy"):
        key = st.session_state.setdefault(f"copy_key_{order['order_no']}", uuid.uuid4().hex)
        result = orders.copy_order(db, user, order["order_no"], submission_key=key)
        st.session_state.pop(f"copy_key_{order['order_no']}", None)
        st.query_params["no"] = result["order_no"]
        _flash(tr("order.copied", order_no=md_escape(result["order_no"]), source=md_escape(order["order_no"])))


def _assign(db, user, order: dict, seen: int) -> None:
    open_statuses = ("pending", "processing", "shipped", "completed", "voided")
    why = _reason_disabled(user, order, "order.assign", open_statuses)
    people = catalog.users_by_role(db, ("ops", "ops_lead", "warehouse", "finance", "admin"))
    names = {p["username"]: f"{p['display_name']} · {label('role', p['role'])}" for p in people}
    with st.form("assign", border=False):
        who = st.selectbox(tr("order.assign_to"), list(names), format_func=names.get, disabled=why is not None,
                           index=None, placeholder=tr("order.assign_placeholder"))
        if st.form_submit_button(tr("order.assign"), disabled=why is not None, help=why,
                                 icon=":material/person_add:") and who:
            collab.assign(db, user, order["order_no"], who, expected_version=seen)
            _flash(tr("order.assigned", name=md_escape(names[who])))


def _comment(db, user, order: dict) -> None:
    why = _reason_disabled(user, order, "order.comment", ("pending", "processing", "shipped", "completed", "voided"))
    with st.form("comment", clear_on_submit=True, border=False):
        body = st.text_area(tr("order.comment"), disabled=why is not None, max_chars=collab.MAX_COMMENT,
                            placeholder=tr("order.comment_placeholder"))
        if st.form_submit_button(tr("order.comment_submit"), disabled=why is not None, help=why,
                                 icon=":material/chat:"):
            collab.add_comment(db, user, order["order_no"], body)
            _flash(tr("order.commented"))
