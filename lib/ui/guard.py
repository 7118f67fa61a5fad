"""Every page checks its own reader: Streamlit can run a file of pages/ directly (its pages-folder
fallback on a server's first run, or in AppTest), without app.py's sign-in gate in front of it."""
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from lib.domain import User, refusal
from lib.ui.context import database, show_error, tr
from lib.ui.session import current_user, login_page


def signed_in_user(action: str | None = None, *, account_page: bool = False) -> User:
    """The signed-in user allowed to do `action`; otherwise show sign-in or the refusal and stop."""
    user = current_user(database())
    if user is None:
        login_page()
        st.stop()
    if user.must_change_password and not account_page:
        st.warning(tr("auth.must_change"), icon=":material/key:")
        try:
            st.page_link("pages/account.py", label=tr("nav.account"), icon=":material/person:")
        except StreamlitPageNotFoundError:   # this page runs on its own: there is no navigation to link into
            pass
        st.stop()
    denied = refusal(user, action) if action else None
    if denied is not None:
        show_error(denied)
        st.stop()
    return user


def fragment_user(action: str) -> User:
    """signed_in_user() for a fragment, whose own reruns skip app.py's gate and the page's check: the user re-checked
    against the database, or — signed out, expired, refused — the whole app reruns and says why."""
    user = current_user(database())
    if user is None or user.must_change_password or refusal(user, action) is not None:
        st.rerun(scope="app")
    return user
