"""The session cookie as the browser stores it (issue #16, finding 7): SameSite=Strict always, Secure whenever the
page came over HTTPS. It is written by page JavaScript (Streamlit gives no way to send Set-Cookie), so it cannot be
HttpOnly; README "Security" says what limits the risk. The script is the app's own (lib.ui.session.cookie_js), run
in Chromium on a page served as http and as https (Playwright answers the requests itself: no server, no TLS)."""
import pytest

from lib.ui.session import COOKIE, cookie_js

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scheme, secure", [("http", False), ("https", True)])
def test_the_cookie_is_strict_and_secure_over_https(page, scheme, secure):
    page.route("**/*", lambda route: route.fulfill(
        content_type="text/html", body=f"<html><body><script>{cookie_js('tok-en_1', 3600)}</script></body></html>"))
    page.goto(f"{scheme}://voiddesk.example/")
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert (cookie["value"], cookie["sameSite"], cookie["secure"], cookie["httpOnly"]) == (
        "tok-en_1", "Strict", secure, False)
    assert 3500 < cookie["expires"] - page.evaluate("Date.now() / 1000") <= 3600
