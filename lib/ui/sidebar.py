"""The sidebar every signed-in page shares: who you are, unread notifications, language, sign out."""
import streamlit as st

from lib.db import Database
from lib.domain import User
from lib.queries.notifications import unread_count
from lib.ui.context import label, md_escape, tr
from lib.ui.session import language_switch, sign_out


def render(db: Database, user: User) -> None:
    with st.sidebar:
        st.caption(tr("auth.signed_in_as", name=md_escape(user.display_name), role=label("role", user.role)))
        unread = unread_count(db, user)
        if unread:
            st.page_link("pages/inbox.py", label=tr("sidebar.unread", n=unread), icon=":material/notifications_active:")
        language_switch(user, st.sidebar)
        st.button(tr("auth.logout"), icon=":material/logout:", key="logout", on_click=_sign_out, args=(db,))


def _sign_out(db: Database) -> None:
    # A callback runs before the script, so this very run already shows the sign-in page.
    sign_out(db)
