"""VoidDesk — the router: page config, database, sign-in gate, navigation for the user's role."""
import streamlit as st

from lib import replica
from lib.ui import chat_worker, mail_worker, nav, sidebar
from lib.ui.context import database, tr
from lib.ui.session import current_user, login_page, sync_cookie

st.set_page_config(page_title="VoidDesk", page_icon=":material/assignment_return:", layout="wide")

db = database()
mail_worker.start(db, db.path)
chat_worker.start_if_configured(db)   # team-chat notifications, out of band (issue #17)
replica.warm_up(db)   # PostgreSQL: the analytics copy is made in the background as the process starts
user = current_user(db)
sync_cookie()

if user is None:
    page = st.navigation([st.Page(login_page, title=tr("auth.title"), url_path="login", default=True)],
                         position="hidden")
else:
    page = nav.navigation(user)
    sidebar.render(db, user)
page.run()
