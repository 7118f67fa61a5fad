"""The search page's widgets: filters bound to the URL, the result table, batch and export panels."""
import pandas as pd
import streamlit as st

from lib import i18n
from lib.domain import ORDER_SOURCES, ORDER_STATUSES, PAYMENT_STATUSES
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.queries.export import export_csv, export_excel
from lib.queries.search import DEFAULT_SORT, SORTS, SearchFilters
from lib.ui.context import label, lang, show_error, tr
from lib.ui.links import order_url

SORT_OPTIONS = [DEFAULT_SORT] + [f"{field}{suffix}" for field in SORTS for suffix in (":desc", "")
                                 if f"{field}{suffix}" != DEFAULT_SORT]
RESULT_ORDER = ["link", "status", "payment_status", "customer", "total", "created_at", "rep_name",
                "assignee_name", "warehouse"]


def sort_labels():
    """A format_func naming sort options in the language of this run (bound now: AppTest calls it outside the run)."""
    language = lang()

    def sort_label(option: str) -> str:
        field, _, direction = option.partition(":")
        return f"{i18n.t('sort.' + field, language)} {'↓' if direction == 'desc' else '↑'}"
    return sort_label


# SearchFilters field -> widget key; the URL itself carries SearchFilters.to_params() (codes, not labels,
# so a link means the same in both languages).
WIDGET_KEYS = {name: f"f_{name}" for name in (
    "number", "customer", "product", "statuses", "date_from", "date_to", "payment", "category", "rep",
    "assignee", "warehouse", "source", "min_total", "max_total", "void_reason", "voided_from", "voided_to",
    "return_reason", "returned_from", "returned_to", "returned_product", "returned_category", "main_product",
    "main_category")}


def seed_from_url() -> None:
    """When the URL was not written by this page (a bookmark, a shared link, a link from home), the URL
    wins: the widgets start from its filters. Bad values in a URL are reported, not applied."""
    current = st.query_params.to_dict()
    if current == st.session_state.get("search_url_written"):
        return
    try:
        filters = SearchFilters.from_params(st.query_params)
    except VoidDeskError as exc:
        show_error(exc)
        filters = SearchFilters()
    for name, key in WIDGET_KEYS.items():
        value = getattr(filters, name)
        st.session_state[key] = float(value) if name.endswith("_total") and value is not None else value
    st.session_state["sort"] = st.query_params.get("sort", DEFAULT_SORT)
    if st.session_state["sort"] not in SORT_OPTIONS:
        st.session_state["sort"] = DEFAULT_SORT
    st.session_state["search_page"] = _page_param()
    st.session_state["search_last"] = (filters, st.session_state["sort"])
    st.session_state["search_url_written"] = current


def _page_param() -> int:
    try:
        return max(1, int(st.query_params.get("page", 1)))
    except ValueError:
        return 1


def write_url(filters: SearchFilters, sort: str, page: int) -> None:
    """Keep the URL equal to what is on screen, so it can be bookmarked and shared."""
    params = filters.to_params()
    if sort != DEFAULT_SORT:
        params["sort"] = sort
    if page > 1:
        params["page"] = str(page)
    st.query_params.from_dict(params)
    st.session_state["search_url_written"] = st.query_params.to_dict()


def _pick(col, label_key: str, options, **kwargs):
    """A multiselect filter; empty means any value."""
    return col.multiselect(tr(label_key), options, placeholder=tr("filter.any"), **kwargs)


def _blank(key: str) -> dict:
    """value=None for an empty widget, unless its value is already in session state."""
    return {} if key in st.session_state else {"value": None}


def filter_widgets(db, user) -> dict:
    """Every filter as a widget; returns SearchFilters keyword arguments."""
    houses = catalog.warehouses(db, lang())
    cats = catalog.categories(db, lang())
    staff = catalog.users_by_role(db, ("ops", "ops_lead", "warehouse", "finance", "admin", "sales"))
    reps = [u for u in staff if u["role"] == "sales"]
    names = {u["username"]: u["display_name"] for u in staff}
    k = WIDGET_KEYS

    row = st.columns(4)
    row[0].text_input(tr("filter.number"), key=k["number"], placeholder="SO-2026…")
    row[1].text_input(tr("filter.customer"), key=k["customer"])
    row[2].text_input(tr("filter.product"), key=k["product"], placeholder=tr("filter.product_hint"))
    _pick(row[3], "filter.status", ORDER_STATUSES, key=k["statuses"], format_func=lambda s: label("status", s))
    row = st.columns(4)
    row[0].date_input(tr("filter.from"), key=k["date_from"], **_blank(k["date_from"]))
    row[1].date_input(tr("filter.to"), key=k["date_to"], **_blank(k["date_to"]))
    _pick(row[2], "filter.payment", PAYMENT_STATUSES, key=k["payment"],
                       format_func=lambda p: label("payment", p))
    _pick(row[3], "filter.category", list(cats), key=k["category"], format_func=cats.get)
    row = st.columns(4)
    if not user.is_sales:
        _pick(row[0], "filter.rep", [r["username"] for r in reps], key=k["rep"], format_func=names.get)
    _pick(row[1], "filter.assignee", list(names), key=k["assignee"], format_func=names.get)
    _pick(row[2], "filter.warehouse", list(houses), key=k["warehouse"], format_func=houses.get)
    low, high = row[3].columns(2)
    low.number_input(tr("filter.min_total"), min_value=0.0, key=k["min_total"], **_blank(k["min_total"]))
    high.number_input(tr("filter.max_total"), min_value=0.0, key=k["max_total"], **_blank(k["max_total"]))
    _history_widgets(db)
    values = {name: st.session_state.get(key) for name, key in k.items()}
    if user.is_sales:
        values["rep"] = []
    return {name: ([] if value is None and name in _LIST_FIELDS else ("" if value is None and name in _TEXT_FIELDS
                                                                        else value))
            for name, value in values.items()}


def _history_widgets(db) -> None:
    """Void and return history filters (where the analytics drill-down lands): reason and date range, what was
    returned; the order's source; its main product and category."""
    reasons = catalog.reason_labels(db, lang())
    k = WIDGET_KEYS
    for kind, field, low, high in (("void", "void_reason", "voided_from", "voided_to"),
                                   ("return", "return_reason", "returned_from", "returned_to")):
        row = st.columns(4)
        codes = [code for (what, code) in reasons if what == kind]
        codes += [c for c in st.session_state.get(k[field]) or [] if c not in codes]  # a retired code in a link
        _pick(row[0], f"filter.{field}", codes, key=k[field],
                           format_func=lambda c, kind=kind: reasons.get((kind, c), c))
        row[1].date_input(tr(f"filter.{low}"), key=k[low], **_blank(k[low]))
        row[2].date_input(tr(f"filter.{high}"), key=k[high], **_blank(k[high]))
        if kind == "void":
            _pick(row[3], "filter.source", ORDER_SOURCES, key=k["source"],
                  format_func=lambda s: label("order_source", s))
    row = st.columns(4)
    row[0].text_input(tr("filter.returned_product"), key=k["returned_product"], placeholder="SKU")
    cats = catalog.categories(db, lang())
    _pick(row[1], "filter.returned_category", list(cats), key=k["returned_category"], format_func=cats.get)
    # where Explain's product and category bars land (lib.queries.main_line)
    row[2].text_input(tr("filter.main_product"), key=k["main_product"], placeholder=tr("filter.product_hint"),
                      help=tr("filter.main_line_help"))
    _pick(row[3], "filter.main_category", list(cats), key=k["main_category"], format_func=cats.get,
          help=tr("filter.main_line_help"))


_LIST_FIELDS = ("statuses", "payment", "category", "rep", "assignee", "warehouse", "source", "void_reason",
                "return_reason", "returned_category", "main_category")
_TEXT_FIELDS = ("number", "customer", "product", "returned_product", "main_product")


def result_frame(rows: pd.DataFrame) -> pd.DataFrame:
    df = rows.copy()
    df["link"] = df["order_no"].map(order_url)
    df["status"] = df["status"].map(lambda s: label("status", s))
    df["payment_status"] = df["payment_status"].map(lambda p: label("payment", p))
    for name in ("rep_name", "assignee_name"):
        df[name] = df[name].fillna("")
    return df


def result_columns() -> dict:
    return {
        "link": st.column_config.LinkColumn(tr("col.order_no"), display_text=r"no=(.*)$"),
        "status": tr("col.status"), "payment_status": tr("col.payment"), "customer": tr("col.customer"),
        "total": st.column_config.NumberColumn(tr("col.total"), format="%.2f"),
        "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm"),
        "rep_name": tr("col.rep"), "assignee_name": tr("col.assignee"), "warehouse": tr("col.warehouse"),
    }


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
