"""My account: who I am, what my role may do, change password (forced after a reset)."""
import streamlit as st

from lib.domain import PERMISSIONS, can
from lib.errors import VoidDeskError
from lib.services import auth
from lib.ui.guard import signed_in_user
from lib.ui.context import database, label, show_error, tr

db = database()
user = signed_in_user(account_page=True)

st.title(tr("account.title"))
if user.must_change_password:
    st.warning(tr("auth.must_change"), icon=":material/key:")

left, right = st.columns(2)
with left:
    st.subheader(tr("account.profile"))
    st.markdown(f"**{tr('account.username')}:** `{user.username}`")
    st.markdown(f"**{tr('account.role')}:** {label('role', user.role)}")
    st.subheader(tr("account.may"))
    allowed = [tr(f"action.{a}") for a in PERMISSIONS if can(user, a)]
    st.markdown("\n".join(f"- {a}" for a in allowed))

with right:
    st.subheader(tr("account.change_password"))
    with st.form("change_password", clear_on_submit=True):
        old = st.text_input(tr("account.old_password"), type="password")
        new = st.text_input(tr("account.new_password"), type="password")
        again = st.text_input(tr("account.new_password2"), type="password")
        submitted = st.form_submit_button(tr("account.save"), type="primary")
    if submitted:
        if new != again:
            st.error(tr("auth.passwords_differ"))
        else:
            try:
                auth.change_password(db, user, old, new, keep=st.session_state.get("token"))
                st.session_state.pop("user", None)  # re-read, so must_change_password clears
                st.success(tr("account.changed"))
                st.rerun()
            except VoidDeskError as exc:
                show_error(exc)
