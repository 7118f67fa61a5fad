"""What the data says reaches a chat group as text (issue #16's rule for the pages, applied to team chat, issue #17):
an imported order number or a name holding Markdown neither links nor draws in WeCom, DingTalk or Slack."""
from datetime import datetime

from lib.services.chat_messages import Entry, compose
from lib.services.chat_payloads import body

ORDER_NO = "INJ-**b**[phish](http://evil.example)![t](http://evil.example/t.png)<b>x</b>"
LIVE = ("**b**", "[phish](", "![t](", "<b>")


def _posted(kind: str) -> str:
    entry = Entry(id=7, created_at=datetime(2026, 12, 6, 9, 0), action="void.request", entity_id="1",
                  order_no=ORDER_NO, after={"reason": "customer_cancelled"}, actor="sales",
                  reason_labels=None)
    message = compose(entry, "en", "https://voiddesk.example.com")
    posted = body(kind, entry, message, "en")
    return str(posted["markdown"]["content"] if kind == "wecom" else
               posted["markdown"]["text"] if kind == "dingtalk" else posted["text"])


def test_an_order_number_with_markdown_is_text_in_every_robot():
    for kind in ("wecom", "dingtalk"):
        text = _posted(kind)
        assert not [mark for mark in LIVE if mark in text], (kind, text)
        assert "INJ-＊＊b＊＊［phish］(http://evil.example)！［t］" in text, text   # it reads the same
        assert "(https://voiddesk.example.com/order?no=INJ-" in text and "%28http" in text   # the link is ours
    slack = _posted("slack")
    assert "<b>" not in slack and "&lt;b&gt;x&lt;/b&gt;" in slack
