"""Signing in with the company account (issue #16), on a real database: the provider's claims find the account by
e-mail and open the same kind of session a password does; everything else is refused with its reason, and no
account is ever created. The browser journey through a real provider is tests/e2e/test_oidc_journey.py."""
import json
import time

import pytest

from lib.errors import AuthFailed
from lib.services import auth, sso, users
from tests.conftest import TEST_PASSWORD, add_user


def _claims(email="Lead@Example.com", verified=True, age=2.0, **more) -> dict:
    return {"iss": "https://idp.example", "sub": "abc", "email": email, "email_verified": verified,
            "iat": int(time.time() - age), **more}


def _logins(db) -> list[dict]:
    with db.read() as cur:
        return [json.loads(a) for (a,) in cur.execute(
            "SELECT after FROM audit_log WHERE action = 'auth.login' ORDER BY id").fetchall()]


def _user_count(db) -> int:
    with db.read() as cur:
        return cur.execute("SELECT count(*) FROM users").fetchall()[0][0]


@pytest.fixture
def lead(db):
    admin = add_user(db, "boss", "admin")
    lead = add_user(db, "lead", "ops_lead")
    users.set_email(db, admin, "lead", "lead@example.com")
    return lead


def test_a_verified_email_opens_a_session_for_its_account_with_its_role(db, lead):
    user, token = sso.sign_in(db, _claims())   # the provider's letter case does not matter
    assert user == lead and user.role == "ops_lead"
    assert auth.resume(db, token) == lead
    assert _logins(db)[-1] == {"method": "oidc", "email": "Lead@Example.com", "issuer": "https://idp.example"}
    auth.logout(db, token)                      # the same session as a password's: sign-out ends it
    assert auth.resume(db, token) is None


def test_a_temporary_password_nobody_was_told_is_retired_at_the_first_company_sign_in(db):
    # An admin creates the account with a generated password (to be changed at first sign-in) and the e-mail; its
    # owner signs in with the company account: not sent to change a password they never had, and the one the
    # admin saw no longer opens anything.
    admin = add_user(db, "boss", "admin")
    temporary = users.add_user(db, admin, "newbie", "ops", email="newbie@example.com")["password"]
    user, token = sso.sign_in(db, _claims("newbie@example.com"))
    assert not user.must_change_password and not auth.resume(db, token).must_change_password
    with pytest.raises(AuthFailed):
        auth.login(db, "newbie", temporary)
    with db.read() as cur:
        [(after,)] = cur.execute("SELECT after FROM audit_log WHERE action = 'user.retire_temporary_password'"
                                 ).fetchall()
    assert json.loads(after) == {"must_change_password": False}


def test_a_password_sign_in_says_so_in_the_same_audit_entry(db, lead):
    auth.login(db, "lead", TEST_PASSWORD)
    assert _logins(db)[-1] == {"method": "password"}


def test_an_unknown_email_is_refused_in_both_languages_and_creates_no_account(db):
    # Not even the first account of an empty database (where anyone may create the first admin) comes from here.
    with pytest.raises(AuthFailed) as info:
        sso.sign_in(db, _claims("new@example.com"))
    assert info.value.message("en").startswith("No VoidDesk account has the e-mail new@example.com.")
    assert "new@example.com" in info.value.message("zh") and "没有任何 VoidDesk 账号" in info.value.message("zh")
    assert _user_count(db) == 0 and _logins(db) == []


@pytest.mark.parametrize("given, key", [   # (claims are made as the test runs: they must be fresh)
    ({"verified": False}, "auth.sso_unverified_email"),
    ({"verified": None}, "auth.sso_unverified_email"),      # a provider that does not say is not vouching
    ({"verified": "true"}, "auth.sso_unverified_email"),    # only a JSON true counts
    ({"email": "  "}, "auth.sso_no_email"),
    ({"email": None}, "auth.sso_no_email"),
])
def test_an_email_the_provider_does_not_vouch_for_is_refused(db, lead, given, key):
    with pytest.raises(AuthFailed) as info:
        sso.sign_in(db, _claims(**given))
    assert info.value.key == key
    assert _logins(db) == []


def test_verification_can_be_waived_for_providers_that_never_send_it(db, lead):
    user, _ = sso.sign_in(db, {k: v for k, v in _claims().items() if k != "email_verified"}, require_verified=False)
    assert user == lead


def test_a_deactivated_account_is_refused(db, lead):
    users.deactivate(db, add_user(db, "boss2", "admin"), "lead")
    with pytest.raises(AuthFailed) as info:
        sso.sign_in(db, _claims())
    assert info.value.key == "auth.deactivated"


def test_an_email_on_two_accounts_is_refused_rather_than_guessed(db, lead):
    add_user(db, "other", "finance")
    with db.transaction() as cur:   # older data, from before one e-mail could belong to one account only
        cur.execute("UPDATE users SET email = 'LEAD@example.com' WHERE username = 'other'")
    with pytest.raises(AuthFailed) as info:
        sso.sign_in(db, _claims())
    assert info.value.key == "auth.sso_ambiguous_email"


@pytest.mark.parametrize("age", [sso.FRESH_SECONDS + 5, -sso.FRESH_SECONDS - 5, None])
def test_claims_from_an_earlier_sign_in_open_nothing(db, lead, age):
    # st.login's cookie outlives a VoidDesk session by weeks: an ended session must not reopen from it.
    claims = _claims(age=age or 0)
    if age is None:
        del claims["iat"]
    with pytest.raises(sso.StaleIdentity):
        sso.sign_in(db, claims)
    assert _logins(db) == []
