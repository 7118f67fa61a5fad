"""The order page's return flow (SPEC §5): pick lines and quantities, reason, warehouse, refund; confirm."""
from decimal import Decimal
from functools import partial

import streamlit as st

from lib import i18n
from lib.domain import RETURNABLE_STATUSES, refusal
from lib.errors import ConcurrentChange, VoidDeskError
from lib.queries import catalog
from lib.queries.voids import active_reasons
from lib.services.returns import create_return, return_context
from lib.ui.cached import clear_read_caches
from lib.ui.context import label, lang, md_escape, message_md, show_error, tr
from lib.ui.flag_dialog import forget_dialog, go_to_step, open_dialog
from lib.ui.void_ui import reason_picker

DIALOG_FLAG = "return_dialog"


def render(db, user, order: dict) -> None:
    denied = refusal(user, "return.create")
    why = message_md(denied) if denied else None
    if why is None and order["status"] not in RETURNABLE_STATUSES:
        why = tr("return.only_shipped", status=label("status", order["status"]))
    st.button(tr("return.button"), disabled=why is not None, help=why, icon=":material/assignment_return:",
              key="return_open", on_click=open_dialog, args=("return", order["order_no"]))
    if st.session_state.get(DIALOG_FLAG) == order["order_no"]:
        _dialog(db, user, order)


@st.dialog(" ", width="large", on_dismiss=partial(forget_dialog, "return"))  # × or Esc
def _dialog(db, user, order: dict) -> None:
    st.subheader(tr("return.dialog_title", order_no=md_escape(order["order_no"])))
    context = return_context(db, user, order["order_no"])
    lines = [ln for ln in context["lines"] if ln["returnable"] > 0]
    if not lines:
        st.info(tr("return.nothing_left"))
        return
    chosen = {}
    for ln in lines:
        qty = st.number_input(tr("return.line_qty", sku=md_escape(ln["sku"]), name=md_escape(ln["product_name"]),
                                 n=ln["returnable"]),
                              min_value=0, max_value=int(ln["returnable"]), value=0, step=1,
                              key=f"return_qty_{ln['order_line_id']}")
        if qty:  # an imported order may list a SKU twice; the service sums a SKU's lines
            chosen[ln["sku"]] = chosen.get(ln["sku"], 0) + int(qty)
    value = min(sum((Decimal(str(ln["unit_price"])) * int(st.session_state.get(f"return_qty_{ln['order_line_id']}") or 0)
                     for ln in lines), Decimal("0")), Decimal(str(context["refundable"])))
    code, note = reason_picker(active_reasons(db, "return", lang()), "return")
    houses = catalog.warehouses(db, lang())
    warehouse = st.selectbox(tr("return.warehouse"), list(houses), format_func=houses.get,
                             index=list(houses).index(order["warehouse"]) if order["warehouse"] in houses else 0,
                             key="return_wh")
    paid = Decimal(str(order.get("amount_paid") or 0)) > 0
    refund = st.number_input(tr("return.refund", value=i18n.fmt_money(value, lang())), min_value=0.0,
                             max_value=float(value), value=float(value), step=1.0, format="%.2f",
                             key=f"return_refund_{value}", disabled=not paid,
                             help=tr("return.refund_help") if paid else tr("return.unpaid"))
    if st.session_state.get("return_step", 1) == 1:
        st.button(tr("void.review"), type="primary", disabled=not chosen or not code, key="return_review",
                  on_click=go_to_step, args=("return", 2))
        return
    st.warning(tr("return.confirm_text", n=sum(chosen.values()), order_no=md_escape(order["order_no"]),
                  refund=i18n.fmt_money(refund if paid else 0, lang()),
                  warehouse=md_escape(houses.get(warehouse, warehouse))),
               icon=":material/assignment_return:")
    cols = st.columns(2)
    if cols[0].button(tr("return.confirm"), type="primary", key="return_confirm"):
        try:
            result = create_return(db, user, order["order_no"], chosen, code, note or None, warehouse=warehouse,
                                   refund=Decimal(str(refund)) if paid else None,
                                   submission_key=st.session_state["return_key"])
            _close(tr("return.created", return_no=md_escape(result["return_no"])))
        except ConcurrentChange as exc:
            _close(message_md(exc), "warn")
        except VoidDeskError as exc:
            show_error(exc)
    cols[1].button(tr("common.back"), key="return_back", on_click=go_to_step, args=("return", 1))


def _close(message: str, kind: str = "ok") -> None:
    forget_dialog("return")
    st.session_state["order_flash"] = (kind, message)
    clear_read_caches()
    st.rerun()
