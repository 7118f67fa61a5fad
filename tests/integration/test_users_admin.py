"""Managing accounts (SPEC §9, issue #7 item 3) through lib.services.users, on a real DuckDB file."""
import json

import pytest

from lib.errors import AuthFailed, InvalidInput, PermissionDenied, RuleViolation
from lib.services import auth, users
from tests.conftest import TEST_PASSWORD, add_user


def _rows(db, sql, params=None):
    with db.read() as cur:
        return cur.execute(sql, params or []).fetchall()


def _audits(db, action: str) -> list[tuple]:
    return [(e, json.loads(b) if b else None, json.loads(a)) for e, b, a in _rows(
        db, "SELECT entity_id, before, after FROM audit_log WHERE action = ? ORDER BY id", [action])]


def _account(db, actor, username: str) -> dict:
    [row] = [r for r in users.list_users(db, actor) if r["username"] == username]
    return row


@pytest.fixture
def admin(db):
    return add_user(db, "boss", "admin")


def test_create_with_a_generated_password_shown_once(db, admin):
    created = users.add_user(db, admin, "Newbie", "ops", display_name="New Person", email="new@example.com")
    password = created["password"]
    assert created["username"] == "newbie" and len(password) >= 16
    [(stored, must_change)] = _rows(db, "SELECT password_hash, must_change_password FROM users"
                                        " WHERE username = 'newbie'")
    assert stored.startswith("$argon2id$") and password not in stored and must_change is True
    user, _ = auth.login(db, "newbie", password)
    assert user.must_change_password and user.display_name == "New Person"
    [(entity, before, after)] = _audits(db, "user.create")
    assert before is None and after["email"] == "new@example.com" and after["must_change_password"] is True
    assert password not in json.dumps(after) and "password_hash" not in after


def test_create_with_an_initial_password(db, admin):
    created = users.add_user(db, admin, "clerk", "warehouse", "long enough", must_change_password=True)
    assert "password" not in created
    user, _ = auth.login(db, "clerk", "long enough")
    assert user.role == "warehouse" and user.must_change_password


@pytest.mark.parametrize("kwargs, key", [
    ({"email": "not-an-address"}, "users.bad_email"),
    ({"email": "a@b"}, "users.bad_email"),
    ({"display_name": "x" * 81}, "users.bad_display_name"),
    ({"display_name": "two\nlines"}, "users.bad_display_name"),
    ({"password": "short"}, "auth.password_too_short"),
    ({"role": "boss"}, "users.unknown_role"),
])
def test_bad_account_details_are_refused_and_change_nothing(db, admin, kwargs, key):
    args = {"username": "newbie", "role": "ops", "password": "long enough", **kwargs}
    with pytest.raises(InvalidInput) as info:
        users.add_user(db, admin, args.pop("username"), args.pop("role"), args.pop("password"), **args)
    assert info.value.key == key
    assert _rows(db, "SELECT count(*) FROM users") == [(1,)]


def test_list_shows_role_email_language_and_last_sign_in(db, admin):
    users.add_user(db, admin, "newbie", "ops", "long enough", email="n@example.com")
    assert _account(db, admin, "newbie")["last_login"] is None
    user, _ = auth.login(db, "newbie", "long enough")
    auth.set_language(db, user, "zh")
    row = _account(db, admin, "newbie")
    assert row["last_login"] is not None and row["email"] == "n@example.com" and row["language"] == "zh"
    assert (row["role"], row["active"], row["must_change_password"]) == ("ops", True, False)


def test_set_role_is_audited_with_before_and_after(db, admin):
    add_user(db, "pat", "ops")
    users.set_role(db, admin, "pat", "ops_lead")
    assert _audits(db, "user.set_role")[-1][1:] == ({"role": "ops"}, {"role": "ops_lead"})
    users.set_role(db, admin, "pat", "ops_lead")          # no change, nothing written
    assert len(_audits(db, "user.set_role")) == 1


def test_set_email_is_checked_audited_and_one_account_per_email(db, admin):
    # Signing in with the company account finds the account by its e-mail (issue #16): it must name one account.
    add_user(db, "pat", "ops")
    users.add_user(db, admin, "kim", "finance", "long enough", email="Kim@Example.com")
    assert users.set_email(db, admin, "pat", " pat@example.com ")["email"] == "pat@example.com"
    assert _audits(db, "user.set_email")[-1][1:] == ({"email": None}, {"email": "pat@example.com"})
    with pytest.raises(RuleViolation) as info:
        users.set_email(db, admin, "pat", "kim@example.COM")     # letter case aside, it is Kim's
    assert info.value.message("en") == ("The e-mail kim@example.COM belongs to kim already: one e-mail signs in to "
                                        "one account.")
    with pytest.raises(RuleViolation):
        users.add_user(db, admin, "kim2", "ops", "long enough", email="KIM@example.com")
    with pytest.raises(InvalidInput):
        users.set_email(db, admin, "pat", "not an address")
    assert _account(db, admin, "pat")["email"] == "pat@example.com"
    users.set_email(db, admin, "pat", "pat@example.com")          # no change, nothing written
    assert users.set_email(db, admin, "pat", "")["email"] is None  # empty: no e-mail
    assert [a[2] for a in _audits(db, "user.set_email")] == [{"email": "pat@example.com"}, {"email": None}]
    users.set_email(db, admin, "kim", "kim@example.com")           # one's own e-mail in other letters is no clash
    assert _account(db, admin, "kim")["email"] == "kim@example.com"


def test_reset_password_ends_sessions_and_forces_a_change(db, admin):
    pat = add_user(db, "pat", "ops")
    token = auth.open_session(db, pat)
    temporary = users.reset_password(db, admin, "pat")
    assert auth.resume(db, token) is None
    with pytest.raises(AuthFailed):
        auth.login(db, "pat", TEST_PASSWORD)
    user, _ = auth.login(db, "pat", temporary)
    assert user.must_change_password
    auth.change_password(db, user, temporary, "my own secret")
    assert not auth.login(db, "pat", "my own secret")[0].must_change_password
    [(entity, before, after)] = _audits(db, "user.reset_password")
    assert (entity, before, after) == (str(pat.id), {"must_change_password": False}, {"must_change_password": True})
    assert not _rows(db, "SELECT count(*) FROM audit_log WHERE strpos(coalesce(after, '') || coalesce(before, ''),"
                         " ?) > 0", [temporary])[0][0]


def test_an_admin_changes_their_own_password_on_the_account_page(db, admin):
    add_user(db, "deputy", "admin")
    with pytest.raises(RuleViolation) as info:
        users.reset_password(db, admin, "boss")
    assert info.value.message("en") == "Change your own password on the My account page."


def test_deactivation_ends_sessions_and_reactivation_lets_them_back(db, admin):
    pat = add_user(db, "pat", "ops")
    tokens = [auth.open_session(db, pat) for _ in range(2)]
    users.deactivate(db, admin, "pat")
    assert [auth.resume(db, t) for t in tokens] == [None, None]
    assert _rows(db, "SELECT count(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL", [pat.id]) == [(0,)]
    with pytest.raises(AuthFailed):
        auth.login(db, "pat", TEST_PASSWORD)
    users.reactivate(db, admin, "pat")
    assert auth.login(db, "pat", TEST_PASSWORD)[0].username == "pat"
    assert _audits(db, "user.deactivate")[0][1:] == ({"active": True}, {"active": False})
    assert _audits(db, "user.reactivate")[0][1:] == ({"active": False}, {"active": True})
    users.reactivate(db, admin, "pat")                    # already active: nothing written
    assert len(_audits(db, "user.reactivate")) == 1


def test_resume_refuses_an_inactive_user_even_with_a_live_session(db):
    pat = add_user(db, "pat", "ops")
    token = auth.open_session(db, pat)
    with db.transaction() as cur:
        cur.execute("UPDATE users SET active = FALSE WHERE id = ?", [pat.id])
    assert auth.resume(db, token) is None


def test_an_admin_cannot_lock_themselves_out(db, admin):
    add_user(db, "deputy", "admin")
    with pytest.raises(RuleViolation) as info:
        users.deactivate(db, admin, "boss")
    assert info.value.message("en") == "You cannot deactivate your own account."
    with pytest.raises(RuleViolation) as info:
        users.set_role(db, admin, "boss", "ops")
    assert info.value.message("en") == "You cannot take away your own administrator role; ask another administrator."
    assert _rows(db, "SELECT role, active FROM users WHERE username = 'boss'") == [("admin", True)]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db):
    retiring = add_user(db, "retiring", "admin", active=False)    # an admin account on its way out
    add_user(db, "boss", "admin")
    for call in (lambda: users.deactivate(db, retiring, "boss"), lambda: users.set_role(db, retiring, "boss", "ops")):
        with pytest.raises(RuleViolation) as info:
            call()
        assert info.value.message("en") == ("This is the last active administrator; make someone else an "
                                            "administrator first.")
    assert _rows(db, "SELECT role, active FROM users WHERE username = 'boss'") == [("admin", True)]


@pytest.mark.parametrize("role", ["ops_lead", "ops", "analyst", "sales", "finance", "warehouse"])
def test_only_admins_manage_accounts(db, role):
    actor = add_user(db, "someone", role)
    add_user(db, "pat", "ops")
    for call in (lambda: users.list_users(db, actor), lambda: users.reset_password(db, actor, "pat"),
                 lambda: users.deactivate(db, actor, "pat"), lambda: users.reactivate(db, actor, "pat"),
                 lambda: users.set_role(db, actor, "pat", "admin"), lambda: users.add_user(db, actor, "x1", "ops"),
                 lambda: users.set_email(db, actor, "pat", "pat@example.com")):
        with pytest.raises(PermissionDenied):
            call()
    assert _rows(db, "SELECT count(*) FROM audit_log") == [(0,)]
