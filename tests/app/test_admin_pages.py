"""Reasons, rules and users pages through AppTest (issue #7 items 1–3), on a demo database of their own: these
tests change the catalogue, the rules and the accounts, which the other page tests must not see."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import clock
from lib.db import Database, apply_migrations
from lib.services import auth, users
from tests.app import builders as b
from tests.app.conftest import APP
from tests.app.conftest import sign_in as sign_in_form
from tests.app.readable import raw_names

ROOT = Path(APP).parent
ADMIN_PAGES = ("pages/reasons.py", "pages/rules.py", "pages/users.py")


@pytest.fixture(scope="module")
def admin_db_path(tmp_path_factory):
    from lib.seed import seed

    path = tmp_path_factory.mktemp("admin_pages") / "demo.duckdb"
    db = Database(str(path))
    apply_migrations(db)
    seed(db, orders=300, seed=3, today=clock.today())
    db.close()
    return path


@pytest.fixture
def app(admin_db_path, monkeypatch):
    monkeypatch.setenv("VOIDDESK_DB", str(admin_db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def _open(at, username: str, page: str) -> AppTest:
    b.sign_in(at, username)
    return b.open_page(at, page)


def _shown(at) -> str:
    """Everything the page says in message boxes, as read (without the escapes that keep names literal)."""
    texts = b.messages(at.success) + b.messages(at.info) + b.messages(at.error) + b.messages(at.warning)
    return " ".join(texts).replace("\\", "")


# --- reasons ----------------------------------------------------------------------------------------------

def test_ops_lead_adds_renames_and_moves_a_reason(app, admin_db_path):
    _open(app, "lead", "pages/reasons.py")
    assert not app.exception and app.title[0].value == "Reason catalogue"
    assert app.metric[0].label == "Voids with reason “Other”, last 90 days"
    app.text_input(key="reason_add_code").input("late_delivery")
    app.text_input(key="reason_add_en").input("Delivery too late")
    app.text_input(key="reason_add_zh").input("交货太晚")
    app.button(key="reason_add_submit_void").click().run()
    assert "Reason late_delivery added." in _shown(app), _shown(app)
    assert app.text_input(key="reason_add_code").value == ""

    app.selectbox(key="reason_pick_void").set_value("late_delivery").run()
    app.text_input(key="reason_en_void_late_delivery").input("Delivered too late")
    app.button(key="reason_save_void_late_delivery").click().run()
    assert "Reason late_delivery saved." in _shown(app)
    app.button(key="reason_up").click().run()
    assert "Reason late_delivery moved." in _shown(app)
    app.toggle(key="reason_active_void_late_delivery").set_value(False)
    app.button(key="reason_save_void_late_delivery").click().run()
    assert not app.exception
    row = b.value(admin_db_path, "SELECT label_en, label_zh, active FROM reasons WHERE code = 'late_delivery'")
    assert row == {"label_en": "Delivered too late", "label_zh": "交货太晚", "active": False}
    actions = [r["action"] for r in b.rows(admin_db_path, "SELECT action FROM audit_log WHERE entity_type = 'reason'"
                                                          " AND entity_id = 'void/late_delivery' ORDER BY id")]
    assert actions == ["reason.create", "reason.update", "reason.move", "reason.retire"]
    assert not raw_names(app)   # issue #16: the catalogue after edits in words too


def test_a_high_share_of_other_gets_a_hint(app, admin_db_path):
    _open(app, "lead", "pages/reasons.py")
    assert not any("more specific reason" in w for w in b.messages(app.warning))
    with b.handle(admin_db_path).transaction() as cur:      # this module's own database: make every void "other"
        cur.execute("UPDATE voids SET reason_code = 'other' WHERE status = 'applied'")
    app.run()
    assert app.metric[0].value == "100.0%"
    assert any("consider adding a more specific reason" in w for w in b.messages(app.warning))


def test_a_bad_code_is_refused_on_the_page(app, admin_db_path):
    _open(app, "lead", "pages/reasons.py")
    app.text_input(key="reason_add_code").input("Bad Code")
    app.text_input(key="reason_add_en").input("Bad")
    app.text_input(key="reason_add_zh").input("坏")
    app.button(key="reason_add_submit_void").click().run()
    assert any("lower-case letters, digits and underscores" in m for m in b.messages(app.error))
    assert app.text_input(key="reason_add_code").value == "Bad Code"       # kept for correcting
    assert b.value(admin_db_path, "SELECT count(*) AS n FROM reasons WHERE label_en = 'Bad'")["n"] == 0


def test_return_reasons_have_their_own_list(app):
    _open(app, "lead", "pages/reasons.py")
    app.segmented_control(key="reasons_kind").set_value("return").run()
    assert not app.exception
    assert app.metric[0].label == "Returns with reason “Other”, last 90 days"
    assert "quality" in set(app.dataframe[0].value["code"])


# --- rules ------------------------------------------------------------------------------------------------

def test_ops_lead_changes_a_rule_and_a_second_save_changes_nothing(app, admin_db_path):
    _open(app, "lead", "pages/rules.py")
    assert not app.exception and app.title[0].value == "Rules"
    window = b.value(admin_db_path, "SELECT value FROM settings WHERE key = 'restore_window_hours'")["value"]
    new = 48 if window != "48" else 24
    app.number_input(key="rules_window").set_value(new)
    app.button(key="rules_save").click().run()
    assert "Saved: Restore window (hours)." in _shown(app), _shown(app)
    assert b.value(admin_db_path, "SELECT value FROM settings WHERE key = 'restore_window_hours'")["value"] == str(new)
    assert any(c.value.startswith("Last changed") for c in app.caption)
    app.button(key="rules_save").click().run()
    assert "Nothing changed, so nothing was saved." in _shown(app)


# --- users ------------------------------------------------------------------------------------------------

def test_admin_creates_a_user_and_resets_the_password(app, admin_db_path):
    _open(app, "admin", "pages/users.py")
    assert not app.exception and app.title[0].value == "Users"
    app.text_input(key="user_new_name").input("newclerk")
    app.text_input(key="user_new_display").input("New Clerk")
    app.selectbox(key="user_new_role").set_value("warehouse")
    app.text_input(key="user_new_email").input("clerk@example.com")
    app.button(key="user_create_submit").click().run()
    assert "Account newclerk created." in _shown(app), _shown(app)
    [first] = [c.value for c in app.code]
    user, _ = auth.login(b.handle(admin_db_path), "newclerk", first)
    assert user.role == "warehouse" and user.must_change_password
    app.run()
    assert not app.code                                    # shown once only

    app.selectbox(key="users_pick").set_value("newclerk").run()
    app.button(key="user_reset").click().run()
    assert "Password of newclerk reset" in _shown(app)
    [second] = [c.value for c in app.code]
    assert second != first
    assert auth.login(b.handle(admin_db_path), "newclerk", second)[0].must_change_password


def test_changing_ones_password_keeps_this_browser_signed_in_and_signs_the_others_out(app, admin_db_path):
    db = b.handle(admin_db_path)
    users.add_user(db, b.user(admin_db_path, "admin"), "mover", "ops", "first password")
    _, phone = auth.login(db, "mover", "first password")
    sign_in_form(app, "mover", "first password")
    b.open_page(app, "pages/account.py")
    fields = {w.label: w for w in app.text_input}
    fields["Current password"].input("first password")
    fields["New password"].input("second password")
    fields["New password again"].input("second password")
    next(w for w in app.button if w.label == "Change password").click().run()
    assert not app.exception and not app.error
    assert app.session_state["user"].username == "mover" and "login_username" not in [w.key for w in app.text_input]
    assert auth.resume(db, app.session_state["token"]).username == "mover"
    assert auth.resume(db, phone) is None


def test_admin_cannot_deactivate_themselves_on_the_page(app, admin_db_path):
    _open(app, "admin", "pages/users.py")
    app.selectbox(key="users_pick").set_value("admin").run()
    app.button(key="user_deactivate").click().run()
    assert "You cannot deactivate your own account." in _shown(app)
    assert b.value(admin_db_path, "SELECT active FROM users WHERE username = 'admin'")["active"] is True


def test_admin_sets_an_email_which_one_account_only_may_have(app, admin_db_path):
    # Signing in with the company account finds the account by its e-mail (issue #16).
    _open(app, "admin", "pages/users.py")
    app.selectbox(key="users_pick").set_value("analyst").run()
    assert app.text_input(key="user_email_analyst").value == "analyst@voiddesk.example"
    app.text_input(key="user_email_analyst").input(" Data*Desk@Example.com ")
    app.button(key="user_set_email").click().run()
    shown = _shown(app).replace("\u2060", "")   # (md_escape's word joiner after "@" keeps it from becoming a link)
    assert "The e-mail of analyst is now Data*Desk@Example.com." in shown, shown
    stored = b.value(admin_db_path, "SELECT email FROM users WHERE username = 'analyst'")["email"]
    assert stored == "Data*Desk@Example.com"
    app.selectbox(key="users_pick").set_value("ops").run()
    app.text_input(key="user_email_ops").input("data*desk@example.com")
    app.button(key="user_set_email").click().run()
    shown = _shown(app).replace("\u2060", "")
    assert "The e-mail data*desk@example.com belongs to analyst already: one e-mail signs in to one account." in shown
    assert b.value(admin_db_path, "SELECT email FROM users WHERE username = 'ops'")["email"] == "ops@voiddesk.example"


# --- who may open them, and in which language ---------------------------------------------------------------

@pytest.mark.parametrize("username", ["ops", "analyst", "sales"])
def test_other_roles_do_not_get_the_admin_pages_in_their_navigation(app, username):
    b.sign_in(app, username)
    for page in ADMIN_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)


@pytest.mark.parametrize("username, page", [(u, p) for u in ("ops", "analyst", "sales") for p in ADMIN_PAGES]
                         + [("lead", "pages/users.py")])
def test_a_page_run_directly_refuses_roles_without_the_permission(admin_db_path, monkeypatch, username, page):
    """Streamlit can run a file of pages/ without app.py in front of it: the page's own guard must refuse."""
    monkeypatch.setenv("VOIDDESK_DB", str(admin_db_path))
    _, token = auth.login(b.handle(admin_db_path), username, "demo1234")
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.session_state["token"] = token
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] and at.error[0].value.startswith("Only ")
    assert not at.title and not at.text_input and not at.button


@pytest.mark.parametrize("username, page, title", [("lead", "pages/reasons.py", "原因目录"),
                                                   ("lead", "pages/rules.py", "规则"),
                                                   ("admin", "pages/users.py", "用户")])
def test_pages_render_in_chinese(app, admin_db_path, username, page, title):
    # The language is remembered per user: set it the way the switch does, and put it back afterwards.
    db, user = b.handle(admin_db_path), b.user(admin_db_path, username)
    auth.set_language(db, user, "zh")
    try:
        sign_in_form(app, username)
        b.open_page(app, page)
        assert not app.exception and app.title[0].value == title
        assert not [e for e in app.error]
    finally:
        auth.set_language(db, user, "en")
