"""Import wizard, step 3: check every row and preview the first ones as they will be stored; rejected rows as a
table and a downloadable report; when nothing is rejected, load it all in one go, with progress."""
import os

import pandas as pd
import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.imports import ImportResult, Mapping, check_import, run_import
from lib.imports.upsert import ACTIONS, KINDS as UPSERT_KINDS, MODES
from lib.ui.cached import clear_read_caches
from lib.ui.context import label, lang, md_escape, show_error, tr
from lib.ui.import_upload import Upload
from lib.ui.tables import show_table

_LABELLED = {"status": "status"}


def preview_step(db, user, upload: Upload, mapping: Mapping) -> None:
    """The check button, the last check's outcome (while the file and mapping are unchanged), and the load."""
    st.subheader(tr("import.step_check"))
    mode = _mode(upload)
    signature = (upload.token, mapping.to_json(), mode)
    if st.button(tr("import.check"), key="import_check_button", icon=":material/fact_check:"):
        st.session_state["import_checked"] = {"signature": signature,
                                              "result": _with_progress(check_import, db, user, upload, mapping,
                                                                       mode)}
    kept = st.session_state.get("import_checked")
    if not kept or kept["signature"] != signature or kept["result"] is None:
        st.caption(tr("import.check_hint"))
        return
    result = kept["result"]
    _show_preview(result)
    if not result.ok:
        _show_problems(result)
        return
    _show_outcome(result)
    st.success(tr("import.all_good", n=i18n.fmt_int(result.rows, lang())), icon=":material/check_circle:")
    if st.button(tr("import.load", n=i18n.fmt_int(result.rows, lang())), type="primary", key="import_load_button",
                 icon=":material/upload:"):
        loaded = _with_progress(run_import, db, user, upload, mapping, mode)
        st.session_state.pop("import_checked", None)
        if loaded is not None and loaded.ok:
            clear_read_caches()
            st.session_state["import_loaded"] = loaded
            st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1   # an empty uploader
            st.rerun()
        elif loaded is not None:   # the database changed since the check: show what is wrong now
            st.session_state["import_checked"] = {"signature": signature, "result": loaded}
            st.rerun()


def show_loaded() -> None:
    """The outcome of the last load, once, after the page reran."""
    loaded: ImportResult | None = st.session_state.pop("import_loaded", None)
    if loaded is None:
        return
    st.success(tr("import.loaded", n=i18n.fmt_int(loaded.loaded, lang()), name=md_escape(loaded.file_name)),
               icon=":material/task_alt:")
    _show_outcome(loaded, download=False)
    counts = pd.DataFrame([{"table": table, "rows": n} for table, n in loaded.counts.items()])
    show_table(counts, hide_index=True, column_config={"table": tr("import.col.table"),
                                                         "rows": tr("import.col.rows")})
    if loaded.kind in ("orders", "lines"):
        st.page_link("pages/search.py", label=tr("import.find_orders"), icon=":material/search:")


def _mode(upload: Upload) -> str:
    """New records only (the default), or records already here updated (for repeated loads from an ERP)."""
    if upload.kind not in UPSERT_KINDS:
        return "insert"
    return st.radio(tr("import.mode"), MODES, format_func=lambda m: tr(f"import.mode.{m}"), horizontal=True,
                    key=f"import_mode_{upload.token}", help=tr("import.mode_help"))


def _show_outcome(result: ImportResult, download: bool = True) -> None:
    """An upsert's records inserted, updated, unchanged and in conflict; the conflicts and their report."""
    if result.outcome is None:
        return
    cells = st.columns(len(ACTIONS))
    for cell, action in zip(cells, ACTIONS):
        cell.metric(tr(f"import.outcome.{action}"), i18n.fmt_int(result.outcome[action], lang()))
    if result.conflicts is None:
        return
    st.warning(tr("import.conflicts", n=i18n.fmt_int(result.outcome["conflicts"], lang())), icon=":material/warning:")
    show_table(result.conflicts, hide_index=True, width="stretch",
               column_config={c: tr(f"import.report.{c}") for c in result.conflicts.columns})
    if download and result.conflict_report:
        stem = os.path.splitext(result.file_name)[0] or "import"
        st.download_button(tr("import.download_conflicts"), result.conflict_report, file_name=f"{stem}.conflicts.csv",
                           mime="text/csv", icon=":material/download:", key="import_conflicts_download",
                           on_click="ignore")


def _with_progress(work, db, user, upload: Upload, mapping: Mapping, mode: str = "insert") -> ImportResult | None:
    bar = st.progress(0.0, text=tr("import.progress.read"))
    try:
        result = work(db, user, upload.source, mapping, lang=lang(), mode=mode,
                      progress=lambda f, key: bar.progress(min(1.0, f), text=tr(key)))
    except VoidDeskError as exc:
        show_error(exc)
        return None
    finally:
        bar.empty()
    return result


def _show_preview(result: ImportResult) -> None:
    st.markdown(f"**{tr('import.preview_title', n=len(result.preview))}**")
    frame = result.preview.copy()
    for column, kind in _LABELLED.items():
        if column in frame:
            frame[column] = frame[column].map(lambda c: label(kind, c) if isinstance(c, str) else c)
    show_table(frame, hide_index=True, width="stretch",
               column_config={c: tr(f"import.col.{c}") for c in frame.columns})


def _show_problems(result: ImportResult) -> None:
    st.error(tr("import.rejected", n=i18n.fmt_int(result.rejected, lang()), rows=i18n.fmt_int(result.rows, lang())),
             icon=":material/block:")
    show_table(result.problems, hide_index=True, width="stretch",
               column_config={c: tr(f"import.report.{c}") for c in result.problems.columns})
    stem = os.path.splitext(result.file_name)[0] or "import"
    st.download_button(tr("import.download_report"), result.report, file_name=f"{stem}.rejects.csv",
                       mime="text/csv", icon=":material/download:", key="import_report_download", on_click="ignore")
