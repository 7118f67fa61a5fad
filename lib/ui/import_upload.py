"""Import wizard, step 1: what to import, the file, its encoding (CSV) or sheet (Excel), and optionally a saved
mapping."""
import hashlib
from dataclasses import dataclass

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.imports import KINDS, Mapping, Source, from_json, read_bytes
from lib.imports.excel import list_sheets
from lib.imports.sniff import ENCODINGS, MAX_SKIP_ROWS, file_format
from lib.queries.settings import read_rules
from lib.ui.context import lang, md_escape, show_error, tr

FILE_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "parquet", "pq"]


@dataclass
class Upload:
    kind: str
    source: Source
    token: str                    # changes with the file, its encoding and the kind: keys the later steps' widgets
    saved_mapping: Mapping | None


def upload_step(db) -> Upload | None:
    """The chosen kind and the file as read (kept in the session across reruns); None until there is one."""
    # Labels are made now, in this run's language: a format_func is also called outside the run.
    kinds = {k: tr(f"import.kind.{k}") for k in KINDS}
    kind = st.selectbox(tr("import.kind"), KINDS, format_func=kinds.get, key="import_kind")
    st.caption(tr(f"import.help.{kind}"))
    limit_mb = _limit_mb(db)
    cols = st.columns([3, 1])
    upload = cols[0].file_uploader(tr("import.file", limit=i18n.fmt_int(limit_mb, lang())),
                                   type=FILE_TYPES, key=f"import_file_{st.session_state.get('import_round', 0)}")
    encodings = {e: tr("import.encoding_auto") if e == "auto" else e.upper() for e in ENCODINGS}
    encoding = cols[1].selectbox(tr("import.encoding"), ENCODINGS, key="import_encoding", format_func=encodings.get)
    more = st.columns([3, 1])
    saved = more[0].file_uploader(tr("import.mapping_file"), type=["json"], key="import_mapping_file")
    skip = more[1].number_input(tr("import.skip_rows"), min_value=0, max_value=MAX_SKIP_ROWS, value=None, step=1,
                                placeholder=tr("import.skip_rows_auto"), help=tr("import.skip_rows_help"),
                                key="import_skip_rows")
    if upload is None:
        st.session_state.pop("import_source", None)
        return None
    mapping = _saved_mapping(saved, kind)
    if skip is None and mapping is not None:
        skip = mapping.skip_rows
    sheet = _sheet_choice(upload, mapping.sheet if mapping else None)
    source = _read(upload, encoding, sheet, None if skip is None else int(skip), limit_mb)
    if source is None:
        return None
    st.caption(_describe(source))
    token = hashlib.sha1(f"{upload.file_id}|{encoding}|{sheet}|{skip}|{kind}|{saved.file_id if saved else ''}".encode())
    return Upload(kind, source, token.hexdigest()[:10], mapping)


def _sheet_choice(upload, saved: str | None) -> str | None:
    """An Excel workbook's sheet: a choice when it has several (first the saved mapping's sheet, else the first
    holding a table); else None."""
    try:
        if file_format(upload.name, upload.getvalue()[:64 * 1024]) != "excel":
            return None
    except VoidDeskError:
        return None   # reading the file says why
    kept = st.session_state.get("import_sheets")
    if not kept or kept["key"] != upload.file_id:
        try:
            kept = {"key": upload.file_id, "listing": list_sheets(upload.getvalue())}
        except VoidDeskError:
            return None
        st.session_state["import_sheets"] = kept
    sheets, default = kept["listing"]
    if len(sheets) < 2:
        return None
    names = [s.name for s in sheets]
    default = saved if saved in names else default
    shown = {s.name: s.name if s.rows is None else
             tr("import.sheet_rows", name=s.name, rows=i18n.fmt_int(s.rows, lang())) for s in sheets}
    return st.selectbox(tr("import.sheet"), names, index=names.index(default), format_func=shown.get,
                        key=f"import_sheet_{upload.file_id}")


def _limit_mb(db) -> int:
    """The Rules page's largest import file, within what this server accepts as an upload (server.maxUploadSize)."""
    with db.read() as cur:
        rule = read_rules(cur).import_max_mb
    return min(rule, int(st.get_option("server.maxUploadSize")))


def _read(upload, encoding: str, sheet: str | None, skip: int | None, limit_mb: int) -> Source | None:
    key = (upload.file_id, upload.name, encoding, sheet, skip, limit_mb)
    kept = st.session_state.get("import_source")
    if kept and kept["key"] == key:
        return kept["source"]
    bar = st.progress(0.0, text=tr("import.progress.read_file"))
    try:
        source = read_bytes(upload.name, upload.getvalue(), encoding, sheet, skip_rows=skip, max_mb=limit_mb,
                            progress=lambda f: bar.progress(f, text=tr("import.progress.read_file")))
    except VoidDeskError as exc:
        show_error(exc)
        return None
    finally:
        bar.empty()
    st.session_state["import_source"] = {"key": key, "source": source}
    return source


def _saved_mapping(saved, kind: str) -> Mapping | None:
    if saved is None:
        return None
    try:
        return from_json(saved.getvalue().decode("utf-8-sig", errors="replace"), kind)
    except VoidDeskError as exc:
        show_error(exc)
        return None


def _describe(source: Source) -> str:
    """What was read, for a caption: the file's own words (its name, sheet, separator) escaped for Markdown."""
    rows, columns = i18n.fmt_int(source.rows, lang()), i18n.fmt_int(len(source.headers), lang())
    header = (" " + tr("import.header_on_row", row=i18n.fmt_int(source.header_row, lang()))
              if source.header_row > 1 else "")
    if source.format == "csv":
        delimiter = tr("import.delimiter_tab") if source.delimiter == "\t" else md_escape(source.delimiter)
        return tr("import.read_csv", name=md_escape(source.name), rows=rows, columns=columns,
                  encoding=source.encoding.upper(), delimiter=delimiter) + header
    return tr(f"import.read_{source.format}", name=md_escape(source.name), rows=rows, columns=columns,
              sheet=md_escape(source.sheet)) + header
