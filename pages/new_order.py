"""Create an order: customer, warehouse, lines with live available stock; stock is reserved on save."""
import uuid

import pandas as pd
import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.services.orders import LineInput, create_order
from lib.ui.guard import signed_in_user
from lib.ui.context import database, lang, show_error, tr
from lib.ui.links import order_link

db = database()
user = signed_in_user("order.create")
st.session_state.setdefault("new_order_key", uuid.uuid4().hex)

st.title(tr("new_order.title"))
done = st.session_state.pop("new_order_done", None)
if done:
    st.success(tr("new_order.created", order_no=done), icon=":material/check_circle:")
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
st.subheader(tr("new_order.lines"))
st.caption(tr("new_order.lines_hint"))
by_sku = products.set_index("sku") if not products.empty else None
edited = st.data_editor(
    pd.DataFrame({"sku": pd.Series(dtype="str"), "qty": pd.Series(dtype="Int64"),
                  "unit_price": pd.Series(dtype="float")}),
    num_rows="dynamic", key="new_order_lines", width="stretch",
    column_config={
        "sku": st.column_config.SelectboxColumn(
            tr("col.sku"), options=list(products["sku"]) if not products.empty else [], required=True,
            format_func=lambda s: f"{s} · {by_sku.at[s, 'name']} ({tr('col.available')} {by_sku.at[s, 'available']})"),
        "qty": st.column_config.NumberColumn(tr("col.qty"), min_value=1, step=1, required=True),
        "unit_price": st.column_config.NumberColumn(tr("col.unit_price"), min_value=0.0, format="%.2f",
                                                    help=tr("new_order.price_hint")),
    })

lines = edited.dropna(subset=["sku"])
if not lines.empty and by_sku is not None:
    preview = lines.join(by_sku[["name", "unit_price", "available"]], on="sku", rsuffix="_list")
    preview["unit_price"] = preview["unit_price"].fillna(preview["unit_price_list"].astype(float))
    preview["amount"] = preview["qty"].fillna(0).astype(float) * preview["unit_price"]
    short = preview[preview["qty"].fillna(0) > preview["available"]]
    st.metric(tr("col.total"), i18n.fmt_money(preview["amount"].sum(), lang()))
    for _, row in short.iterrows():
        st.warning(tr("new_order.short_line", sku=row["sku"], qty=int(row["qty"]), available=int(row["available"])),
                   icon=":material/inventory_2:")

if st.button(tr("new_order.submit"), type="primary", disabled=lines.empty or not customer,
             icon=":material/add_shopping_cart:"):
    try:
        result = create_order(
            db, user, customer, warehouse,
            [LineInput(r.sku, r.qty, None if pd.isna(r.unit_price) else r.unit_price) for r in lines.itertuples()],
            rep=rep, paid=paid, submission_key=st.session_state["new_order_key"])
        st.session_state["new_order_key"] = uuid.uuid4().hex
        st.session_state["new_order_done"] = result["order_no"]
        st.session_state.pop("new_order_lines", None)
        st.cache_data.clear()
        st.rerun()
    except VoidDeskError as exc:
        show_error(exc)
