"""The Explore page's pivot builder: choose a measure, up to two dimensions and a time grain, narrow the
period and codes, see the wide table and its chart, download both forms."""
import hashlib

import pandas as pd
import streamlit as st

from lib import clock, i18n
from lib.analytics.explore import DIMENSIONS, MAX_DIMENSIONS, MEASURES, ROW_CAP, drill_params, period_starts
from lib.analytics.filters import GRAINS, AnalyticsFilters
from lib.charts import png_config
from lib.errors import VoidDeskError
from lib.queries import catalog
from lib.ui.analytics_drill import SEARCH_PAGE, picked_data
from lib.ui.cached import pivot
from lib.ui.context import lang, show_error, tr
from lib.ui.explore_view import Table, cells, complete, figure, long_table, wide
from lib.ui.guard import fragment_user
from lib.ui.table_export import table_downloads
from lib.ui.tables import show_table

NO_GRAIN = "none"
NO_REASON = ("orders", "revenue")     # measures of orders, which have no reason
KEYS = {"measure": "ex_measure", "dims": "ex_dims", "grain": "ex_grain", "date_from": "ex_from",
        "date_to": "ex_to", "basis": "ex_basis", "reasons": "ex_reasons", "categories": "ex_categories",
        "warehouses": "ex_warehouses", "reps": "ex_reps"}
DEFAULTS = {"measure": "voids", "dims": ["reason"], "grain": "week", "basis": "event"}


@st.fragment   # its widgets change only the pivot: they rerun this panel, not the page nor the SQL console
def pivot_panel(db) -> None:
    """The whole pivot part of the page; its choices live in the URL, so a pivot can be bookmarked and shared."""
    user = fragment_user("analytics.view")
    _start_defaults()
    _seed_from_url()
    with st.container(border=True):
        measure, dims, grain = _choice_row()
        f = _filter_rows(db, measure)
    _write_url(measure, dims, grain, f)
    try:
        frame = pivot(db, user, dims, measure, grain, f, lang=lang())
    except VoidDeskError as exc:
        show_error(exc)
        return
    if frame.empty:
        st.info(tr("explore.empty"), icon=":material/event_busy:")
        return
    if frame.attrs.get("capped"):
        st.warning(tr("explore.capped", n=i18n.fmt_int(ROW_CAP)), icon=":material/content_cut:")
    full = complete(frame, dims, measure, period_starts(f, grain)) if grain and not frame.attrs["capped"] else frame
    # Clicks are kept per widget key as positions: a key per pivot, so a click never lands on another pivot's cell.
    pivot_key = hashlib.sha256(repr((measure, dims, grain, f.to_params(), lang())).encode()).hexdigest()[:12]
    event = st.plotly_chart(figure(full, dims, measure, grain, lang()), width="stretch",
                            key=f"explore_chart_{pivot_key}", config=png_config("explore"), on_select="rerun",
                            selection_mode=("points",))
    clicked, marks = picked_data(event), cells(full, dims, grain)
    if clicked and int(clicked[0]) < len(marks):
        _drill(f, measure, grain, marks[int(clicked[0])])
    st.caption(tr("explore.drill_hint"))
    pivot_of = (f, measure, grain)
    _show(wide(full, dims, measure, grain, lang()), "explore-pivot", f"explore_wide_{pivot_key}", pivot_of)
    with st.expander(tr("explore.long_form", n=i18n.fmt_int(len(frame)))):
        _show(long_table(frame, dims, measure, grain, lang()), "explore-rows", f"explore_long_{pivot_key}", pivot_of)


def _drill(f: AnalyticsFilters, measure: str, grain: str | None, cell: dict) -> None:
    """Open Search on the orders behind a clicked mark or cell (or say why Search cannot list them)."""
    try:
        params = drill_params(f, measure, grain, cell)
    except VoidDeskError as exc:
        show_error(exc)
        return
    st.switch_page(SEARCH_PAGE, query_params=params)


def _start_defaults() -> None:
    today = clock.today()
    period = AnalyticsFilters.default(today)
    for name, value in {**DEFAULTS, "date_from": period.date_from, "date_to": period.date_to}.items():
        st.session_state.setdefault(KEYS[name], value)


def _seed_from_url() -> None:
    """When the URL was not written by this page (a bookmark, a shared link), its choices win; bad values are
    reported and the rest of the page keeps its defaults."""
    current = st.query_params.to_dict()
    if not current or current == st.session_state.get("ex_url_written"):
        return
    st.session_state["ex_url_written"] = current
    try:
        f = AnalyticsFilters.from_params(st.query_params, clock.today())
    except VoidDeskError as exc:
        show_error(exc)
        return
    values = {"date_from": f.date_from, "date_to": f.date_to, "basis": f.basis, "reasons": list(f.reasons),
              "categories": list(f.categories), "warehouses": list(f.warehouses), "reps": list(f.reps)}
    if st.query_params.get("measure") in MEASURES:
        values["measure"] = st.query_params.get("measure")
    if "dim" in st.query_params:
        values["dims"] = [d for d in dict.fromkeys(st.query_params.get_all("dim")) if d in DIMENSIONS][:MAX_DIMENSIONS]
    if st.query_params.get("grain") in (NO_GRAIN,) + GRAINS:
        values["grain"] = st.query_params.get("grain")
    for name, value in values.items():
        st.session_state[KEYS[name]] = value


def _write_url(measure: str, dims: list[str], grain: str | None, f: AnalyticsFilters) -> None:
    """Keep the URL equal to what is on screen."""
    st.query_params.from_dict({"measure": measure, "dim": list(dims), "grain": grain or NO_GRAIN, **f.to_params()})
    st.session_state["ex_url_written"] = st.query_params.to_dict()


def _names(prefix: str):
    """A format_func naming codes in the language of this run (bound now: AppTest calls it outside the run)."""
    language = lang()
    return lambda code: i18n.t(f"{prefix}{code}", language)


def _choice_row() -> tuple[str, list[str], str | None]:
    cols = st.columns([2, 3, 2])
    measure = cols[0].selectbox(tr("explore.measure"), MEASURES, key=KEYS["measure"],
                                format_func=_names("explore.measure."))
    dims = cols[1].multiselect(tr("explore.dimensions"), DIMENSIONS, key=KEYS["dims"],
                               max_selections=MAX_DIMENSIONS, format_func=_names("explore.dim."),
                               placeholder=tr("explore.no_dimension"))
    grain = cols[2].selectbox(tr("explore.grain"), (NO_GRAIN,) + GRAINS, key=KEYS["grain"],
                              format_func=_names("explore.grain_"))
    return measure, list(dims), None if grain == NO_GRAIN else grain


def _filter_rows(db, measure: str) -> AnalyticsFilters:
    cols = st.columns([1, 1, 2])
    date_from = cols[0].date_input(tr("explore.from"), key=KEYS["date_from"], format="YYYY-MM-DD")
    date_to = cols[1].date_input(tr("explore.to"), key=KEYS["date_to"], format="YYYY-MM-DD")
    basis = cols[2].segmented_control(tr("explore.basis"), ("event", "order"), key=KEYS["basis"], required=True,
                                      format_func=_names("explore.basis_"))
    language = lang()
    kind = "return" if "return" in measure else "void"
    reasons = {code: text for (k, code), text in catalog.reason_labels(db, language).items() if k == kind}
    options = {"reasons": reasons, "categories": catalog.categories(db, language),
               "warehouses": catalog.warehouses(db, language),
               "reps": {u["username"]: u["display_name"] for u in catalog.users_by_role(db, ("sales",))}}
    chosen = {}
    for col, (name, choices) in zip(st.columns(4), options.items()):
        key = KEYS[name]
        st.session_state[key] = [c for c in st.session_state.get(key) or [] if c in choices]
        label = tr(f"explore.filter.{kind}_reasons") if name == "reasons" else tr(f"explore.filter.{name}")
        no_reason = name == "reasons" and measure in NO_REASON
        chosen[name] = tuple(col.multiselect(label, list(choices), key=key, placeholder=tr("explore.all"),
                                             format_func=lambda c, o=choices: o.get(c, c), disabled=no_reason,
                                             help=tr("explore.no_reason_help") if no_reason else None))
    return AnalyticsFilters(date_from=date_from, date_to=date_to, basis=basis or "event", **chosen)


def _show(table: Table, name: str, key: str, pivot_of: tuple) -> None:
    """The table; a click on a cell opens Search on the orders behind it (pivot_of: filters, measure, grain)."""
    config = {c: st.column_config.NumberColumn(c, format="%.2f") for c in table.money}
    shown = table.frame
    if table.percent:   # a rate without a base shows an empty cell, not "None" (the grid's word for a missing number)
        language = lang()
        shown = shown.style.format(lambda v: "" if pd.isna(v) else i18n.fmt_pct(v, language, 2), subset=table.percent)
    event = show_table(shown, hide_index=True, width="stretch", column_config=config, key=key,
                       on_select="rerun", selection_mode="single-cell")
    chosen = event.selection.cells if event and event.selection else []
    cell = table.cell(int(chosen[0][0]), chosen[0][1]) if chosen else None
    if cell is not None:
        _drill(*pivot_of, cell)
    st.caption(tr("explore.row_count", n=i18n.fmt_int(len(table.frame))))
    table_downloads(table.frame, name, key)
