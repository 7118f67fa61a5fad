"""The search page's widgets: filters bound to the URL, the result table, batch and export panels."""
import pandas as pd
import streamlit as st

from lib.domain import ORDER_STATUSES, PAYMENT_STATUSES
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.queries.export import export_csv, export_excel
from lib.queries.search import SORTS
from lib.ui.context import label, lang, show_error, tr
from lib.ui.links import order_url

SORT_OPTIONS = [f"{field}{suffix}" for field in SORTS for suffix in (":desc", "")]
RESULT_ORDER = ["link", "status", "payment_status", "customer", "total", "created_at", "rep_name",
                "assignee_name", "warehouse"]


def sort_label(option: str) -> str:
    field, _, direction = option.partition(":")
    arrow = "↓" if direction == "desc" else "↑"
    return f"{tr('sort.' + field)} {arrow}"


def _bound(widget, *args, **kwargs):
    """A widget whose value lives in the URL, so a search can be bookmarked and shared."""
    return widget(*args, bind="query-params", **kwargs)


def filter_widgets(db, user) -> dict:
    """Every filter as a widget; returns SearchFilters keyword arguments."""
    houses = catalog.warehouses(db, lang())
    cats = catalog.categories(db, lang())
    staff = catalog.users_by_role(db, ("ops", "ops_lead", "warehouse", "finance", "admin", "sales"))
    reps = [u for u in staff if u["role"] == "sales"]
    names = {u["username"]: u["display_name"] for u in staff}

    row = st.columns(4)
    number = _bound(row[0].text_input, tr("filter.number"), key="number", placeholder="SO-2026…")
    customer = _bound(row[1].text_input, tr("filter.customer"), key="customer")
    product = _bound(row[2].text_input, tr("filter.product"), key="product", placeholder=tr("filter.product_hint"))
    statuses = _bound(row[3].multiselect, tr("filter.status"), ORDER_STATUSES, key="status",
                      format_func=lambda s: label("status", s))
    row = st.columns(4)
    date_from = _bound(row[0].date_input, tr("filter.from"), value=None, key="from")
    date_to = _bound(row[1].date_input, tr("filter.to"), value=None, key="to")
    payment = _bound(row[2].multiselect, tr("filter.payment"), PAYMENT_STATUSES, key="payment",
                     format_func=lambda p: label("payment", p))
    category = _bound(row[3].multiselect, tr("filter.category"), list(cats), key="category", format_func=cats.get)
    row = st.columns(4)
    rep = [] if user.is_sales else _bound(row[0].multiselect, tr("filter.rep"), [r["username"] for r in reps],
                                          key="rep", format_func=names.get)
    assignee = _bound(row[1].multiselect, tr("filter.assignee"), list(names), key="assignee", format_func=names.get)
    warehouse = _bound(row[2].multiselect, tr("filter.warehouse"), list(houses), key="warehouse",
                       format_func=houses.get)
    low, high = row[3].columns(2)
    min_total = _bound(low.number_input, tr("filter.min_total"), value=None, min_value=0.0, key="min_total")
    max_total = _bound(high.number_input, tr("filter.max_total"), value=None, min_value=0.0, key="max_total")
    return dict(number=number, customer=customer, product=product, statuses=statuses, date_from=date_from,
                date_to=date_to, payment=payment, category=category, rep=rep, assignee=assignee,
                warehouse=warehouse, min_total=min_total, max_total=max_total)


def result_frame(rows: pd.DataFrame) -> pd.DataFrame:
    df = rows.copy()
    df["link"] = df["order_no"].map(order_url)
    df["status"] = df["status"].map(lambda s: label("status", s))
    df["payment_status"] = df["payment_status"].map(lambda p: label("payment", p))
    return df


def result_columns() -> dict:
    return {
        "link": st.column_config.LinkColumn(tr("col.order_no"), display_text=r"no=(.*)$"),
        "status": tr("col.status"), "payment_status": tr("col.payment"), "customer": tr("col.customer"),
        "total": st.column_config.NumberColumn(tr("col.total"), format="%.2f"),
        "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm"),
        "rep_name": tr("col.rep"), "assignee_name": tr("col.assignee"), "warehouse": tr("col.warehouse"),
    }


def batch_panel(db, user, selected: list[str]) -> None:
    """What to do with the selected orders. Batch void joins here with the voids work."""
    if not selected:
        st.caption(tr("search.select_hint"))
        return
    st.markdown(tr("search.selected", n=len(selected)))
    st.text(", ".join(selected[:20]) + (" …" if len(selected) > 20 else ""))


def export_panel(db, user, filters, sort: str, total: int) -> None:
    st.caption(tr("search.export_hint", n=total))
    fingerprint = repr((filters, sort))  # a prepared file belongs to the search that made it
    left, right = st.columns(2)
    for col, kind, make, mime in ((left, "csv", export_csv, "text/csv"),
                                  (right, "xlsx", export_excel,
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        if col.button(tr(f"search.prepare_{kind}"), key=f"prepare_{kind}", disabled=total == 0):
            bar = col.progress(0.0, text=tr("search.exporting"))
            try:
                data = make(db, user, filters, sort, progress=lambda f: bar.progress(min(1.0, f)), lang=lang())
                st.session_state[f"export_{kind}"] = (fingerprint, data)
            except VoidDeskError as exc:
                show_error(exc)
        prepared, data = st.session_state.get(f"export_{kind}", (None, None))
        if prepared == fingerprint:
            col.download_button(tr(f"search.download_{kind}"), data, file_name=f"orders.{kind}", mime=mime,
                                key=f"download_{kind}", icon=":material/download:", on_click="ignore")
