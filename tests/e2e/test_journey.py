"""A real person's first minute: sign in, read the home figures, switch to 中文, refresh, sign out."""
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import login, settle, sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("VOIDDESK_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts"))


def _metric_labels(page) -> list[str]:
    return page.locator("[data-testid=stMetricLabel]").all_inner_texts()


def test_sign_in_read_home_switch_language_refresh_and_sign_out(server, page):
    SHOTS.mkdir(exist_ok=True)
    login(page, server, "lead", language="en")
    page.get_by_role("heading", name="Good to see you").wait_for()
    page.locator("[data-testid=stMetric]").filter(has_text="Open orders").first.wait_for()   # drawn, not just begun
    settle(page)
    labels = _metric_labels(page)
    assert "Open orders" in labels and "Voids this week" in labels and "Pending approvals" in labels
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert any(v.replace(",", "").isdigit() and int(v.replace(",", "")) > 0 for v in values)
    page.screenshot(path=str(SHOTS / "home-en.png"), full_page=True)

    page.get_by_text("中文", exact=True).click()
    page.get_by_role("heading", name="欢迎回来").wait_for()
    settle(page)
    assert "未完结订单" in _metric_labels(page)
    page.screenshot(path=str(SHOTS / "home-zh.png"), full_page=True)

    page.reload()
    page.get_by_role("heading", name="欢迎回来").wait_for()  # still signed in, still in Chinese
    settle(page)

    # A page this role may not see, opened by its address: Home says which and why, in the user's language.
    page.goto(f"{server}/users")
    page.get_by_text("您无法打开“用户”：只有管理员可以管理用户。").wait_for()
    settle(page)
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_role("link", name="首页").last.click()
    page.get_by_role("heading", name="欢迎回来").wait_for()
    settle(page)

    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("textbox", name="用户名").wait_for()   # signed out; this session stays in Chinese
    settle(page)
    page.reload()
    # A new session, signed out: the sign-in page in the server's language (English, SERVER_ENV), once.
    page.get_by_role("textbox", name="Username", exact=True).wait_for()
    settle(page)
    assert page.get_by_role("textbox", name="Username", exact=True).count() == 1
    assert page.get_by_role("textbox", name="用户名").count() == 0


def test_wrong_password_is_refused_in_the_browser(server, page):
    sign_in(page, server, "ops", "wrong-password")
    page.get_by_text("Wrong username or password.").wait_for()
