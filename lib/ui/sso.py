"""Sign-in with the company account (issue #16): Streamlit's st.login / st.user, and its settings in secrets.toml.

st.login is Streamlit's own OpenID Connect client (Authlib underneath): it sends the browser to the provider, takes
the answer at /oauth2callback, keeps who signed in in a cookie of its own (30 days) and starts a new app session,
in which st.user holds the id_token's claims. lib.services.sso turns fresh claims into a VoidDesk session exactly
like a password's, so from there on the VoidDesk session alone decides (sign-out, expiry, deactivation, role).
"""
import logging

import streamlit as st

from lib.db import Database
from lib.domain import User
from lib.errors import VoidDeskError
from lib.services import sso

# What st.login needs in [auth] for its default provider (the one `st.login()` without a name uses).
PROVIDER_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
REFUSAL, SEEN = "sso_refusal", "sso_seen"
log = logging.getLogger("voiddesk.sso")


def _section(name: str) -> dict:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets.toml at all
        return {}
    return dict(section) if section else {}


def configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section with everything st.login needs."""
    auth = _section("auth")
    return all(auth.get(key) for key in PROVIDER_KEYS)


def _setting(name: str, default: bool) -> bool:
    value = _section("voiddesk").get(name, default)
    return value if isinstance(value, bool) else default   # a TOML true/false; anything else keeps the default


def password_sign_in() -> bool:
    """Whether the username/password form is offered: [voiddesk] password_sign_in, true unless set false — and
    never off while the company sign-in is not configured, or nobody could sign in at all."""
    return not configured() or _setting("password_sign_in", True)


def identity() -> dict | None:
    """The provider's claims about who signed in, while Streamlit holds a company sign-in in this session."""
    try:
        claims = st.user.to_dict()
    except Exception:  # a bare script run (AppTest) has no user info behind it
        return None
    return claims if claims.get("is_logged_in") else None


def open_session(db: Database) -> tuple[User, str] | None:
    """A VoidDesk session for the account a fresh company sign-in names, or None. A refusal is kept for the
    sign-in page (REFUSAL) and logged once; claims from an earlier sign-in are passed over without a word."""
    claims = identity() if configured() else None
    if claims is None:
        return None
    seen = (claims.get("iss"), claims.get("sub"), claims.get("iat"))
    if st.session_state.get(SEEN) == seen:   # refused already: once per sign-in, not on every rerun
        return None
    st.session_state[SEEN] = seen
    try:
        return sso.sign_in(db, claims, require_verified=_setting("require_verified_email", True))
    except sso.StaleIdentity:
        return None
    except VoidDeskError as exc:
        log.warning("company sign-in refused: %s", exc.message("en"))
        st.session_state[REFUSAL] = exc
        return None


def refusal() -> VoidDeskError | None:
    return st.session_state.get(REFUSAL)


def forget_refusal() -> None:
    st.session_state.pop(REFUSAL, None)


def sign_out() -> None:
    """End Streamlit's company sign-in too (st.logout clears its cookie and starts a new session), so whoever uses
    this browser next starts at the sign-in page."""
    if identity() is not None:
        st.logout()
