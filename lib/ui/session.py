"""Who is signed in: Streamlit session state, backed by a browser cookie so a refresh keeps the login."""
import json
import logging

import streamlit as st

from lib import i18n
from lib.config import SESSION_COOKIE, session_hours
from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError
from lib.services import auth, login_throttle
from lib.services.settings import is_demo
from lib.ui import sso
from lib.ui.context import database, lang, message_md, tr

COOKIE = SESSION_COOKIE
REFUSED_COOKIE = "refused_cookie"   # the browser cookie's token, once it opened nothing in this session
log = logging.getLogger("voiddesk.session")


def cookie_js(value: str, max_age: int) -> str:
    """The script that sets (or, with max_age 0, clears) the session cookie in the browser.

    st.context.cookies is read-only, so the cookie is written by the browser itself — which is why it cannot be
    HttpOnly (README "Security" says what limits the risk). Secure whenever the page came over HTTPS;
    SameSite=Strict. The token is URL-safe base64; json.dumps quotes it for JavaScript."""
    return (f"document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(value)}"
            f" + '; path=/; max-age={max_age}; SameSite=Strict'"
            " + (window.location.protocol === 'https:' ? '; Secure' : '');")


def _cookie_script(value: str, max_age: int) -> None:
    st.html(f"<script>{cookie_js(value, max_age)}</script>", unsafe_allow_javascript=True)


def _browser_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception as exc:  # a bare script run has no HTTP request behind it (AppTest gets no cookies)
        log.warning("the browser cookie could not be read: %s: %s", type(exc).__name__, exc)
        return None
    return value if isinstance(value, str) and value else None


def _client_address() -> str | None:
    """The browser's address, for slowing down password guessing per address (lib.services.login_throttle)."""
    try:
        peer, forwarded = st.context.ip_address, st.context.headers.get("X-Forwarded-For")
    except Exception as exc:  # a bare script run has no HTTP request behind it
        log.warning("the client address could not be read: %s: %s", type(exc).__name__, exc)
        return None
    # AppTest answers with stand-in objects, not text
    return login_throttle.client_address(peer if isinstance(peer, str) else None,
                                         forwarded if isinstance(forwarded, str) else None)


def current_user(db: Database) -> User | None:
    """The signed-in user, re-checked against the database on every run (expiry, logout, deactivation)."""
    token = st.session_state.get("token")
    from_cookie = token is None and not st.session_state.get("logged_out")
    if from_cookie:
        token = _browser_token()
        if token is not None and token == st.session_state.get(REFUSED_COOKIE):
            token = None   # refused once already: a session sees the cookies its page load sent, all along
    user = auth.resume(db, token)
    if user is None and not st.session_state.get("logged_out"):
        opened = sso.open_session(db)   # back from the company's identity provider (st.login)
        if opened is not None:
            user, token = opened
            _remember(db, user, token)
    if user is None:
        if token:   # a cookie or a session that no longer opens anything: say so in the server log
            log.warning("a session token was not accepted (expired, signed out, revoked or unknown);"
                        " from the browser cookie: %s", from_cookie)
            if from_cookie:   # and clear it (sync_cookie): e.g. left behind when st.logout's redirect went first
                st.session_state[REFUSED_COOKIE] = token
        if st.session_state.get("user") is not None:
            st.session_state["flash"] = "auth.session_ended"
        st.session_state.pop("user", None)
        st.session_state.pop("token", None)
        return None
    if st.session_state.get("token") != token or st.session_state.get("user") is None:
        st.session_state["lang"] = user.language or st.session_state.get("lang") or lang()
    st.session_state["token"] = token
    st.session_state["user"] = user
    return user


def sign_in(db: Database, username: str, password: str) -> None:
    """Check the password; on success remember the user in this session and in the browser."""
    user, token = auth.login(db, username, password, address=_client_address())
    _remember(db, user, token)


def _remember(db: Database, user: User, token: str) -> None:
    """A session just opened (by password or the company sign-in): this app session's user, the browser cookie."""
    if user.language:
        st.session_state["lang"] = user.language
    elif st.session_state.get("lang"):
        auth.set_language(db, user, st.session_state["lang"])
    sso.forget_refusal()
    st.session_state.pop(REFUSED_COOKIE, None)
    st.session_state.update(user=user, token=token, set_cookie=True, logged_out=False)


def sign_out(db: Database) -> None:
    auth.logout(db, st.session_state.get("token"))
    for key in ("user", "token"):
        st.session_state.pop(key, None)
    st.session_state["logged_out"] = True
    sso.sign_out()


def sync_cookie() -> None:
    """Write the browser cookie once after sign-in; clear it after sign-out, or when it opened nothing."""
    if st.session_state.pop("set_cookie", False) and st.session_state.get("token"):
        _cookie_script(st.session_state["token"], int(session_hours() * 3600))
    elif (st.session_state.get("logged_out") or st.session_state.get(REFUSED_COOKIE)) and _browser_token():
        _cookie_script("", 0)


def login_page() -> None:
    """The sign-in page (the only page before sign-in): the company account's button when it is configured, and
    the username/password form unless it is switched off."""
    db = database()
    language_switch(None)
    _, middle, _ = st.columns([1, 1.3, 1])
    with middle:
        st.title(tr("app.name"))
        st.caption(tr("app.tagline"))
        flash = st.session_state.pop("flash", None)
        if flash:
            st.info(tr(flash))
        if sso.configured():
            _company_sign_in()
        if sso.password_sign_in():
            _password_form(db)


def _company_sign_in() -> None:
    refused = sso.refusal()
    if refused is not None:   # the e-mail came from the provider: shown as text, never as Markdown
        st.error(message_md(refused), icon=":material/lock:")
    if st.button(tr("auth.sso_other_account" if refused is not None else "auth.company_sign_in"), type="primary",
                 icon=":material/badge:", width="stretch", key="sso_login"):
        st.login()
    if sso.password_sign_in():
        st.caption(tr("auth.or_password"))


def _password_form(db: Database) -> None:
    with st.form("login", border=True):
        st.subheader(tr("auth.title"))
        username = st.text_input(tr("auth.username"), key="login_username")
        password = st.text_input(tr("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("auth.submit"), type="primary", width="stretch")
    if submitted:
        try:
            sign_in(db, username, password)
            st.rerun()
        except VoidDeskError as exc:
            st.error(message_md(exc), icon=":material/lock:")
    if is_demo(db):
        st.caption(tr("auth.demo_hint"))


def _on_language_change(user: User | None) -> None:
    choice = st.session_state["lang_choice"]
    st.session_state["lang"] = choice
    if user is not None:
        auth.set_language(database(), user, choice)


def language_switch(user: User | None, container=None) -> None:
    """English / 中文 switch; remembered for the user's next sign-in."""
    container = container or st.sidebar
    options = list(i18n.LANGUAGES)
    st.session_state["lang_choice"] = lang()
    container.segmented_control(
        tr("sidebar.language"), options, format_func=i18n.LANGUAGES.get, key="lang_choice",
        on_change=_on_language_change, args=(user,), required=True)
