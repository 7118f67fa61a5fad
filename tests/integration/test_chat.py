"""Team-chat notifications (issue #17 part 2) against a real HTTP endpoint on a loopback port (chat_server.py, no
mocked client), on a DuckDB file and on PostgreSQL: each kind's body (DingTalk's signature checked by the server),
events routed per channel in its language, retries with backoff on an injected clock, exactly once with two senders
and across a restart, and secrets kept out of the audit log, the history and the logs."""
import json
import logging
import threading
from datetime import timedelta

import pytest

from lib import clock
from lib.errors import InvalidInput
from lib.imports import propose, read_bytes, run_import
from lib.queries import chat as queries
from lib.services import chat_channels, voids
from lib.services.chat_delivery import LEASE_SECONDS, backoff, send_pending
from tests.integration import import_samples as samples
from tests.integration.chat_server import KEY, SECRET, channel, chat_server, deliveries, endpoint, spike  # noqa: F401
from tests.integration.void_helpers import make_order

pytestmark = pytest.mark.both_backends


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


def test_a_refused_post_is_retried_after_its_backoff_then_given_up_and_resent_by_hand(shop, endpoint):
    channel(shop, endpoint, "wecom", ["spike_alert"])
    spike(shop.db)
    start = clock.now()
    at = {"now": start}
    now = lambda: at["now"]  # noqa: E731
    endpoint.fail(10)
    assert send_pending(shop.db, now=now, max_attempts=3)["retrying"] == 1
    (row,) = deliveries(shop.db)
    assert (row["status"], row["attempts"], row["next_at"]) == ("retrying", 1, start + backoff(1))
    assert row["last_error"] == "errcode 45009: api freq out of limit"
    at["now"] = start + backoff(1) - timedelta(seconds=1)      # not yet due
    assert send_pending(shop.db, now=now, max_attempts=3)["retrying"] == 0 and len(endpoint.received) == 1
    at["now"] = start + backoff(1)
    assert send_pending(shop.db, now=now, max_attempts=3)["retrying"] == 1
    assert backoff(2) == 2 * backoff(1)
    at["now"] += backoff(2)
    assert send_pending(shop.db, now=now, max_attempts=3)["failed"] == 1        # third try: given up
    at["now"] += timedelta(days=1)
    assert send_pending(shop.db, now=now, max_attempts=3)["failed"] == 0 and len(endpoint.received) == 3
    endpoint.fail(0)
    chat_channels.resend(shop.db, shop.users["admin"], row["id"])
    assert send_pending(shop.db, now=now)["sent"] == 1
    assert deliveries(shop.db)[0]["status"] == "sent" and len(endpoint.received) == 4


def test_two_senders_at_once_post_each_delivery_once(shop, endpoint, backend, request):
    channel(shop, endpoint, "webhook", ["spike_alert"], name="one")
    channel(shop, endpoint, "slack", ["spike_alert"], name="two")
    for code in ("customer_cancelled", "out_of_stock", "order_error", "payment_failed", "fraud_risk", "other"):
        spike(shop.db, code)
    # PostgreSQL: two app processes' handles; a DuckDB file: two threads of its one process
    handles = [shop.db, request.getfixturevalue("replica") if backend == "postgresql" else shop.db]
    results, ready = [], threading.Barrier(2)

    def sender(db):
        ready.wait()
        results.append(send_pending(db))

    threads = [threading.Thread(target=sender, args=(db,)) for db in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["sent"] for r in results) == 12
    assert {d["status"] for d in deliveries(shop.db)} == {"sent"}
    assert len(endpoint.received) == 12
    sent = [(r["path"], json.dumps(r["body"], sort_keys=True)) for r in endpoint.received]
    assert len(set(sent)) == 12


def test_a_restarted_sender_retries_a_claim_never_posted_and_does_not_repost_one_cut_off(shop, endpoint):
    channel(shop, endpoint, "webhook", ["spike_alert"])
    for code in ("order_error", "fraud_risk", "other"):
        spike(shop.db, code)
    send_pending(shop.db, audit_ids=[])           # queued, nothing posted
    claimed, posting, queued = (d["id"] for d in deliveries(shop.db))
    long_ago = clock.now() - timedelta(seconds=LEASE_SECONDS + 1)
    with shop.db.transaction() as cur:             # what a sender killed at either step leaves behind
        cur.execute("UPDATE chat_deliveries SET status = 'claimed', attempts = 1, claimed_at = ? WHERE id = ?",
                    [long_ago, claimed])
        cur.execute("UPDATE chat_deliveries SET status = 'posting', attempts = 1, claimed_at = ?, posted_at = ?"
                    " WHERE id = ?", [long_ago, long_ago, posting])
    counts = send_pending(shop.db)
    assert (counts["sent"], counts["waiting"]) == (2, 0)
    status = {d["id"]: d["status"] for d in deliveries(shop.db)}
    assert status == {claimed: "sent", posting: "unconfirmed", queued: "sent"}
    assert sorted(b["details"]["top"]["key"] for b in endpoint.bodies()) == ["phones", "phones"]
    assert send_pending(shop.db)["sent"] == 0 and len(endpoint.received) == 2


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
