"""Sends the mail outbox in the background of the app process when SMTP is configured (SPEC §7).

Settings come from .streamlit/secrets.toml [smtp] (host, port, username, password, from_address, starttls, ssl)
or the VOIDDESK_SMTP_* environment variables. Without them, mail simply stays in the outbox.
"""
import logging
import threading

import streamlit as st

from lib.db import Database
from lib.services.mailer import config_from_env, send_pending

INTERVAL_SECONDS = 60
log = logging.getLogger("voiddesk.mail")


def smtp_settings() -> dict | None:
    try:
        section = st.secrets.get("smtp")
    except Exception:  # no secrets.toml at all
        section = None
    if section and section.get("host"):
        return dict(section)
    return config_from_env()


@st.cache_resource(show_spinner=False)
def start(_db: Database, path: str) -> threading.Event | None:
    """One sender thread per process and database; returns its stop event (None when not configured)."""
    config = smtp_settings()
    if not config:
        return None
    stop = threading.Event()

    def loop():
        while not stop.wait(INTERVAL_SECONDS):
            try:
                send_pending(_db, config)
            except Exception:  # a broken mail server must never take the app down; messages stay queued
                log.exception("mail outbox run failed")

    threading.Thread(target=loop, name="voiddesk-mail", daemon=True).start()
    return stop
