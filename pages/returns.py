"""Return notes (退库单): list by status with filters; one note with receive and inspection (SPEC §5)."""
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.domain import can
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.queries.returns import get_return, search_returns
from lib.services.inspection import close_return, inspect_return, receive_return
from lib.ui.cached import clear_read_caches
from lib.ui.context import database, label, lang, md_escape, show_error, tr
from lib.ui.guard import signed_in_user
from lib.ui.links import order_link
from lib.ui.tables import show_table

RETURN_STATUSES = ("requested", "received", "inspected", "closed")
DISPOSITIONS = ("restock", "repair", "scrap")

db = database()
user = signed_in_user("order.view_all")


def show_note(return_no: str) -> None:
    try:
        note = get_return(db, user, return_no)
    except VoidDeskError as exc:
        show_error(exc)
        return
    st.title(tr("returns.note_title", return_no=md_escape(note["return_no"])))
    st.badge(label("return_status", note["status"]), color="blue")
    order_link(note["order_no"])
    reason = note.get("reason_label_zh" if lang() == "zh" else "reason_label_en") or note["reason_code"]
    st.markdown(f"**{tr('col.reason')}:** {md_escape(reason)}"
                f" · **{tr('return.warehouse')}:** {md_escape(note['warehouse'])}"
                f" · **{tr('return.refund_short')}:** {i18n.fmt_money(note['refund_amount'], lang())}")
    if note.get("note"):
        st.text(note["note"])
    lines = pd.DataFrame(note["lines"])
    if "disposition" in lines:
        lines["disposition"] = lines["disposition"].map(lambda d: label("disposition", d) if d else "")
    show_table(lines, hide_index=True, width="stretch",
               column_order=[c for c in ("line_no", "sku", "product_name", "qty", "unit_price", "amount", "disposition")
                             if c in lines],
               column_config={"line_no": "#", "sku": tr("col.sku"), "product_name": tr("col.product"),
                              "qty": tr("col.qty"),
                              "unit_price": st.column_config.NumberColumn(tr("col.unit_price"), format="%.2f"),
                              "amount": st.column_config.NumberColumn(tr("col.amount"), format="%.2f"),
                              "disposition": tr("returns.disposition")})
    _actions(note)


def _actions(note: dict) -> None:
    if not can(user, "return.inspect"):
        return
    key = st.session_state.setdefault(f"return_key_{note['return_no']}", uuid.uuid4().hex)
    try:
        if note["status"] == "requested":
            if st.button(tr("returns.receive"), type="primary", icon=":material/move_to_inbox:", key="receive"):
                receive_return(db, user, note["return_no"], submission_key=key + "-receive")
                clear_read_caches()
                st.rerun()
        elif note["status"] == "received":
            st.subheader(tr("returns.inspect_title"))
            with st.form("inspect"):
                choice = {ln["sku"]: st.segmented_control(
                    tr("returns.disposition_for", sku=md_escape(ln["sku"]), qty=ln["qty"]), DISPOSITIONS,
                    format_func=lambda d: label("disposition", d), key=f"disp_{ln['sku']}", required=True,
                    default="restock") for ln in note["lines"]}
                if st.form_submit_button(tr("returns.inspect"), type="primary"):
                    inspect_return(db, user, note["return_no"], choice, submission_key=key + "-inspect")
                    clear_read_caches()
                    st.rerun()
        elif note["status"] == "inspected" and not any(r.get("status") == "pending" for r in note.get("refunds") or []):
            if st.button(tr("returns.close"), icon=":material/task_alt:", key="close_return"):
                close_return(db, user, note["return_no"], submission_key=key + "-close")
                clear_read_caches()
                st.rerun()
    except VoidDeskError as exc:
        show_error(exc)


def show_list() -> None:
    st.title(tr("returns.title"))
    houses = catalog.warehouses(db, lang())
    row = st.columns(4)
    statuses = row[0].multiselect(tr("col.status"), RETURN_STATUSES, format_func=lambda s: label("return_status", s),
                                  key="ret_status", placeholder=tr("filter.any"))
    number = row[1].text_input(tr("returns.number"), key="ret_no", placeholder="RT-…")
    order_no = row[2].text_input(tr("col.order_no"), key="ret_order", placeholder="SO-…")
    warehouse = row[3].selectbox(tr("col.warehouse"), list(houses), format_func=houses.get, index=None,
                                 placeholder=tr("stock.all_warehouses"), key="ret_wh")
    try:
        total, rows = search_returns(db, user, statuses=statuses or None, return_no=number.strip() or None,
                                     order_no=order_no.strip() or None, warehouse=warehouse, limit=200)
    except VoidDeskError as exc:
        show_error(exc)
        return
    st.caption(tr("returns.count", n=i18n.fmt_int(total, lang())))
    rows["status"] = rows["status"].map(lambda s: label("return_status", s))
    rows["reason"] = rows["reason_label_zh" if lang() == "zh" else "reason_label_en"]
    rows["link"] = rows["return_no"].map(lambda n: f"/returns?no={n}")
    show_table(rows, hide_index=True, width="stretch", column_order=[
        "link", "order_no", "status", "reason", "qty", "refund_amount", "warehouse", "customer", "created_at"],
        column_config={
            "link": st.column_config.LinkColumn(tr("returns.number"), display_text=r"no=(.*)$"),
            "order_no": tr("col.order_no"), "status": tr("col.status"), "reason": tr("col.reason"),
            "qty": tr("col.qty"), "refund_amount": st.column_config.NumberColumn(tr("return.refund_short"), format="%.2f"),
            "warehouse": tr("col.warehouse"), "customer": tr("col.customer"),
            "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm")})


if st.query_params.get("no"):
    show_note(st.query_params["no"])
else:
    show_list()
