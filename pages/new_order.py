"""Create an order: customer, warehouse, lines with live available stock; stock is reserved on save."""
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.services.orders import LineInput, create_order
from lib.ui.cached import clear_read_caches
from lib.ui.guard import signed_in_user
from lib.ui.context import database, lang, md_escape, show_error, tr
from lib.ui.links import order_link

db = database()
user = signed_in_user("order.create")
st.session_state.setdefault("new_order_key", uuid.uuid4().hex)

st.title(tr("new_order.title"))
done = st.session_state.pop("new_order_done", None)
if done:
    st.success(tr("new_order.created", order_no=md_escape(done)), icon=":material/check_circle:")
    order_link(done)

left, right = st.columns(2)
with left:
    text = st.text_input(tr("new_order.find_customer"), key="new_order_customer_text",
                         placeholder=tr("new_order.find_customer_hint"))
    matches = catalog.find_customers(db, text)
    customer = st.selectbox(tr("col.customer"), [m["code"] for m in matches], key="new_order_customer",
                            format_func=lambda c: next(f"{m['name']} · {m['code']} · {m['city'] or ''}"
                                                       for m in matches if m["code"] == c),
                            placeholder=tr("new_order.no_customer"), index=0 if matches else None)
with right:
    houses = catalog.warehouses(db, lang())
    warehouse = st.selectbox(tr("col.warehouse"), list(houses), format_func=houses.get, key="new_order_wh")
    rep = None
    if not user.is_sales:
        reps = catalog.users_by_role(db, ("sales",))
        rep = st.selectbox(tr("col.rep"), [r["username"] for r in reps], index=None, key="new_order_rep",
                           format_func=lambda u: next(r["display_name"] for r in reps if r["username"] == u),
                           placeholder=tr("new_order.no_rep"))
    paid = st.checkbox(tr("new_order.paid"), key="new_order_paid")

products = catalog.products_with_stock(db, warehouse) if warehouse else pd.DataFrame()
by_sku = products.set_index("sku") if not products.empty else pd.DataFrame()
lines: list[dict] = st.session_state.setdefault("new_order_lines", [])

st.subheader(tr("new_order.lines"))
st.caption(tr("new_order.lines_hint"))
with st.form("add_line", clear_on_submit=True, border=True):
    pick, qty_col, price_col, add_col = st.columns([4, 1.3, 1.5, 1.2], vertical_alignment="bottom")
    sku = pick.selectbox(tr("col.sku"), list(by_sku.index), index=None, key="new_line_sku",
                         placeholder=tr("new_order.pick_sku"),
                         format_func=lambda s: tr("new_order.sku_option", sku=s, name=by_sku.at[s, "name"],
                                                  n=i18n.fmt_int(by_sku.at[s, "available"], lang())))
    qty = qty_col.number_input(tr("col.qty"), min_value=1, max_value=1_000_000, value=1, step=1, key="new_line_qty")
    price = price_col.number_input(tr("col.unit_price"), min_value=0.0, value=None, format="%.2f",
                                   key="new_line_price", placeholder=tr("new_order.list_price"))
    if add_col.form_submit_button(tr("new_order.add_line"), icon=":material/add:") and sku:
        lines[:] = [line for line in lines if line["sku"] != sku] + [{"sku": sku, "qty": int(qty), "price": price}]

if lines and not by_sku.empty:
    table = pd.DataFrame(lines)
    table["name"] = table["sku"].map(lambda s: by_sku.at[s, "name"] if s in by_sku.index else "?")
    table["available"] = table["sku"].map(lambda s: int(by_sku.at[s, "available"]) if s in by_sku.index else 0)
    table["unit_price"] = [float(p) if p is not None else float(by_sku.at[s, "unit_price"]) if s in by_sku.index
                           else 0.0 for s, p in zip(table["sku"], table["price"])]
    table["amount"] = table["qty"] * table["unit_price"]
    table["remove"] = False
    edited = st.data_editor(
        table[["remove", "sku", "name", "qty", "unit_price", "amount", "available"]], hide_index=True,
        width="stretch", key="new_order_table", disabled=["sku", "name", "qty", "unit_price", "amount", "available"],
        column_config={"remove": st.column_config.CheckboxColumn(tr("new_order.remove"), width="small"),
                       "sku": tr("col.sku"), "name": tr("col.product"), "qty": tr("col.qty"),
                       "unit_price": st.column_config.NumberColumn(tr("col.unit_price"), format="%.2f"),
                       "amount": st.column_config.NumberColumn(tr("col.amount"), format="%.2f"),
                       "available": tr("col.available_now")})
    if edited["remove"].any():
        gone = set(edited.loc[edited["remove"], "sku"])
        lines[:] = [line for line in lines if line["sku"] not in gone]
        st.session_state.pop("new_order_table", None)
        st.rerun()
    st.metric(tr("col.total"), i18n.fmt_money(table["amount"].sum(), lang()))
    for row in table[table["qty"] > table["available"]].itertuples():
        st.warning(tr("new_order.short_line", sku=md_escape(row.sku), qty=row.qty, available=row.available),
                   icon=":material/inventory_2:")

if st.button(tr("new_order.submit"), type="primary", disabled=not lines or not customer,
             icon=":material/add_shopping_cart:", key="new_order_submit"):
    try:
        result = create_order(db, user, customer, warehouse,
                              [LineInput(line["sku"], line["qty"], line["price"]) for line in lines],
                              rep=rep, paid=paid, submission_key=st.session_state["new_order_key"])
        clear_read_caches()
        st.session_state["new_order_key"] = uuid.uuid4().hex
        st.session_state["new_order_done"] = result["order_no"]
        lines.clear()
        st.rerun()
    except VoidDeskError as exc:
        show_error(exc)
