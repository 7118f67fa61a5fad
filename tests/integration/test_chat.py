"""Team-chat notifications (issue #17 part 2) against a real HTTP endpoint on a loopback port (chat_server.py, no
mocked client): each kind's body (DingTalk's signature checked by the server), events routed per channel in its
language, import outcomes, and secrets kept out of the audit log, the history, the page and the logs. How deliveries
survive errors, races, restarts and kills: test_chat_delivery.py, on both backends."""
import json
import logging

import pytest

from lib.errors import InvalidInput
from lib.imports import propose, read_bytes, run_import
from lib.queries import chat as queries
from lib.services import chat_channels, voids
from lib.services.chat_delivery import send_pending
from tests.integration import import_samples as samples
from tests.integration.chat_server import KEY, SECRET, channel, chat_server, deliveries, endpoint, spike  # noqa: F401
from tests.integration.void_helpers import bulk_orders, make_order

def test_each_kind_gets_its_body_and_dingtalk_its_signature(shop, endpoint):
    chat_channels.set_base_url(shop.db, shop.users["admin"], "https://voiddesk.example.com/")
    for kind in ("wecom", "dingtalk", "slack", "webhook"):
        channel(shop, endpoint, kind, ["void_requested"])
    order_no = make_order(shop, by="sales")
    voids.void_order(shop.db, shop.users["sales"], order_no, "customer_cancelled")
    counts = send_pending(shop.db)
    assert (counts["queued"], counts["sent"], counts["waiting"]) == (4, 4, 0)
    by_path = {r["path"].split("/")[1]: r for r in endpoint.received}
    link = f"https://voiddesk.example.com/order?no={order_no}"
    wecom = by_path["wecom"]["body"]
    assert wecom["msgtype"] == "markdown" and order_no in wecom["markdown"]["content"]
    assert f"({link})" in wecom["markdown"]["content"] and "Customer cancelled" in wecom["markdown"]["content"]
    assert by_path["wecom"]["query"]["key"] == [KEY]
    assert by_path["dingtalk"]["query"]["sign"] and by_path["dingtalk"]["body"]["markdown"]["title"] == "Void requested"
    assert by_path["slack"]["body"] == {"text": f"*Void requested*\nA void of order {order_no} is waiting for"
                                                f" approval (Customer cancelled)\n<{link}|Open order {order_no}>"}
    hook = by_path["hook"]["body"]
    entry = audit_id(shop.db, "void.request")
    assert (hook["event_id"], hook["event"], hook["order_no"], hook["url"]) == (str(entry), "void_requested",
                                                                                 order_no, link)
    assert hook["details"]["reason"] == "customer_cancelled"
    assert send_pending(shop.db)["sent"] == 0 and len(endpoint.received) == 4    # once


def audit_id(db, action: str) -> int:
    with db.read() as cur:
        return cur.execute("SELECT max(id) FROM audit_log WHERE action = ?", [action]).fetchall()[0][0]


def test_events_go_to_the_channels_that_chose_them_in_their_language(shop, endpoint):
    leads = channel(shop, endpoint, "webhook", ["void_requested", "void_approved", "spike_alert"], name="leads")
    money = channel(shop, endpoint, "webhook", ["refund_owed", "void_rejected", "spike_alert"], "zh", name="finance")
    order_no = make_order(shop, by="sales", paid=True)
    voids.void_order(shop.db, shop.users["sales"], order_no, "customer_cancelled")
    voids.approve(shop.db, shop.users["ops_lead"], order_no)
    spike(shop.db)
    send_pending(shop.db)
    got = {(d["channel_id"], d["event"]): d["summary"] for d in deliveries(shop.db)}
    assert sorted(got) == sorted([(leads, "void_requested"), (leads, "void_approved"), (leads, "spike_alert"),
                                  (money, "refund_owed"), (money, "spike_alert")])
    assert got[money, "refund_owed"] == f"订单 {order_no} 需退款 ¥6,296.50"
    assert got[leads, "void_approved"] == f"The void of order {order_no} was approved"
    assert got[money, "spike_alert"] == ("原因“缺货”的作废：2026-11-23 当周 41 单，超过预警线 12。"
                                         "主要集中在：手机。")
    assert got[leads, "spike_alert"].startswith("Voids for reason Out of stock: 41 in the week of 2026-11-23")
    assert [b["event"] for b in endpoint.bodies()].count("spike_alert") == 2


def test_a_channel_gets_only_events_after_it_was_added_and_none_while_disabled(shop, endpoint):
    spike(shop.db, "order_error")                             # before the channel
    first = channel(shop, endpoint, "webhook", ["spike_alert"])
    spike(shop.db, "fraud_risk")
    send_pending(shop.db)
    version = queries.channels(shop.db, shop.users["admin"])[0]["version"]
    chat_channels.set_active(shop.db, shop.users["admin"], first, version, False)
    spike(shop.db, "payment_failed")                          # while disabled
    send_pending(shop.db)
    assert [b["details"]["top"]["key"] for b in endpoint.bodies()] == ["phones"]
    assert [d["event"] for d in deliveries(shop.db)] == ["spike_alert"]


def test_secrets_stay_out_of_the_audit_log_the_history_the_page_and_the_logs(shop, endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    admin = shop.users["admin"]
    ding = channel(shop, endpoint, "dingtalk", ["spike_alert"])
    closed = chat_channels.add_channel(shop.db, admin, name="gone", kind="wecom", events=["spike_alert"],
                                       language="en", webhook_url=f"http://127.0.0.1:9/cgi-bin/webhook/send?key={KEY}")
    version = queries.channels(shop.db, admin)[0]["version"]
    chat_channels.update_channel(shop.db, admin, ding, version, name="ding", language="zh", events=["spike_alert"],
                                 webhook_url=endpoint.url("/dingtalk", "?access_token=dtalk-token-77"),
                                 secret=SECRET)
    spike(shop.db)
    counts = send_pending(shop.db)
    assert (counts["sent"], counts["retrying"]) == (1, 1)     # nothing listens on port 9
    with shop.db.read() as cur:
        audit_text = json.dumps(cur.execute("SELECT * FROM audit_log").fetchall(), default=str)
        history = json.dumps(cur.execute("SELECT * FROM chat_deliveries").fetchall(), default=str)
    shown = json.dumps([queries.channels(shop.db, admin), queries.deliveries(shop.db, admin).to_dict("records")],
                       default=str)
    for secret in (KEY, SECRET, "dtalk-token-77"):
        for where, text in (("audit", audit_text), ("history", history), ("page", shown), ("logs", caplog.text)):
            assert secret not in text, (secret, where)
    assert "errcode" not in history and "ConnectError" in history
    assert {c["id"]: c["address"] for c in queries.channels(shop.db, admin)}[closed] == "http://127.0.0.1:9/…9c1e"


def test_an_import_leaves_an_audit_entry_whether_it_loads_or_not_and_both_reach_the_chat(shop, endpoint):
    channel(shop, endpoint, "webhook", ["import_finished", "import_failed"])
    lead = shop.users["ops_lead"]
    good = read_bytes("good.csv", samples.orders_csv(["G-1,CUS-1,2026-03-01 10:00,pending,SH,TOY-1,2,99.50"]))
    bad = read_bytes("bad.csv", samples.orders_csv(["G-2,CUS-9,2026-03-01 10:00,pending,SH,TOY-1,2,99.50"]))
    assert run_import(shop.db, lead, good, propose("orders", good)).ok
    assert not run_import(shop.db, lead, bad, propose("orders", bad)).ok
    with pytest.raises(InvalidInput):                        # refused before a row is read
        run_import(shop.db, lead, good, propose("orders", good), mode="sideways")
    send_pending(shop.db)
    assert [b["text"] for b in endpoint.bodies()] == [
        "Import of Orders (with their lines) from good.csv finished: 1 rows loaded.",
        "Import of Orders (with their lines) from bad.csv failed: 1 of 1 rows rejected, nothing loaded.",
        "Import of Orders (with their lines) from good.csv failed: The import mode must be one of insert, upsert,"
        " not sideways."]


def test_a_batch_is_one_message_per_channel_and_event_and_a_lone_void_keeps_its_own(shop, endpoint):
    chat_channels.set_base_url(shop.db, shop.users["admin"], "https://voiddesk.example.com")
    events = ["void_requested", "void_approved", "refund_owed"]
    for kind in ("wecom", "dingtalk", "slack"):
        channel(shop, endpoint, kind, events)
    hook = channel(shop, endpoint, "webhook", [*events, "void_rejected"], "zh")
    numbers = bulk_orders(shop.db, 12, price="100.50")
    refused = bulk_orders(shop.db, 2, sku="BULK-2", prefix="RJ")
    lone = make_order(shop, by="sales")
    voids.void_batch(shop.db, shop.users["sales"], numbers + refused, "customer_cancelled")   # sales: 14 requests
    voids.void_order(shop.db, shop.users["sales"], lone, "customer_cancelled")
    voids.decide_many(shop.db, shop.users["ops_lead"], numbers, "approve")          # 12 voids, 12 refunds
    voids.decide_many(shop.db, shop.users["ops_lead"], refused, "reject", "not this week")
    counts = send_pending(shop.db)
    assert (counts["queued"], counts["sent"]) == (17, 17)   # 4 × (3 batch events + the lone request) + the rejections
    got = {(d["channel_id"], d["event"], d["order_no"]): d["summary"] for d in deliveries(shop.db)}
    assert sorted(e for c, e, n in got if c == hook) == ["refund_owed", "void_approved", "void_rejected",
                                                        "void_requested", "void_requested"]
    assert got[hook, "void_rejected", None].endswith(f"原因：客户取消；合计 ¥20.00\n{refused[0]}、{refused[1]}")
    assert got[hook, "void_requested", lone].startswith(f"订单 {lone} 的作废申请待审批")
    lead, rep = shop.users["ops_lead"].display_name, shop.users["sales"].display_name    # as the group knows them
    assert got[hook, "refund_owed", None] == (f"{lead} 作废的 12 个订单需退款；原因：客户取消；合计 ¥1,206.00\n"
                                              f"{'、'.join(numbers[:5])} 等另外 7 个订单")
    body = [b for b in endpoint.bodies("/hook") if b["event"] == "void_approved"][0]
    assert (body["order_no"], body["details"]["count"], body["details"]["order_nos"]) == (None, 12, numbers)
    assert body["url"] == "https://voiddesk.example.com/audit"
    slack = [b["text"] for b in endpoint.bodies() if "Void requested*\n14 " in b.get("text", "")]
    assert slack == [f"*Void requested*\n14 orders are waiting for void approval, requested by {rep} — reason:"
                     f" Customer cancelled — total ¥1,226.00\n"
                     + ", ".join(f"<https://voiddesk.example.com/order?no={n}|{n}>" for n in numbers[:5])
                     + " and 9 more\n<https://voiddesk.example.com/approvals|Open the approvals queue>"]
    robots = [str(b["markdown"]) for b in endpoint.bodies() if "refunds owed" in str(b.get("markdown"))]
    assert len(robots) == 2 and all(f"[{numbers[0]}](https://voiddesk.example.com/order?no={numbers[0]})" in text
                                    for text in robots)                            # WeCom's and DingTalk's
    assert send_pending(shop.db)["sent"] == 0 and len(endpoint.received) == 17      # once
