"""Signing in with the company account (issue #16), in Chromium, through a real OpenID Connect provider
(lib.tools.oidc_provider: Authlib's server side, in a thread of this process) and Streamlit's own st.login.

A server of its own, whose secrets file names the provider: the module runs beside the shared demo server (it is
in OWN_SERVERS, tests/conftest.py). st.login sends the browser back to redirect_uri, so the browser opens the app at
that same address (http://localhost:PORT): its cookies must be the ones the callback sees. One journey in one tab,
because every sign-in is a round trip through the provider (issue #16 asks for a short test)."""
import pytest

from lib import clock
from lib.tools.devserver import free_port
from lib.tools.oidc_provider import OidcProvider
from tests.e2e.conftest import SERVER_ENV, SESSION_COOKIE_SET, new_page, settle, start_server, stop_server

pytestmark = pytest.mark.e2e
COMPANY = "Sign in with your company account"
ANOTHER = "Sign in with another company account"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """A small seeded database served with an [auth] section pointing st.login at a provider started here."""
    from lib.db import Database, apply_migrations
    from lib.seed import seed

    folder = tmp_path_factory.mktemp("oidc")
    db = Database(str(folder / "demo.duckdb"))
    apply_migrations(db)
    seed(db, orders=200, seed=16, today=clock.today())   # its accounts' e-mails: lead@voiddesk.example, …
    db.close()
    port = free_port()
    url = f"http://localhost:{port}"
    provider = OidcProvider([f"{url}/oauth2callback"]).start()
    secrets = folder / "secrets.toml"
    secrets.write_text(provider.auth_section(), encoding="utf-8")
    proc, _ = start_server(folder / "demo.duckdb", env_extra=SERVER_ENV, port=port, secrets=secrets)
    yield url
    stop_server(proc)
    provider.stop()


def _through_the_provider(page, button: str, email: str) -> None:
    """From the sign-in page through the provider's page (which asks which e-mail signs in) and back."""
    page.get_by_role("button", name=button).click()
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _nav(page) -> str:
    return " ".join(page.locator("[data-testid=stSidebarNav] [data-testid=stSidebarNavLink]").all_inner_texts())


def test_an_unknown_email_is_refused_then_the_lead_signs_in_with_their_role_and_out_of_both(browser, app_url):
    page = new_page(browser)
    page.goto(app_url)
    _through_the_provider(page, COMPANY, "stranger@voiddesk.example")
    refusal = page.get_by_text("No VoidDesk account has the e-mail")
    refusal.wait_for()
    settle(page)   # the e-mail as text (md_escape: a word joiner after "@" keeps it from becoming a mailto link)
    assert "the e-mail stranger@\u2060voiddesk.example. Ask an administrator" in refusal.inner_text()
    assert page.locator(".st-key-logout").count() == 0

    _through_the_provider(page, ANOTHER, "lead@voiddesk.example")
    page.get_by_text("· Operations lead").wait_for()   # the account's role, kept
    page.wait_for_function(SESSION_COOKIE_SET)         # VoidDesk's own session, as after a password
    settle(page)
    assert "Approvals" in _nav(page) and "Users" not in _nav(page)   # a lead's pages: no administrator's

    with page.expect_navigation():   # st.logout: the browser goes to /auth/logout, which sends it back to /
        page.locator(".st-key-logout").get_by_role("button").click()
    page.get_by_role("button", name=COMPANY).wait_for()
    page.wait_for_function(f"() => !({SESSION_COOKIE_SET})()")
    settle(page)
    assert page.locator(".st-key-logout").count() == 0
    assert not [c["name"] for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    page.context.close()
