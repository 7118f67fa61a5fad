"""Warehouses and categories (so a team can run VoidDesk on its own data): add, rename, re-order categories."""
import streamlit as st

from lib.services.catalog_admin import list_categories, list_warehouses
from lib.ui import admin_catalog as parts
from lib.ui.context import database, tr
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("settings.edit")

st.title(tr("catalog.title"))
st.caption(tr("catalog.subtitle"))
parts.show_flash()
tabs = st.tabs([tr("catalog.warehouses"), tr("catalog.categories")])
for tab, kind, listing in zip(tabs, ("warehouse", "category"), (list_warehouses, list_categories)):
    with tab:
        rows = listing(db, user)
        parts.entry_table(rows, kind)
        parts.edit_entry(db, user, kind, rows)
        parts.add_form(db, user, kind)
