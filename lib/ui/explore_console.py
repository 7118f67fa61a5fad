"""The Explore page's read-only SQL console: a text area, Run, the result with its row count and time, the
readable tables beside it. Refusals and failures are shown as plain text, never as a traceback."""
import streamlit as st

from lib import i18n
from lib.analytics import console, console_pool, console_snapshot
from lib.errors import VoidDeskError
from lib.ui.context import show_error, tr
from lib.ui.guard import fragment_user
from lib.ui.table_export import table_downloads
from lib.ui.tables import show_table

ROW_LIMIT = 10_000
TIME_LIMIT_S = 10
EXAMPLE = "SELECT status, count(*) AS orders\nFROM orders\nGROUP BY status\nORDER BY orders DESC"


@st.fragment   # Run and the schema list change only the console: they rerun this panel, not the pivot
def console_panel(db) -> None:
    """The whole console part of the page (only for roles with "sql.console")."""
    user = fragment_user("sql.console")
    console_pool.warm_up()   # the worker process starts while the analyst types
    left, right = st.columns([3, 1])
    with right:
        _schema_list(db, user)
    with left:
        st.caption(tr("console.hint", rows=i18n.fmt_int(ROW_LIMIT), mb=console.RESULT_MB, seconds=TIME_LIMIT_S))
        st.text_area(tr("console.sql"), key="console_sql", height=180, max_chars=console.MAX_SQL,
                     placeholder=EXAMPLE)
        if st.button(tr("console.run"), type="primary", key="console_run", icon=":material/play_arrow:"):
            _run(db, user, st.session_state.get("console_sql") or "")
        _show_outcome()


def _run(db, user, sql: str) -> None:
    st.session_state.pop("console_result", None)
    st.session_state.pop("console_error", None)
    try:
        st.session_state["console_result"] = console.run_readonly(db, user, sql, row_limit=ROW_LIMIT,
                                                                  time_limit_s=TIME_LIMIT_S)
    except VoidDeskError as exc:
        st.session_state["console_error"] = exc


def _show_outcome() -> None:
    error = st.session_state.get("console_error")
    if error is not None:
        show_error(error)   # its parameters (a table name, DuckDB's own words) escaped like every refusal's
        return
    result = st.session_state.get("console_result")
    if result is None:
        return
    summary = tr("console.summary", n=i18n.fmt_int(len(result.frame)), ms=f"{result.elapsed_ms:,.0f}")
    if result.data_as_of is not None:   # how fresh: the console reads a snapshot (lib.analytics.console_snapshot)
        summary += " · " + tr("console.data_as_of", time=result.data_as_of.strftime("%H:%M:%S"))
    st.caption(summary, help=tr("console.data_as_of_help", seconds=console_snapshot.MAX_AGE_S))
    if result.bytes_cut:
        st.warning(tr("console.truncated_bytes", n=i18n.fmt_int(len(result.frame)), mb=console.RESULT_MB),
                   icon=":material/content_cut:")
    elif result.truncated:
        st.warning(tr("console.truncated", n=i18n.fmt_int(len(result.frame))), icon=":material/content_cut:")
    show_table(result.frame, hide_index=True, width="stretch", key="console_table")
    table_downloads(result.frame, "query-result", "console_result")


def _schema_list(db, user) -> None:
    st.markdown(f"**{tr('console.tables')}**")
    with st.container(height=460, border=False):
        for table, columns in console.schema(db, user).items():
            with st.expander(table):
                st.code(", ".join(columns), language=None, wrap_lines=True)
    st.caption(tr("console.hidden_note"))
