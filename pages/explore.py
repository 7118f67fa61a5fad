"""Explore (SPEC §8): a pivot of any measure by up to two dimensions and a time grain, and, for analysts and
administrators, a SQL console over the tables where only reads are possible."""
import streamlit as st

from lib.domain import can
from lib.ui.context import data_as_of_caption, database, tr
from lib.ui.explore_console import console_panel
from lib.ui.explore_pivot import pivot_panel
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("analytics.view")

st.title(tr("explore.title"))
st.caption(tr("explore.subtitle"))
data_as_of_caption(database())
if can(user, "sql.console"):
    pivot_tab, console_tab = st.tabs([tr("explore.tab_pivot"), tr("explore.tab_console")])
    with pivot_tab:
        pivot_panel(db)
    with console_tab:
        console_panel(db)
else:
    pivot_panel(db)
