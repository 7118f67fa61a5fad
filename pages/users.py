"""Users (SPEC §9): accounts with role and last sign-in; create, set role, reset password, deactivate."""
import streamlit as st

from lib.services.users import list_users
from lib.ui import admin_users as parts
from lib.ui.context import database, tr
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("users.manage")

st.title(tr("users.title"))
st.caption(tr("users.subtitle"))
parts.show_flash()
accounts = list_users(db, user)
parts.user_table(accounts)
parts.manage_user(db, user, accounts)
parts.create_form(db, user)
