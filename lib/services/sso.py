"""Sign-in through the company's OpenID Connect provider (issue #16, SPEC §1).

What the provider says about who signed in (the id_token's claims, as st.user hands them over) opens a VoidDesk
session for the one account with that e-mail, exactly as a password does (auth.open_session); the account keeps its
role, and nothing is ever created here. Refused, each with its own words: no e-mail, an e-mail the provider does not
vouch for, an e-mail no account (or several) has, a deactivated account — and claims older than FRESH_SECONDS,
because st.login's cookie lasts 30 days: a VoidDesk session that expired or was ended must not quietly reopen.
"""
import secrets
import time
from dataclasses import replace

from lib.db import Database, rows_as_dicts
from lib.domain import User
from lib.errors import AuthFailed
from lib.services import audit
from lib.services.auth import hash_password, open_session, user_from_row

# How old the provider's sign-in may be when it reaches the app: the redirect back takes a second or two; the
# margin covers clocks a little apart. Compared with the real time (iat is the provider's clock), never lib.clock,
# which a demo or a test run may pin to another day.
FRESH_SECONDS = 300
MAX_SHOWN = 254   # an e-mail is shown back in the refusal; a provider could send anything


class StaleIdentity(AuthFailed):
    """The claims are from an earlier sign-in: show the sign-in page, not a refusal."""

    key = "auth.sso_stale"


def claimed_email(claims: dict, require_verified: bool = True) -> str:
    """The e-mail the provider vouches for, trimmed; refused when missing or (unless told otherwise) unverified."""
    email = str(claims.get("email") or "").strip()[:MAX_SHOWN]
    if not email:
        raise AuthFailed("auth.sso_no_email")
    if require_verified and claims.get("email_verified") is not True:
        raise AuthFailed("auth.sso_unverified_email", email=email)
    return email


def account_for_email(db: Database, email: str) -> User:
    """The active account whose e-mail this is (letter case aside), or the reason there is none."""
    with db.read() as cur:
        rows = rows_as_dicts(cur, "SELECT id, username, display_name, role, language, must_change_password, active"
                                  " FROM users WHERE lower(email) = lower(?)", [email.strip()])
    if not rows:
        raise AuthFailed("auth.sso_unknown_email", email=email)
    if len(rows) > 1:
        raise AuthFailed("auth.sso_ambiguous_email", email=email)
    if not rows[0]["active"]:
        raise AuthFailed("auth.deactivated")
    return user_from_row(rows[0])


def sign_in(db: Database, claims: dict, *, require_verified: bool = True,
            now: float | None = None) -> tuple[User, str]:
    """Open a session for the account the provider's fresh claims name; return the user and the browser token."""
    issued = claims.get("iat")
    now = time.time() if now is None else now
    if not isinstance(issued, (int, float)) or not now - FRESH_SECONDS <= issued <= now + FRESH_SECONDS:
        raise StaleIdentity()
    email = claimed_email(claims, require_verified)
    user = account_for_email(db, email)
    if user.must_change_password:
        user = retire_temporary_password(db, user)
    return user, open_session(db, user, "oidc", email=email, issuer=str(claims.get("iss") or ""))


def retire_temporary_password(db: Database, user: User) -> User:
    """The account still had the temporary password an admin set (to be changed at the first sign-in), but its
    owner came in with the company account and never needs it: replaced by a random one nobody knows, so no
    password the admin saw keeps working, and the owner is not sent to change a password they were never told.
    An admin's reset gives a new one if passwords are still used."""
    unknown = hash_password(secrets.token_urlsafe(32))
    with db.transaction() as cur:
        cur.execute("UPDATE users SET password_hash = ?, must_change_password = FALSE"
                    " WHERE id = ? AND must_change_password", [unknown, user.id])
        audit.record(cur, user, "user.retire_temporary_password", "user", user.id,
                     before={"must_change_password": True}, after={"must_change_password": False})
    return replace(user, must_change_password=False)
