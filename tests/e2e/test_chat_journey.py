"""Team chat in the browser (issue #17 part 2): an administrator adds a webhook channel, sends a test that reaches a
real endpoint on a loopback port, and sees it delivered in the history; the address is never shown back."""
import pytest

from tests.e2e.conftest import goto, login, settle
from tests.integration.chat_server import ChatServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def endpoint():
    server = ChatServer()
    yield server
    server.close()


def test_an_admin_adds_a_channel_sends_a_test_and_sees_it_delivered(server, page, endpoint):
    login(page, server, "admin")
    goto(page, f"{server}/team-chat", "Team chat notifications")
    form = page.locator("[data-testid=stForm]").filter(has=page.get_by_role("button", name="Add channel"))
    form.get_by_role("textbox", name="Name").fill("Night shift 夜班群")
    form.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="Generic JSON webhook").click()
    form.get_by_role("textbox", name="Webhook address").fill(endpoint.url("/hook", "?token=e2e-secret-token"))
    form.get_by_role("button", name="Add channel").click()
    page.get_by_text("Night shift 夜班群 is added. Send a test to check it.").wait_for()
    settle(page)
    assert "e2e-secret-token" not in page.content()        # the form kept nothing (clear_on_submit)

    box = page.locator("[class*=st-key-chat_channel_]").filter(has_text="Night shift 夜班群").first
    box.get_by_role("button", name="Send a test").click()
    page.get_by_text("Test message sent to Night shift 夜班群: it arrived.").wait_for()
    settle(page)
    assert endpoint.wait_for(1)[0]["body"]["event"] == "test"

    grid = page.locator("[data-testid=stDataFrame]").filter(has_text="Night shift 夜班群").first
    row = grid.locator("tbody tr").filter(has_text="Night shift 夜班群").first
    row.wait_for(state="attached")
    assert "Test message" in row.text_content() and "Sent" in row.text_content()

    box.get_by_role("button", name="Disable").click()     # the other journeys' changes are not for this group
    page.get_by_text("Night shift 夜班群 is disabled: nothing more is queued for it.").wait_for()
    settle(page)
