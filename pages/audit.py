"""The audit log (SPEC §7): every state change, searchable by actor, action, entity and period; CSV export."""
from datetime import datetime, timedelta

import streamlit as st

from lib import clock, i18n
from lib.errors import VoidDeskError
from lib.queries.audit import export_audit_csv, search_audit
from lib.queries.catalog import reason_labels
from lib.services.change_feed import FORMATS, as_bytes, export_changes, marks
from lib.ui.audit_cells import change_words
from lib.ui.context import database, lang, show_error, tr
from lib.ui.guard import signed_in_user
from lib.ui.tables import show_table

PAGE = 100
# Every action the app records, by what it is about (the audit log's own words for them: audit.action.<code>).
ACTION_GROUPS = {
    "void": ("void.request", "void.approve", "void.reject", "void.apply", "void.restore"),
    "order": ("order.create", "order.status", "order.payment", "order.assign", "order.comment", "order.update",
              "order.import_lines"),
    "return": ("return.create", "return.receive", "return.inspect", "return.close"),
    "refund": ("refund.create", "refund.paid", "refund.cancel"),
    "stock": ("stock.adjust", "stock.import"),
    "import": ("import.run", "import.fail"),
    "catalog": ("customer.update", "product.update", "warehouse.create", "warehouse.rename", "category.create",
                "category.rename", "category.move", "reason.create", "reason.update", "reason.retire",
                "reason.reactivate", "reason.move", "settings.update"),
    "user": ("user.create", "user.set_role", "user.set_email", "user.deactivate", "user.reactivate",
             "user.reset_password", "user.change_password", "user.retire_temporary_password", "user.set_language",
             "auth.login", "auth.logout"),
    "chat": ("chat.channel.create", "chat.channel.update", "chat.channel.enable", "chat.channel.disable",
             "chat.channel.delete", "chat.channel.test", "chat.delivery.resend"),
    "analytics": ("spike.alert",),
}
ENTITIES = ("order", "void", "return", "refund", "comment", "stock", "import", "customer", "product", "warehouse",
            "category", "reason", "setting", "user", "chat_channel", "chat_delivery")


def action_words(code: str) -> str:
    """An action (or a group of them, "void.") in the reader's words; an action the catalogue lacks as it is."""
    if code.endswith("."):
        return tr("audit.action_group", group=tr(f"audit.group.{code[:-1]}"))
    words = tr(f"audit.action.{code}")
    return code if words == f"audit.action.{code}" else words


db = database()
user = signed_in_user("audit.view")

st.title(tr("audit.title"))
st.caption(tr("audit.subtitle"))
row = st.columns(4)
actor = row[0].text_input(tr("audit.actor"), key="audit_actor", placeholder=tr("audit.actor_hint"))
# Actions and records chosen by name; "All void actions" and the like are the prefixes search_audit takes.
actions = [a for group in ACTION_GROUPS for a in (group + ".", *ACTION_GROUPS[group])]
action = row[1].selectbox(tr("audit.action"), actions, index=None, key="audit_action",
                          placeholder=tr("filter.any"), format_func=action_words)
entity = row[2].selectbox(tr("audit.entity"), ENTITIES, index=None, key="audit_entity", placeholder=tr("filter.any"),
                          format_func=lambda e: tr(f"audit.entity.{e}"))
period = row[3].date_input(tr("audit.period"), value=(clock.today() - timedelta(days=30), clock.today()),
                           key="audit_period")
date_from, date_to = (period + (None, None))[:2] if isinstance(period, tuple) else (period, None)
filters = dict(actor=actor.strip() or None, action=action, entity_type=entity, date_from=date_from, date_to=date_to)
page_no = st.session_state.get("audit_page", 1)
try:
    total, rows = search_audit(db, user, **filters, limit=PAGE, offset=(page_no - 1) * PAGE)
except VoidDeskError as exc:
    show_error(exc)
    st.stop()
st.caption(tr("audit.count", n=i18n.fmt_int(total, lang())))
reasons = reason_labels(db, lang())
shown = rows.assign(action=rows["action"].map(action_words),
                    entity_type=rows["entity_type"].map(lambda e: tr(f"audit.entity.{e}")),
                    **{side: [change_words(text, kind, lang(), reasons, action)   # in words, not the JSON kept
                              for text, kind, action in zip(rows[side], rows["entity_type"], rows["action"])]
                       for side in ("before", "after")})
for column in ("order_no", "before", "after", "note"):   # an empty cell says nothing, not "None"
    shown[column] = shown[column].astype(object).where(shown[column].notna(), "")
show_table(shown, hide_index=True, width="stretch", height=520, column_config={
    "id": st.column_config.NumberColumn(tr("audit.col.id"), format="%d", width="small"),
    "created_at": st.column_config.DatetimeColumn(tr("col.created"), format="YYYY-MM-DD HH:mm:ss"),
    "actor_name": tr("audit.col.actor"), "action": tr("audit.action"), "entity_type": tr("audit.entity"),
    "entity_id": tr("audit.col.entity_id"),
    "order_no": st.column_config.TextColumn(tr("col.order_no"), width="medium"),   # never cut short
    "before": st.column_config.TextColumn(tr("audit.before"), width="medium"),
    "after": st.column_config.TextColumn(tr("audit.after"), width="medium"), "note": tr("audit.col.note")})
pages = max(1, -(-total // PAGE))
if pages > 1:
    chosen = st.pagination(pages, default=min(page_no, pages), key=f"audit_pager_{pages}_{page_no}")
    if chosen != page_no:
        st.session_state["audit_page"] = chosen
        st.rerun()

if st.button(tr("audit.prepare_export"), icon=":material/download:", key="audit_export"):
    try:
        st.session_state["audit_csv"] = (repr(filters), export_audit_csv(db, user, **filters))
    except VoidDeskError as exc:
        show_error(exc)
prepared = st.session_state.get("audit_csv")
if prepared and prepared[0] == repr(filters):
    st.download_button(tr("audit.download"), prepared[1], file_name="audit.csv", mime="text/csv",
                       on_click="ignore", icon=":material/download:")

# The change feed for the ERP (issue #15): the same rows the nightly `export changes --since last` sends, by date
# here (a download never moves a target's mark); and how far each target's job has read.
st.divider()
st.subheader(tr("changes.title"))
st.caption(tr("changes.caption"))
row = st.columns([2, 1, 2], vertical_alignment="bottom")
since = row[0].date_input(tr("changes.since"), value=clock.today() - timedelta(days=7), key="changes_since")
fmt = row[1].selectbox(tr("changes.format"), FORMATS, key="changes_format",
                       format_func={"csv": "CSV", "xlsx": "Excel (.xlsx)", "parquet": "Parquet"}.get)
if row[2].button(tr("changes.prepare"), icon=":material/sync_alt:", key="changes_prepare"):
    try:
        feed = export_changes(db, user, datetime.combine(since, datetime.min.time()))
        st.session_state["changes_file"] = ((since, fmt), len(feed.rows), as_bytes(feed.rows, fmt))
    except VoidDeskError as exc:
        show_error(exc)
made = st.session_state.get("changes_file")
if made and made[0] == (since, fmt):
    st.download_button(tr("changes.download", n=i18n.fmt_int(made[1], lang())), made[2],
                       file_name=f"voiddesk-changes-since-{since:%Y%m%d}.{fmt}", on_click="ignore",
                       icon=":material/download:", key="changes_download")
targets = marks(db, user)
if not targets.empty:
    show_table(targets, hide_index=True, column_config={
        "target": tr("changes.target"), "rows": tr("changes.rows"), "exported_by": tr("changes.exported_by"),
        "exported_at": st.column_config.DatetimeColumn(tr("changes.exported_at"), format="YYYY-MM-DD HH:mm:ss")})
