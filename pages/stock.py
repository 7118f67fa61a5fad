"""Stock per warehouse and SKU with low-stock highlighting, one SKU's ledger, manual adjustment (SPEC §6)."""
import uuid

import streamlit as st

from lib import i18n
from lib.domain import can
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.queries.stock import sku_ledger, stock_levels
from lib.services.stock_adjust import adjust_stock
from lib.ui.cached import clear_read_caches
from lib.ui.context import database, lang, md_escape, show_error, tr
from lib.ui.guard import signed_in_user
from lib.ui.tables import show_table

# The ledger as people read it: what moved and the balances after it, what it was for and who did it.
LEDGER_COLUMNS = ("created_at", "warehouse", "kind", "d_on_hand", "d_reserved", "d_quarantine", "on_hand", "reserved",
                  "available", "quarantine", "order_link", "return_no", "actor", "note")

db = database()
user = signed_in_user("stock.view")

st.title(tr("stock.title"))
houses = catalog.warehouses(db, lang())
filters = st.columns([2, 2, 1], vertical_alignment="bottom")
sku_text = filters[0].text_input(tr("stock.sku_filter"), key="stock_sku", placeholder="PHN-0001")
warehouse = filters[1].selectbox(tr("col.warehouse"), list(houses), format_func=houses.get, index=None,
                                 placeholder=tr("stock.all_warehouses"), key="stock_wh")
low_only = filters[2].toggle(tr("stock.low_only"), key="stock_low", value=st.query_params.get("low") == "1")

levels = stock_levels(db, user, sku=sku_text.strip().upper() or None, warehouse=warehouse, low_only=low_only)
category_names = catalog.categories(db, lang())
levels["category"] = levels["category"].map(lambda c: category_names.get(c, c))
st.caption(tr("stock.count", n=i18n.fmt_int(len(levels), lang())))


def _highlight(row):
    return ["background-color: #fde8e8" if row.get("low") else "" for _ in row]


show_table(levels.style.apply(_highlight, axis=1), hide_index=True, width="stretch", height=420,
           column_config={"warehouse": tr("col.warehouse"), "sku": tr("col.sku"), "product_name": tr("col.product"),
                          "category": tr("filter.category"), "on_hand": tr("stock.on_hand"),
                          "reserved": tr("stock.reserved"), "available": tr("stock.available"),
                          "quarantine": tr("stock.quarantine"),
                          "low": st.column_config.CheckboxColumn(tr("stock.low"))})

st.subheader(tr("stock.ledger_title"))
only_sku = levels["sku"].iloc[0] if len(levels["sku"].unique()) == 1 else ""
# A keyed input keeps its text whatever `value` says, so follow the filter when it narrows to one SKU.
if only_sku and st.session_state.get("ledger_followed") != only_sku:
    st.session_state["ledger_sku"] = only_sku
st.session_state["ledger_followed"] = only_sku
ledger_sku = st.text_input(tr("stock.ledger_sku"), key="ledger_sku")
if ledger_sku:
    ledger = sku_ledger(db, user, ledger_sku.strip().upper(), warehouse=warehouse)
    if ledger.empty:
        st.caption(tr("stock.ledger_empty"))
    else:
        if "kind" in ledger:
            ledger["kind"] = ledger["kind"].map(lambda k: tr(f"ledger_kind.{k}"))
        if "order_no" in ledger:
            ledger["order_link"] = ledger["order_no"].map(lambda n: f"/order?no={n}" if isinstance(n, str) and n
                                                          else None)
        show_table(ledger, hide_index=True, width="stretch", column_order=LEDGER_COLUMNS, column_config={
            "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm"),
            "warehouse": tr("col.warehouse"), "kind": tr("stock.kind"),
            "d_on_hand": tr("stock.d_on_hand"), "d_reserved": tr("stock.d_reserved"),
            "d_quarantine": tr("stock.d_quarantine"),
            "on_hand": tr("stock.on_hand"), "reserved": tr("stock.reserved"), "available": tr("stock.available"),
            "quarantine": tr("stock.quarantine"),
            "order_link": st.column_config.LinkColumn(tr("col.order_no"), display_text=r"no=(.*)$"),
            "return_no": tr("returns.number"), "actor": tr("col.by"), "note": tr("audit.col.note")})

if can(user, "stock.adjust"):
    st.subheader(tr("stock.adjust_title"))
    key = st.session_state.setdefault("adjust_key", uuid.uuid4().hex)
    with st.form("adjust", clear_on_submit=True):
        cols = st.columns(4)
        adj_wh = cols[0].selectbox(tr("col.warehouse"), list(houses), format_func=houses.get)
        adj_sku = cols[1].text_input(tr("col.sku"))
        delta = cols[2].number_input(tr("stock.delta_on_hand"), value=0, step=1, min_value=-1_000_000,
                                     max_value=1_000_000)
        delta_q = cols[3].number_input(tr("stock.delta_quarantine"), value=0, step=1, min_value=-1_000_000,
                                       max_value=1_000_000)
        reason = st.text_input(tr("stock.adjust_reason"), max_chars=500)
        if st.form_submit_button(tr("stock.adjust"), type="primary"):
            try:
                adjust_stock(db, user, adj_wh, adj_sku.strip().upper(), int(delta), reason,
                             delta_quarantine=int(delta_q), submission_key=key)
                clear_read_caches()
                st.session_state.pop("adjust_key", None)
                st.success(tr("stock.adjusted", sku=md_escape(adj_sku.strip().upper()), warehouse=md_escape(adj_wh)))
            except VoidDeskError as exc:
                show_error(exc)
