"""Import wizard, step 1: what to import, the file, its encoding, and optionally a saved mapping."""
import hashlib
from dataclasses import dataclass

import streamlit as st

from lib import i18n
from lib.errors import VoidDeskError
from lib.imports import KINDS, Mapping, Source, from_json, read_bytes
from lib.imports.sniff import ENCODINGS, max_bytes
from lib.ui.context import lang, show_error, tr

FILE_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "parquet", "pq"]


@dataclass
class Upload:
    kind: str
    source: Source
    token: str                    # changes with the file, its encoding and the kind: keys the later steps' widgets
    saved_mapping: Mapping | None


def upload_step() -> Upload | None:
    """The chosen kind and the file as read (kept in the session across reruns); None until there is one."""
    # Labels are made now, in this run's language: a format_func is also called outside the run.
    kinds = {k: tr(f"import.kind.{k}") for k in KINDS}
    kind = st.selectbox(tr("import.kind"), KINDS, format_func=kinds.get, key="import_kind")
    st.caption(tr(f"import.help.{kind}"))
    cols = st.columns([3, 1])
    upload = cols[0].file_uploader(tr("import.file", limit=i18n.fmt_int(max_bytes() // 1048576, lang())),
                                   type=FILE_TYPES, key=f"import_file_{st.session_state.get('import_round', 0)}")
    encodings = {e: tr("import.encoding_auto") if e == "auto" else e.upper() for e in ENCODINGS}
    encoding = cols[1].selectbox(tr("import.encoding"), ENCODINGS, key="import_encoding", format_func=encodings.get)
    saved = st.file_uploader(tr("import.mapping_file"), type=["json"], key="import_mapping_file")
    if upload is None:
        st.session_state.pop("import_source", None)
        return None
    source = _read(upload, encoding)
    if source is None:
        return None
    mapping = _saved_mapping(saved, kind)
    st.caption(_describe(source))
    token = hashlib.sha1(f"{upload.file_id}|{encoding}|{kind}|{saved.file_id if saved else ''}".encode()).hexdigest()
    return Upload(kind, source, token[:10], mapping)


def _read(upload, encoding: str) -> Source | None:
    key = (upload.file_id, upload.name, encoding)
    kept = st.session_state.get("import_source")
    if kept and kept["key"] == key:
        return kept["source"]
    try:
        source = read_bytes(upload.name, upload.getvalue(), encoding)
    except VoidDeskError as exc:
        show_error(exc)
        return None
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
    rows, columns = i18n.fmt_int(source.rows, lang()), i18n.fmt_int(len(source.headers), lang())
    if source.format == "csv":
        delimiter = tr("import.delimiter_tab") if source.delimiter == "\t" else source.delimiter
        return tr("import.read_csv", name=source.name, rows=rows, columns=columns,
                  encoding=source.encoding.upper(), delimiter=delimiter)
    return tr(f"import.read_{source.format}", name=source.name, rows=rows, columns=columns)
