"""A real person's first minute: sign in, read the home figures, switch to 中文, refresh, sign out."""
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import login, wait_idle

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("VOIDDESK_SCREENSHOTS", Path(__file__).resolve().parents[2] / "artifacts"))


def _metric_labels(page) -> list[str]:
    return page.locator("[data-testid=stMetricLabel]").all_inner_texts()


def test_sign_in_read_home_switch_language_refresh_and_sign_out(server, page):
    SHOTS.mkdir(exist_ok=True)
    login(page, server, "lead")
    page.get_by_role("heading", name="Good to see you").wait_for()
    labels = _metric_labels(page)
    assert "Open orders" in labels and "Voids this week" in labels and "Pending approvals" in labels
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    assert any(v.replace(",", "").isdigit() and int(v.replace(",", "")) > 0 for v in values)
    page.screenshot(path=str(SHOTS / "home-en.png"), full_page=True)

    page.get_by_text("中文", exact=True).click()
    wait_idle(page)
    page.get_by_role("heading", name="欢迎回来").wait_for()
    assert "未完结订单" in _metric_labels(page)
    page.screenshot(path=str(SHOTS / "home-zh.png"), full_page=True)

    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name="欢迎回来").wait_for()  # still signed in, still in Chinese

    page.get_by_role("button", name="退出登录").click()
    wait_idle(page)
    page.get_by_role("button", name="登录").wait_for()
    page.reload()
    wait_idle(page)
    assert page.get_by_role("textbox", name="用户名").count() + page.get_by_role("textbox", name="Username").count() == 1


def test_wrong_password_is_refused_in_the_browser(server, page):
    login(page, server, "ops", "wrong-password")
    page.get_by_text("Wrong username or password.").wait_for()
