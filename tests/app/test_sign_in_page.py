"""The sign-in page with and without the company sign-in configured (issue #16), in AppTest: without an [auth]
section it is the password form as before; with one, a button for the company account above the form; with
[voiddesk] password_sign_in = false, the button alone. Signing in through a real provider is
tests/e2e/test_oidc_journey.py (AppTest has no browser to send to the provider)."""
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-long-random-secret-for-tests",
        "client_id": "voiddesk", "client_secret": "client-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
COMPANY = "Sign in with your company account"


def _sign_in_page(demo_db_path, monkeypatch, secrets: dict) -> AppTest:
    monkeypatch.setenv("VOIDDESK_DB", str(demo_db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(secrets)   # these alone: a secrets.toml of the machine's own is not read
    at.run()
    assert not at.exception, at.exception
    return at


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def _has_password_form(at: AppTest) -> bool:
    return any(t.key == "login_username" for t in at.text_input)


def test_without_an_auth_section_the_page_is_the_password_form_alone(demo_db_path, monkeypatch):
    at = _sign_in_page(demo_db_path, monkeypatch, {"voiddesk": {"password_sign_in": False}})
    assert COMPANY not in _labels(at)
    assert _has_password_form(at)   # switching passwords off needs the company sign-in, or nobody could sign in
    assert not [c for c in at.caption if c.value.startswith("Or with")]


def test_with_an_auth_section_the_company_account_comes_first_and_passwords_still_work(demo_db_path, monkeypatch):
    at = _sign_in_page(demo_db_path, monkeypatch, {"auth": AUTH})
    assert _labels(at)[0] == COMPANY and _has_password_form(at)
    assert "Or with a VoidDesk username and password:" in [c.value for c in at.caption]
    at.text_input(key="login_username").input("lead")
    at.text_input(key="login_password").input("demo1234")
    next(b for b in at.button if b.form_id == "login").click().run()
    assert not at.exception and at.session_state["user"].username == "lead"


def test_password_sign_in_can_be_switched_off(demo_db_path, monkeypatch):
    at = _sign_in_page(demo_db_path, monkeypatch, {"auth": AUTH, "voiddesk": {"password_sign_in": False}})
    assert COMPANY in _labels(at) and not _has_password_form(at)
    at.segmented_control(key="lang_choice").set_value("zh").run()
    assert "使用公司账号登录" in _labels(at)


def test_an_incomplete_auth_section_changes_nothing(demo_db_path, monkeypatch):
    half = {k: v for k, v in AUTH.items() if k != "server_metadata_url"}
    at = _sign_in_page(demo_db_path, monkeypatch, {"auth": half, "voiddesk": {"password_sign_in": False}})
    assert COMPANY not in _labels(at) and _has_password_form(at)
