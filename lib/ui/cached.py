"""The analytics the pages show, cached with st.cache_data; a page clears them after each write it makes.

On a DuckDB file, per process, cleared by the app's own writes: the CLI cannot write the file while the app holds
it. On PostgreSQL, other replicas and scheduled jobs write too: an entry is keyed by the version of this process's
analytics copy (lib.replica), which moves on as soon as a refresh brings any change, so no entry outlives the data
it was computed from by more than the copy's one-second refresh.
"""
import streamlit as st

from lib.analytics import explain, explore, returns, voids
from lib.db import Database
from lib.db_postgres import PgDatabase
from lib.domain import User
from lib.replica import copy_of

TTL_SECONDS = 600
MAX_ENTRIES = 64   # per function
# The handle by its file (never by content); a user by what the figures depend on (a renamed user shares entries).
_KEYS = {Database: lambda db: db.path, PgDatabase: lambda db: (db.path, copy_of(db).fresh().version),
         User: lambda user: (user.role, user.id, user.language)}


def _cached(fn):
    return st.cache_data(ttl=TTL_SECONDS, max_entries=MAX_ENTRIES, show_spinner=False, hash_funcs=_KEYS)(fn)


void_dashboard = _cached(voids.dashboard)
returns_dashboard = _cached(returns.returns_dashboard)
pivot = _cached(explore.pivot)
explain_all = _cached(explain.explain_all)


def clear_read_caches() -> None:
    """Forget every cached read (call right after a successful write: a void, a return, an import, …)."""
    st.cache_data.clear()
