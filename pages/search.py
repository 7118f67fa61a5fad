"""Order search: every filter of SPEC §3, kept in the URL; sortable pages; selection for batch actions; export."""
import math

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.queries.search import SearchFilters, search_orders
from lib.ui import batch_void, search_widgets
from lib.ui.guard import signed_in_user
from lib.ui.context import database, lang, show_error, tr
from lib.ui.tables import show_table

PAGE_SIZE = 50

db = database()
user = signed_in_user("order.view")

st.title(tr("search.title"))
if user.is_sales:
    st.caption(tr("search.own_only"))

search_widgets.seed_from_url()
with st.expander(tr("search.filters"), expanded=True, icon=":material/filter_list:"):
    raw = search_widgets.filter_widgets(db, user)

try:
    filters = SearchFilters(**raw).cleaned()
except VoidDeskError as exc:
    show_error(exc)
    st.stop()

top = st.columns([2, 2, 3], vertical_alignment="bottom")
sort = top[0].selectbox(tr("search.sort"), search_widgets.SORT_OPTIONS, key="sort",
                        format_func=search_widgets.sort_labels())
if st.session_state.get("search_last", (filters, sort)) != (filters, sort):
    st.session_state["search_page"] = 1  # new filters or a new sort start at the first page
st.session_state["search_last"] = (filters, sort)
page_no = st.session_state.get("search_page", 1)
try:
    result = search_orders(db, user, filters, sort=sort, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
except VoidDeskError as exc:
    show_error(exc)
    st.stop()
pages = max(1, math.ceil(result.total / PAGE_SIZE))
if page_no > pages:  # the filters changed under a later page: show the last page there is
    page_no = pages
    result = search_orders(db, user, filters, sort=sort, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
top[1].metric(tr("search.total"), i18n.fmt_int(result.total, lang()))
with top[2]:
    if pages > 1:
        # Keyed by the page shown, so the widget always starts at it (filters may have reset it to 1).
        chosen = st.pagination(pages, default=page_no, key=f"pager_{pages}_{page_no}")
        if chosen != page_no:
            st.session_state["search_page"] = chosen
            st.rerun()
search_widgets.write_url(filters, sort, page_no)

table = search_widgets.result_frame(result.rows)
event = show_table(table, hide_index=True, width="stretch", key="results", on_select="rerun",
                   selection_mode="multi-row", column_config=search_widgets.result_columns(),
                   column_order=search_widgets.RESULT_ORDER)
selected = [table.iloc[i]["order_no"] for i in event.selection.rows] if event and event.selection else []

with st.container(border=True):
    batch_void.batch_panel(db, user, selected, filters, sort, result.total)

with st.expander(tr("search.export"), icon=":material/download:"):
    search_widgets.export_panel(db, user, filters, sort, result.total)
