"""Page access by URL for every role (issue #8, item 5). A page a role may not see is not in its navigation, and the
page file run on its own (as Streamlit may serve it without app.py in front) shows only the refusal: who may open
it, no data, no exception. Without a session every page shows the sign-in form. Also: an expired session, a
logged-out token, an account that must change its password, and no demo password on a database not seeded as one.
(Pages a role may see are rendered by test_pages.py.)"""
import ast
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import clock
from lib.cli import main as cli
from lib.db import open_database, rows_as_dicts
from lib.domain import PERMISSIONS, ROLES, User, can, refusal
from lib.i18n import t
from lib.services import auth
from lib.ui.nav import PAGES
from tests.app.conftest import APP, sign_in

ROOT = Path(APP).parent
USERNAME = {"sales": "sales", "ops": "ops", "ops_lead": "lead", "finance": "finance", "warehouse": "warehouse",
            "analyst": "analyst", "admin": "admin"}
DATA_ELEMENTS = ("title", "dataframe", "table", "metric", "text_input", "button", "plotly_chart", "download_button")


def _refused(role: str) -> list:
    user = User(id=0, username="x", display_name="x", role=role)
    return [p for p in PAGES if p.action is not None and not can(user, p.action)]


def _user(db, username: str) -> User:
    with db.read() as cur:
        row = rows_as_dicts(cur, "SELECT * FROM users WHERE username = ?", [username])[0]
    return auth.user_from_row(row)


@pytest.fixture
def tokens(demo_db_path, monkeypatch):
    """role -> (token, user) of a live session (opened directly: the password check is covered elsewhere and slow)."""
    monkeypatch.setenv("VOIDDESK_DB", str(demo_db_path))
    db = open_database(str(demo_db_path))
    users = {role: _user(db, name) for role, name in USERNAME.items()}
    return {role: (auth.open_session(db, user), user) for role, user in users.items()}


def run_page(path: str, session: tuple | None, lang: str = "en") -> AppTest:
    """The page file on its own, in a browser session holding (token, user) and showing `lang` (a token alone is a
    browser that has not run a page yet: the user's own language then applies)."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    token, user = session or (None, None)
    if token:
        at.session_state["token"] = token
    if user:
        at.session_state["user"] = user
    at.session_state["lang"] = lang
    return at.run()


def _shows_data(at: AppTest) -> list[str]:
    return [kind for kind in DATA_ELEMENTS if len(at.get(kind))]


@pytest.mark.parametrize("role", [r for r in ROLES if _refused(r)])
def test_a_page_a_role_may_not_see_refuses_it_by_url_and_shows_nothing_else(tokens, role):
    problems = []
    for spec in _refused(role):
        at = run_page(spec.path, tokens[role])
        errors = [e.value for e in at.error]
        allowed = [t(f"role_plural.{r}", "en") for r in PERMISSIONS[spec.action]]
        if at.exception or len(errors) != 1 or not errors[0].startswith("Only ") \
                or not all(word in errors[0] for word in allowed):
            problems.append(f"{spec.path}: exception {at.exception}, errors {errors}")
        if _shows_data(at):
            problems.append(f"{spec.path}: shows {_shows_data(at)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["sales", "analyst"])
def test_a_refused_page_is_not_in_the_roles_navigation(app, role):
    sign_in(app, USERNAME[role])
    for spec in _refused(role):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(spec.path)


def test_the_refusal_is_in_the_users_language(tokens):
    at = run_page("pages/users.py", tokens["ops"], lang="zh")
    said = refusal(User(id=0, username="x", display_name="x", role="ops"), "users.manage").message("zh")
    assert [e.value for e in at.error] == [said] and said.startswith("只有")


def test_without_a_session_every_page_shows_only_the_sign_in_form():
    problems = []
    for spec in PAGES:
        at = run_page(spec.path, None)
        shown = [k for k in _shows_data(at) if k not in ("title", "text_input", "button")]
        if at.exception or at.text_input(key="login_username") is None or shown or at.error:
            problems.append(f"{spec.path}: {at.exception or shown or [e.value for e in at.error]}")
    assert not problems, "\n".join(problems)


def test_each_page_guards_itself_with_the_action_of_its_navigation_entry():
    """The navigation hides a page; the page's own guard is what refuses it: both must name the same action."""
    for spec in PAGES:
        calls = [n for n in ast.walk(ast.parse((ROOT / spec.path).read_text(encoding="utf-8")))
                 if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "signed_in_user"]
        assert len(calls) == 1, spec.path
        action = calls[0].args[0].value if calls[0].args else None
        assert action == spec.action, spec.path
    assert sorted(p.path for p in PAGES) == sorted(f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py"))


# --- sessions -----------------------------------------------------------------------------------------------

def _expire(db, token: str) -> None:
    with db.transaction() as cur:
        cur.execute("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                    [clock.now() - timedelta(seconds=1), hashlib.sha256(token.encode()).hexdigest()])


def test_an_expired_session_returns_to_sign_in_and_says_why(app, demo_db_path):
    sign_in(app, "ops")
    assert app.session_state["user"].username == "ops"
    _expire(open_database(str(demo_db_path)), app.session_state["token"])
    app.run()
    assert "user" not in app.session_state
    assert app.text_input(key="login_username") is not None
    assert [i.value for i in app.info] == [t("auth.session_ended", "en")]


def test_a_signed_out_token_opens_nothing_in_another_browser(app, tokens):
    sign_in(app, "finance")
    token = app.session_state["token"]
    app.button(key="logout").click().run()
    stolen = run_page("pages/refunds.py", (token, None))
    assert stolen.text_input(key="login_username") is not None
    assert not stolen.error and not stolen.dataframe and "user" not in stolen.session_state


def test_an_account_that_must_change_its_password_sees_only_the_way_to_the_account_page(demo_db_path, tokens):
    db = open_database(str(demo_db_path))
    with db.transaction() as cur:
        cur.execute("UPDATE users SET must_change_password = TRUE WHERE username = 'analyst'")
    try:
        analyst = _user(db, "analyst")
        session = (auth.open_session(db, analyst), analyst)
        for path in ("pages/search.py", "pages/explore.py", "pages/home.py"):
            at = run_page(path, session)
            assert [w.value for w in at.warning] == [t("auth.must_change", "en")], path
            assert not _shows_data(at) and not at.exception, path
    finally:
        with db.transaction() as cur:
            cur.execute("UPDATE users SET must_change_password = FALSE WHERE username = 'analyst'")


# --- no default passwords ---------------------------------------------------------------------------------

def _sign_in_page_text(at: AppTest) -> str:
    return " ".join(e.value for kind in ("caption", "markdown", "info", "warning")
                    for e in at.get(kind) if isinstance(getattr(e, "value", None), str))


def test_the_sign_in_page_mentions_the_demo_password_only_on_a_demo_database(app, tmp_path, monkeypatch):
    assert "demo1234" in _sign_in_page_text(app)                 # the seeded demo database says so
    path = str(tmp_path / "own.duckdb")
    assert cli(["init-db", "--db", path]) == 0
    monkeypatch.setenv("VOIDDESK_DB", path)
    fresh = AppTest.from_file(APP, default_timeout=60).run()
    assert not fresh.exception and fresh.text_input(key="login_username") is not None
    assert "demo1234" not in _sign_in_page_text(fresh)
    sign_in(fresh, "admin", "demo1234")
    assert [e.value for e in fresh.error] == [t("auth.wrong_credentials", "en")]
