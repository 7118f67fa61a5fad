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


def test_a_batch_of_long_order_numbers_fits_each_robot():
    # Imports allow 200-character order numbers: five of them with links were 12.7 KB, WeCom takes 4,096 bytes.
    from lib.services.chat_messages import Message
    from lib.services.chat_payloads import LIMITS

    numbers = [f"订单{'号' * 190}-{n}" for n in range(5)]
    message = Message("作废申请", "14 个订单申请作废", "https://desk.example/approvals", "打开审批",
                      tuple((n, f"https://desk.example/order?no={n}") for n in numbers), "另有 9 个", "、")
    entry = Entry(7, datetime(2026, 12, 6, 9, 0), "void.request", "1", None, {}, "Li Lei")
    wecom = body("wecom", entry, message, "zh")["markdown"]["content"]
    assert len(wecom.encode()) <= LIMITS["wecom"] and wecom.startswith("**作废申请**\n14 个订单申请作废")
    ding = body("dingtalk", entry, message, "zh")["markdown"]["text"]
    assert len(ding.encode()) <= LIMITS["dingtalk"] and "](https://desk.example/order?no=" in ding   # links kept
    huge = Message("标题", "字" * 50_000, None, None)
    assert len(body("wecom", entry, huge, "zh")["markdown"]["content"].encode()) <= LIMITS["wecom"]
    assert len(body("slack", entry, huge, "zh")["text"]) <= LIMITS["slack"]
