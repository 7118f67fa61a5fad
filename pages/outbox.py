"""The mail outbox for administrators: without SMTP every message waits here; with it, sent and failed ones."""
import streamlit as st

from lib import i18n
from lib.queries.notifications import outbox
from lib.services.notify import queue_mail
from lib.ui.context import database, lang, tr
from lib.ui.guard import signed_in_user
from lib.ui.mail_worker import smtp_settings
from lib.ui.tables import show_table

db = database()
user = signed_in_user("users.manage")

st.title(tr("outbox.title"))
st.caption(tr("outbox.configured") if smtp_settings() else tr("outbox.not_configured"))
status = st.segmented_control(tr("col.status"), ["queued", "sending", "sent", "failed"], key="outbox_status",
                              format_func=lambda s: tr(f"outbox.status.{s}"))
queue_mail(db)   # notifications made since the last send show up here at once
rows = outbox(db, user, status=status)
st.caption(tr("outbox.count", n=i18n.fmt_int(len(rows), lang())))
if "last_error" in rows:   # no error yet: an empty cell, not "None"
    rows["last_error"] = rows["last_error"].astype(object).where(rows["last_error"].notna(), "")
if "status" in rows:
    rows["status"] = rows["status"].map(lambda s: tr(f"outbox.status.{s}"))
show_table(rows, hide_index=True, width="stretch", column_config={
    "id": None, "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm"),
    "to_address": tr("outbox.to"), "subject": tr("outbox.subject"), "status": tr("col.status"),
    "attempts": tr("outbox.attempts"), "last_error": tr("outbox.last_error"),
    "sent_at": st.column_config.DatetimeColumn(tr("outbox.sent_at"), format="YYYY-MM-DD HH:mm")})
