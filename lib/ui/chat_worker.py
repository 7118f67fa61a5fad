"""Posts the team-chat outbox in the background of the app process (issue #17 part 2), beside the mail sender.

Every few seconds: new events from the audit log become deliveries and what is due is posted
(lib.services.chat_delivery). The thread starts with the app once a channel exists, or when an administrator opens
the team-chat page (where the first one is added). A slow or failing channel delays only this thread; voids never
wait for it.
"""
import logging
import threading

import streamlit as st

from lib.db import Database, scalar
from lib.services.chat_delivery import send_pending

INTERVAL_SECONDS = 10
log = logging.getLogger("voiddesk.chat")
_running: set[str] = set()


def has_channels(db: Database) -> bool:
    with db.read() as cur:
        return bool(scalar(cur, "SELECT count(*) FROM chat_channels WHERE NOT deleted"))


def start_if_configured(db: Database) -> None:
    """Start the sender when any channel is set up (app.py, on every run: one small read until it runs)."""
    if db.path not in _running and has_channels(db):
        start(db, db.path)


def run_once(db: Database) -> dict | None:
    """One round, when any channel exists (else None)."""
    return send_pending(db) if has_channels(db) else None


@st.cache_resource(show_spinner=False)
def start(_db: Database, path: str) -> threading.Event:
    """One chat sender thread per process and database; returns its stop event."""
    stop = threading.Event()

    def loop():
        while not stop.wait(INTERVAL_SECONDS):
            try:
                run_once(_db)
            except Exception:  # a broken channel or database hiccup must never take the app down; rows stay queued
                log.exception("team chat outbox run failed")

    threading.Thread(target=loop, name="voiddesk-chat", daemon=True).start()
    _running.add(path)
    return stop
