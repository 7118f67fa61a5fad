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


def namer(prefix: str):
    """A format_func naming a code by the text of `prefix` + code in the language of this run (bound now: AppTest
    formats a widget's value outside the run)."""
    language = lang()
    return lambda code: i18n.t(f"{prefix}{code}", language)


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


# Characters that make Markdown wherever they stand (emphasis, code, links, images, HTML, entities, strikethrough,
# maths, tables); "_" only where it can open or close emphasis, i.e. not between two letters or digits ("SO_1"); and
# those that only start a block (heading, list, setext underline, ordered list "1." / "1)") at the start of a line.
_MD_ALWAYS = frozenset("\\`*[]<>~$&|")
_MD_LINE_START = re.compile(r"[ \t]*(?:[#\-+=]|\d{1,9}(?=[.)]))")
# Streamlit also turns bare URLs and e-mail addresses into links, and :emoji: and :material/icon: codes into pictures,
# from the text as shown (after the escapes): an invisible word joiner after ":" and "@" and inside "www." stops that.
_LINK_STARTS = re.compile(r"(?<=[:@])|(?i:(?<=www)(?=\.))")


def md_escape(text) -> str:
    """User or data text made inert for Markdown (no links, images, emphasis, blocks or HTML); it reads the same.

    Only what Markdown would act on is escaped, so an order number, SKU or name without such characters comes out as
    it went in — which matters for widget labels, whose accessible name (aria-label) is the text before Markdown.
    For st.markdown, captions, titles, alerts, widget labels, help tooltips and page_link labels, which Streamlit
    renders as Markdown; not for st.text, st.code, dataframe cells or select options, where the backslashes show."""
    text = _LINK_STARTS.sub("\u2060", str(text))
    line_marks = set()   # where a block marker stands: the first of "#-+=" on a line, or the "."/")" after "1"
    for line in re.finditer(r"[^\r\n]*", text):
        if found := _MD_LINE_START.match(text, line.start(), line.end()):
            line_marks.add(found.end() - 1 if text[found.end() - 1] in "#-+=" else found.end())
    last = len(text) - 1
    return "".join(
        "\\" + ch if (ch in _MD_ALWAYS or i in line_marks
                      or (ch == "_" and not (0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum())))
        else ch
        for i, ch in enumerate(text))
