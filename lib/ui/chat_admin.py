"""The team-chat page's parts (issue #17 part 2): the app's address, the channels (add, edit, test, disable,
delete), and the delivery history with Resend. Addresses and secrets are never put back into a widget."""
import pandas as pd
import streamlit as st

from lib import i18n
from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError
from lib.queries import chat as queries
from lib.services import chat_channels as service
from lib.services.chat_delivery import send_pending
from lib.services.chat_messages import EVENTS
from lib.services.chat_payloads import KINDS
from lib.ui.admin_common import act, flash_and_rerun, show_flash
from lib.ui.context import label, lang, md_escape, show_error, tr
from lib.ui.tables import show_table

FLASH = "chat_flash"
ADD_KEYS = ("chat_new_name", "chat_new_kind", "chat_new_url", "chat_new_secret", "chat_new_language",
            "chat_new_events")


def event_label(event: str) -> str:
    return tr(f"chat.event.{event}")


def flash() -> None:
    show_flash(FLASH)


def base_url_form(db: Database, actor: User, current: str | None) -> None:
    with st.form("chat_base_url"):
        url = st.text_input(tr("chat.base_url"), value=current or "", key="chat_base_url_input",
                            placeholder="https://voiddesk.example.com", help=tr("chat.base_url_help"))
        if not st.form_submit_button(tr("chat.save"), key="chat_base_url_save"):
            return
    _act(lambda: service.set_base_url(db, actor, url), tr("chat.base_url_saved"))


def channel_list(db: Database, actor: User, channels: list[dict]) -> None:
    st.subheader(tr("chat.channels"))
    if not channels:
        st.info(tr("chat.no_channels"), icon=":material/forum:")
    for channel in channels:
        _channel_box(db, actor, channel)


def _channel_box(db: Database, actor: User, channel: dict) -> None:
    key = f"chat_channel_{channel['id']}"
    with st.container(border=True, key=key):
        state = tr("chat.active" if channel["active"] else "chat.disabled")
        st.markdown(f"**{md_escape(channel['name'])}** · {label('chat.kind', channel['kind'])} · "
                    f"{i18n.LANGUAGES[channel['language']]} · {state}")
        st.caption(tr("chat.address_shown", address=md_escape(channel["address"]),
                      events=i18n.join_words([event_label(e) for e in channel["events"]], lang()) or "–",
                      sent=i18n.fmt_int(channel["sent"], lang()), problems=i18n.fmt_int(channel["problems"], lang())))
        cols = st.columns(4)
        if cols[0].button(tr("chat.test"), key=f"{key}_test", icon=":material/send:"):
            _test_send(db, actor, channel)
        toggle = "chat.disable" if channel["active"] else "chat.enable"
        if cols[1].button(tr(toggle), key=f"{key}_toggle"):
            _act(lambda: service.set_active(db, actor, channel["id"], channel["version"], not channel["active"]),
                 tr(f"{toggle}_done", name=md_escape(channel["name"])))
        edit = cols[2].toggle(tr("chat.edit"), key=f"{key}_edit")
        with cols[3].popover(tr("chat.delete"), icon=":material/delete:"):
            st.markdown(tr("chat.delete_confirm", name=md_escape(channel["name"])))
            if st.button(tr("chat.delete_yes"), key=f"{key}_delete", type="primary"):
                _act(lambda: service.delete_channel(db, actor, channel["id"], channel["version"]),
                     tr("chat.deleted", name=md_escape(channel["name"])))
        if edit:
            _edit_form(db, actor, channel, key)


def _test_send(db: Database, actor: User, channel: dict) -> None:
    try:
        audit_id = service.record_test(db, actor, channel["id"])
        send_pending(db, audit_ids=[audit_id])
    except VoidDeskError as exc:
        show_error(exc)
        return
    # by its status, not this run's counts: the background sender may have posted it meanwhile
    status = queries.delivery_status(db, actor, audit_id)
    outcome = "sent" if status == "sent" else "failed" if status in queries.RESENDABLE else "on_its_way"
    flash_and_rerun(FLASH, tr(f"chat.test_{outcome}", name=md_escape(channel["name"])))


def _edit_form(db: Database, actor: User, channel: dict, key: str) -> None:
    with st.form(f"{key}_form", clear_on_submit=True):
        name = st.text_input(tr("chat.name"), value=channel["name"], max_chars=service.MAX_NAME, key=f"{key}_name")
        url = st.text_input(tr("chat.webhook_url"), type="password", help=tr("chat.keep_blank"))
        secret = st.text_input(tr("chat.secret"), type="password", help=tr("chat.keep_blank")) \
            if channel["kind"] == "dingtalk" else None
        language = st.selectbox(tr("chat.language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
                                index=list(i18n.LANGUAGES).index(channel["language"]))
        events = st.multiselect(tr("chat.events"), EVENTS, default=channel["events"], format_func=event_label,
                                key=f"{key}_events")
        if not st.form_submit_button(tr("chat.save"), type="primary", key=f"{key}_save"):
            return
    _act(lambda: service.update_channel(db, actor, channel["id"], channel["version"], name=name, language=language,
                                        events=events, webhook_url=url, secret=secret),
         tr("chat.updated", name=md_escape(name)))


def add_form(db: Database, actor: User) -> None:
    st.subheader(tr("chat.add_title"))
    with st.form("chat_add", clear_on_submit=True):   # the address and secret never stay in the page
        cols = st.columns(3)
        name = cols[0].text_input(tr("chat.name"), key=ADD_KEYS[0], max_chars=service.MAX_NAME)
        kind = cols[1].selectbox(tr("chat.kind"), KINDS, format_func=lambda k: label("chat.kind", k), key=ADD_KEYS[1])
        language = cols[2].selectbox(tr("chat.language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
                                     index=list(i18n.LANGUAGES).index(lang()), key=ADD_KEYS[4])
        cols = st.columns([2, 1])
        url = cols[0].text_input(tr("chat.webhook_url"), type="password", key=ADD_KEYS[2], help=tr("chat.url_help"))
        secret = cols[1].text_input(tr("chat.secret"), type="password", key=ADD_KEYS[3], help=tr("chat.secret_help"))
        events = st.multiselect(tr("chat.events"), EVENTS, default=list(EVENTS), format_func=event_label,
                                key=ADD_KEYS[5])
        if not st.form_submit_button(tr("chat.add"), type="primary", icon=":material/add:", key="chat_add_submit"):
            return
    try:
        service.add_channel(db, actor, name=name, kind=kind, webhook_url=url, language=language, events=events,
                            secret=secret)
    except VoidDeskError as exc:
        show_error(exc)
        return
    flash_and_rerun(FLASH, tr("chat.added", name=md_escape(name)))


def history(db: Database, actor: User) -> None:
    st.subheader(tr("chat.history"))
    status = st.segmented_control(tr("col.status"), queries.SHOWN_STATUSES, key="chat_status",
                                  format_func=lambda s: tr(f"chat.status.{s}"))
    rows = queries.deliveries(db, actor, status=status)
    st.caption(tr("chat.history_count", n=i18n.fmt_int(len(rows), lang())))
    shown = rows.assign(event=rows["event"].map(event_label),
                        status=rows["status"].map(lambda s: tr(f"chat.status.{s}")),
                        order_no=rows["order_no"].astype(object).where(rows["order_no"].notna(), ""),
                        last_error=rows["last_error"].astype(object).where(rows["last_error"].notna(), ""))
    when = lambda key: st.column_config.DatetimeColumn(tr(key), format="YYYY-MM-DD HH:mm:ss")  # noqa: E731
    show_table(shown, hide_index=True, width="stretch", key="chat_history", column_order=(
        "created_at", "channel", "event", "status", "attempts", "order_no", "summary", "last_error", "sent_at"),
                 column_config={
        "id": None, "next_at": None, "created_at": when("col.created"), "channel": tr("chat.channel"),
        "event": tr("chat.event"), "order_no": tr("col.order_no"), "summary": tr("chat.message"),
        "status": tr("col.status"), "attempts": tr("chat.attempts"), "last_error": tr("chat.last_error"),
        "sent_at": when("chat.sent_at")})
    _resend(db, actor, rows)


def _resend(db: Database, actor: User, rows: pd.DataFrame) -> None:
    stuck = rows[rows["status"].isin(queries.RESENDABLE)]
    if stuck.empty:
        return
    choices = {int(r.id): f"#{r.id} · {r.channel} · {event_label(r.event)} · {label('chat.status', r.status)}"
               for r in stuck.itertuples()}
    cols = st.columns([3, 1], vertical_alignment="bottom")
    picked = cols[0].selectbox(tr("chat.resend_pick"), list(choices), format_func=choices.get, key="chat_resend_id")
    if cols[1].button(tr("chat.resend"), key="chat_resend", icon=":material/replay:"):
        _act(lambda: service.resend(db, actor, picked), tr("chat.resent"))


def _act(change, done: str) -> None:
    act(change, FLASH, done)
