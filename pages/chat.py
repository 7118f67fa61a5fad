"""Team chat (issue #17 part 2): WeCom, DingTalk, Slack and webhook channels for administrators, and what was sent."""
import streamlit as st

from lib.queries.chat import base_url_of, channels
from lib.ui import chat_admin as parts, chat_worker
from lib.ui.context import database, tr
from lib.ui.guard import signed_in_user

db = database()
user = signed_in_user("chat.manage")
chat_worker.start(db, db.path)   # the sender runs from the first channel on

st.title(tr("chat.title"))
st.caption(tr("chat.subtitle"))
parts.flash()
with db.read() as cur:
    parts.base_url_form(db, user, base_url_of(cur))
parts.channel_list(db, user, channels(db, user))
parts.add_form(db, user)
parts.history(db, user)
