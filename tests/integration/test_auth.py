from datetime import timedelta

import pytest

from lib import clock
from lib.errors import AuthFailed, InvalidInput, PermissionDenied, RuleViolation, TooManyAttempts
from lib.services import auth, login_throttle, users
from tests.conftest import TEST_PASSWORD, add_user


def test_password_is_stored_only_as_a_salted_slow_hash(db):
    users.add_user(db, None, "root", "admin", "correct horse")
    with db.read() as cur:
        stored = cur.execute("SELECT password_hash FROM users WHERE username = 'root'").fetchall()[0][0]
    assert "correct horse" not in stored
    assert stored.startswith("$argon2id$")


def test_login_opens_a_session_that_resumes_until_logout(db):
    add_user(db, "lead", "ops_lead")
    user, token = auth.login(db, "Lead ", TEST_PASSWORD)
    assert user.role == "ops_lead"
    assert auth.resume(db, token) == user
    auth.logout(db, token)
    assert auth.resume(db, token) is None


def test_wrong_password_and_unknown_user_get_the_same_message(db):
    add_user(db, "ops", "ops")
    with pytest.raises(AuthFailed) as wrong:
        auth.login(db, "ops", "nope")
    with pytest.raises(AuthFailed) as unknown:
        auth.login(db, "ghost", "nope")
    assert wrong.value.message("en") == unknown.value.message("en") == "Wrong username or password."


def test_repeated_failures_slow_logins_down_even_with_the_right_password(db):
    add_user(db, "ops", "ops")
    for _ in range(login_throttle.FREE_ATTEMPTS):
        with pytest.raises(AuthFailed):
            auth.login(db, "ops", "wrong")
    with pytest.raises(TooManyAttempts) as info:
        auth.login(db, "ops", TEST_PASSWORD)
    assert "Try again in" in info.value.message("en")


def test_expired_session_does_not_resume(db):
    user = add_user(db, "ops", "ops")
    token = auth.open_session(db, user)
    with db.transaction() as cur:
        cur.execute("UPDATE sessions SET expires_at = ?", [clock.now() - timedelta(seconds=1)])
    assert auth.resume(db, token) is None


def test_deactivation_ends_open_sessions_and_blocks_login(db):
    admin = add_user(db, "boss", "admin")
    user = add_user(db, "ops", "ops")
    token = auth.open_session(db, user)
    users.deactivate(db, admin, "ops")
    assert auth.resume(db, token) is None
    with pytest.raises(AuthFailed) as info:
        auth.login(db, "ops", TEST_PASSWORD)
    assert "deactivated" in info.value.message("en")


def test_first_admin_needs_no_actor_but_later_accounts_do(db):
    users.add_user(db, None, "root", "admin", "long enough")
    with pytest.raises(PermissionDenied):
        users.add_user(db, None, "second", "admin", "long enough")


def test_only_admins_manage_users(db):
    lead = add_user(db, "lead", "ops_lead")
    with pytest.raises(PermissionDenied) as info:
        users.add_user(db, lead, "newbie", "ops", "long enough")
    assert info.value.message("en") == "Only administrators can manage users."


def test_bad_input_is_refused_and_changes_nothing(db):
    admin = add_user(db, "boss", "admin")
    for name, role, password in [("Bad Name", "ops", "long enough"), ("x'; drop table users; --", "ops", "long enough"),
                                 ("ok", "boss", "long enough"), ("ok", "ops", "short")]:
        with pytest.raises(InvalidInput):
            users.add_user(db, admin, name, role, password)
    with db.read() as cur:
        assert cur.execute("SELECT count(*) FROM users").fetchall()[0][0] == 1


def test_last_admin_cannot_be_demoted_or_deactivated(db):
    admin = add_user(db, "boss", "admin")
    with pytest.raises(RuleViolation):
        users.set_role(db, admin, "boss", "ops")
    with pytest.raises(RuleViolation):
        users.deactivate(db, admin, "boss")


def test_changes_to_users_are_audited(db):
    admin = add_user(db, "boss", "admin")
    users.add_user(db, admin, "newbie", "ops", "long enough")
    users.set_role(db, admin, "newbie", "ops_lead")
    users.deactivate(db, admin, "newbie")
    with db.read() as cur:
        actions = [r[0] for r in cur.execute(
            "SELECT action FROM audit_log WHERE entity_type = 'user' ORDER BY id").fetchall()]
    assert actions == ["user.create", "user.set_role", "user.deactivate"]


def test_change_password_checks_the_old_one(db):
    user = add_user(db, "ops", "ops")
    with pytest.raises(AuthFailed):
        auth.change_password(db, user, "wrong", "new password")
    auth.change_password(db, user, TEST_PASSWORD, "new password")
    assert auth.login(db, "ops", "new password")[0].id == user.id


def test_changing_ones_password_ends_ones_other_sessions_but_not_this_one(db):
    user = add_user(db, "ops", "ops")
    other = add_user(db, "lead", "ops_lead")
    _, laptop = auth.login(db, "ops", TEST_PASSWORD)
    _, phone = auth.login(db, "ops", TEST_PASSWORD)
    _, colleague = auth.login(db, "lead", TEST_PASSWORD)
    auth.change_password(db, user, TEST_PASSWORD, "new password", keep=laptop)
    assert auth.resume(db, laptop) == user
    assert auth.resume(db, phone) is None
    assert auth.resume(db, colleague) == other
