"""The analytics the pages show, cached with st.cache_data; a page clears them after each write it makes.

Per process, cleared by the app's own writes: the CLI cannot write the DuckDB file while the app holds it.
"""
import streamlit as st

from lib.analytics import explore, returns, voids
from lib.db import Database
from lib.domain import User

TTL_SECONDS = 600
MAX_ENTRIES = 64   # per function
# The handle by its file (never by content); a user by what the figures depend on (a renamed user shares entries).
_KEYS = {Database: lambda db: db.path, User: lambda user: (user.role, user.id, user.language)}


def _cached(fn):
    return st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False, hash_funcs=_KEYS)(fn)


void_dashboard = _cached(voids.dashboard)
returns_dashboard = _cached(returns.returns_dashboard)
pivot = _cached(explore.pivot)


def clear_read_caches() -> None:
    """Forget every cached read (call right after a successful write: a void, a return, an import, …)."""
    st.cache_data.clear()
