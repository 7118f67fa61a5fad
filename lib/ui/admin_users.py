"""The users page's parts: the account list, the create form, and one account's role, e-mail, password and access."""
import pandas as pd
import streamlit as st

from lib import i18n
from lib.db import Database
from lib.domain import ROLES, User
from lib.errors import VoidDeskError
from lib.services import users
from lib.ui.admin_common import act
from lib.ui.context import label, lang, md_escape, show_error, tr
from lib.ui.tables import show_table

FLASH, SECRET = "users_flash", "users_secret"
CREATE_KEYS = ("user_new_name", "user_new_display", "user_new_role", "user_new_email", "user_new_password",
               "user_new_must_change")


def _done(text: str, secret: tuple[str, str] | None = None) -> None:
    st.session_state[FLASH] = text
    if secret:
        st.session_state[SECRET] = secret
    st.rerun()


def show_flash() -> None:
    """The last change's message, and a generated password — shown this once, never again."""
    text = st.session_state.pop(FLASH, None)
    if text:
        st.success(text, icon=":material/check_circle:")
    secret = st.session_state.pop(SECRET, None)
    if secret:
        username, password = secret
        with st.container(border=True, key="users_secret_box"):
            st.markdown(tr("users.temp_password_for", username=md_escape(username)))
            st.code(password, language=None)
            st.caption(tr("users.temp_password_once"))


def user_table(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows, columns=["username", "display_name", "role", "active", "last_login", "email",
                                        "language", "must_change_password"])
    frame["role"] = frame["role"].map(lambda r: label("role", r))
    frame["last_login"] = frame["last_login"].map(
        lambda at: at.strftime("%Y-%m-%d %H:%M") if at is not None and not pd.isna(at) else tr("users.never"))
    frame["language"] = frame["language"].map(lambda code: i18n.LANGUAGES.get(code, "–") if code else "–")
    st.caption(tr("users.count", n=i18n.fmt_int(len(frame), lang())))
    show_table(frame, hide_index=True, width="stretch", key="users_table", column_config={
        "username": tr("users.username"), "display_name": tr("users.display_name"), "role": tr("users.role"),
        "active": st.column_config.CheckboxColumn(tr("users.active")),
        "last_login": tr("users.last_login"),
        "email": tr("users.email"), "language": tr("users.language"),
        "must_change_password": st.column_config.CheckboxColumn(tr("users.must_change"))})


def create_form(db: Database, actor: User) -> None:
    """A new account; with the password left empty one is generated and shown once."""
    st.subheader(tr("users.create_title"))
    with st.form("user_create"):
        cols = st.columns(3)
        username = cols[0].text_input(tr("users.username"), key=CREATE_KEYS[0], max_chars=32,
                                      help=tr("users.username_help"))
        display_name = cols[1].text_input(tr("users.display_name"), key=CREATE_KEYS[1],
                                          max_chars=users.MAX_DISPLAY_NAME)
        role = cols[2].selectbox(tr("users.role"), ROLES, format_func=lambda r: label("role", r), key=CREATE_KEYS[2])
        cols = st.columns(3, vertical_alignment="bottom")
        email = cols[0].text_input(tr("users.email"), key=CREATE_KEYS[3], max_chars=users.MAX_EMAIL,
                                   help=tr("users.email_help"))
        password = cols[1].text_input(tr("users.initial_password"), type="password", key=CREATE_KEYS[4],
                                      help=tr("users.initial_password_help"))
        must_change = cols[2].checkbox(tr("users.must_change_first"), value=True, key=CREATE_KEYS[5])
        submitted = st.form_submit_button(tr("users.create"), type="primary", icon=":material/person_add:",
                                          key="user_create_submit")
    if not submitted:
        return
    try:
        created = users.add_user(db, actor, username, role, password or None, display_name=display_name,
                                 email=email, must_change_password=must_change)
    except VoidDeskError as exc:
        show_error(exc)
        return
    for key in CREATE_KEYS:          # an empty form for the next one
        st.session_state.pop(key, None)
    secret = (created["username"], created["password"]) if created.get("password") else None
    _done(tr("users.created", username=md_escape(created["username"])), secret)


def manage_user(db: Database, actor: User, rows: list[dict]) -> None:
    """Pick an account; change its role or e-mail, reset its password, deactivate or re-activate it."""
    st.subheader(tr("users.manage_title"))
    by_name = {r["username"]: r for r in rows}
    username = st.selectbox(tr("users.pick"), list(by_name), index=None, placeholder=tr("users.pick_placeholder"),
                            format_func=lambda n: f"{by_name[n]['display_name']} ({n})", key="users_pick")
    if username is None:
        return
    target = by_name[username]
    state = tr("users.state_active") if target["active"] else tr("users.state_inactive")
    st.caption(tr("users.current", role=label("role", target["role"]), state=state))
    left, middle, right = st.columns(3, vertical_alignment="bottom")
    role = left.selectbox(tr("users.role"), ROLES, index=ROLES.index(target["role"]),
                          format_func=lambda r: label("role", r), key=f"user_role_{username}")
    if left.button(tr("users.set_role"), key="user_set_role"):
        _act(lambda: users.set_role(db, actor, username, role), tr("users.role_set", username=md_escape(username),
                                                                    role=label("role", role)))
    if middle.button(tr("users.reset_password"), key="user_reset", icon=":material/key:"):
        _reset(db, actor, username)
    if target["active"]:
        if right.button(tr("users.deactivate"), key="user_deactivate", icon=":material/block:"):
            _act(lambda: users.deactivate(db, actor, username), tr("users.deactivated", username=md_escape(username)))
    elif right.button(tr("users.reactivate"), key="user_reactivate", icon=":material/check_circle:"):
        _act(lambda: users.reactivate(db, actor, username), tr("users.reactivated", username=md_escape(username)))
    _email_row(db, actor, target)


def _email_row(db: Database, actor: User, target: dict) -> None:
    """The account's e-mail: where its mail goes, and what the company sign-in matches (issue #16)."""
    username = target["username"]
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    email = left.text_input(tr("users.email"), value=target["email"] or "", max_chars=users.MAX_EMAIL,
                            help=tr("users.email_help"), key=f"user_email_{username}").strip()
    if right.button(tr("users.set_email"), key="user_set_email", icon=":material/mail:"):
        done = (tr("users.email_set", username=md_escape(username), email=md_escape(email)) if email
                else tr("users.email_cleared", username=md_escape(username)))
        _act(lambda: users.set_email(db, actor, username, email), done)


def _act(call, done_text: str) -> None:
    act(call, FLASH, done_text)


def _reset(db: Database, actor: User, username: str) -> None:
    try:
        password = users.reset_password(db, actor, username)
    except VoidDeskError as exc:
        show_error(exc)
        return
    _done(tr("users.password_reset", username=md_escape(username)), (username, password))
