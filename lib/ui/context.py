"""Per-session context for pages: the database handle, the language, translated text."""
import re

import streamlit as st

from lib import i18n
from lib.config import db_path, default_language
from lib.db import Database, data_as_of, open_database
from lib.errors import VoidDeskError


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    return open_database(path)


def database() -> Database:
    """The process-wide database handle (migrated on first use)."""
    return _database(db_path())


def lang() -> str:
    return st.session_state.setdefault("lang", default_language())


def tr(key: str, **params) -> str:
    """`key` in the session's language."""
    return i18n.t(key, lang(), **params)


def label(kind: str, code: str | None) -> str:
    return i18n.label(kind, code, lang())


def data_as_of_caption(db) -> None:
    """On PostgreSQL, when the analytics copy this page reads was taken ("Data as of 14:03:05"); nothing on a DuckDB
    file, which analytics read directly."""
    taken = data_as_of(db)
    if taken is not None:
        st.caption(tr("common.data_as_of", time=taken.strftime("%H:%M:%S")), help=None)


def show_error(exc: VoidDeskError) -> None:
    """A refusal from the service layer, in the user's words."""
    st.error(message_md(exc), icon=":material/block:")


def message_md(exc: VoidDeskError) -> str:
    """A refusal's message for anything Streamlit renders as Markdown (alerts, flashes, help tooltips): its
    parameters — an order number from the URL, a name from the data — escaped, the catalogue's words as written."""
    return exc.message(lang(), md_escape)


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$&"
# Streamlit also turns bare URLs and e-mail addresses into links, and :emoji: and :material/icon: codes into pictures,
# from the text as shown (after the escapes): an invisible word joiner after ":" and "@" and inside "www." stops that.
_LINK_STARTS = re.compile(r"(?<=[:@])|(?i:(?<=www)(?=\.))")


def md_escape(text) -> str:
    """User or data text made inert for Markdown (no links, images, emphasis or HTML); it reads the same.

    For st.markdown, captions, titles, alerts, widget labels, help tooltips and page_link labels, which Streamlit
    renders as Markdown; not for st.text, st.code, dataframe cells or select options, where the backslashes show."""
    text = _LINK_STARTS.sub("\u2060", str(text))
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
