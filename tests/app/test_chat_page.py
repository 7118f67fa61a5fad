"""The team-chat page through AppTest (issue #17 part 2), on a demo database of its own and a loopback endpoint: an
administrator adds a channel, sends a test, reads the history in 中文 (translated headers, no "None") and resends an
unconfirmed message; the address is never shown back."""
import pytest

from tests.app import builders as b
from tests.app.conftest import app_on, seeded, sign_in
from tests.app.readable import cut_numbers, raw_names
from tests.integration.chat_server import ChatServer


@pytest.fixture(scope="module")
def chat_db_path(tmp_path_factory):
    return seeded(tmp_path_factory.mktemp("chat_page") / "demo.duckdb", orders=200, seed=5)


@pytest.fixture(scope="module")
def endpoint():
    server = ChatServer()
    yield server
    server.close()


def test_admin_adds_a_channel_tests_it_and_resends_from_the_history(chat_db_path, endpoint, monkeypatch):
    app = app_on(chat_db_path, monkeypatch)
    b.sign_in(app, "admin")
    b.open_page(app, "pages/chat.py")
    assert not app.exception and app.title[0].value == "Team chat notifications"
    app.selectbox(key="chat_new_kind").set_value("webhook")
    app.text_input(key="chat_new_name").input("Ops group 运营群")
    app.text_input(key="chat_new_url").input(endpoint.url("/hook", "?token=hook-secret-42"))
    app.button(key="chat_add_submit").click().run()
    assert not app.exception and "Ops group 运营群 is added." in b.messages(app.success)[0]
    channel_id = b.value(chat_db_path, "SELECT id FROM chat_channels")["id"]
    page_text = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
    assert "hook-secret-42" not in page_text and "…t-42" in page_text

    app.button(key=f"chat_channel_{channel_id}_test").click().run()
    assert b.messages(app.success) == ["Test message sent to Ops group 运营群: it arrived."]
    assert endpoint.wait_for(1)[0]["body"]["event"] == "test"

    app.toggle(key=f"chat_channel_{channel_id}_edit").set_value(True).run()
    app.text_input(key=f"chat_channel_{channel_id}_name").input("Ops group")
    app.multiselect(key=f"chat_channel_{channel_id}_events").set_value(["void_requested", "spike_alert"])
    app.button(key=f"chat_channel_{channel_id}_save").click().run()
    assert b.messages(app.success) == ["Ops group is saved."]
    saved = b.value(chat_db_path, "SELECT name, events, webhook_url FROM chat_channels")
    assert saved == {"name": "Ops group", "events": "void_requested,spike_alert",    # the address kept as it was
                     "webhook_url": endpoint.url("/hook", "?token=hook-secret-42")}

    with b.handle(chat_db_path).transaction() as cur:       # as a sender killed mid-post leaves one
        cur.execute("UPDATE chat_deliveries SET status = 'unconfirmed'")
    b.open_page(app, "pages/chat.py")
    app.button(key="chat_resend").click().run()
    assert b.messages(app.success) == ["Queued again: it goes out within a few seconds."]
    assert b.value(chat_db_path, "SELECT status FROM chat_deliveries")["status"] == "queued"

    with b.handle(chat_db_path).transaction() as cur:
        cur.execute("UPDATE users SET language = 'zh' WHERE username = 'admin'")
    app = app_on(chat_db_path, monkeypatch)                  # a new session, in 中文 from the start
    sign_in(app, "admin")
    app.switch_page("pages/chat.py")
    app._run(None)
    assert not app.exception and raw_names(app) == [] and cut_numbers(app) == []
    history = b.table_with(app, "summary")
    # waiting, or sent meanwhile by the app's background sender (lib/ui/chat_worker.py)
    assert list(history["status"]) in (["待发送"], ["已发送"]) and list(history["event"]) == ["测试消息"]
