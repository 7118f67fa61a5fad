"""How team-chat deliveries survive (issue #17 part 2), on a DuckDB file and on PostgreSQL, against a real loopback
endpoint: retries with backoff on an injected clock, exactly once with two senders at once and across a restart; a
channel that does not answer neither holds up a void nor gets its message twice; and a `chat send` process killed
(SIGKILL) while its post hangs loses nothing and sends nothing twice after a restart."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest

from lib import clock
from lib.db import Database, connect
from lib.services import chat_channels, voids
from lib.services.chat_delivery import LEASE_SECONDS, backoff, send_pending
from tests.integration.chat_server import channel, chat_server, deliveries, endpoint, spike  # noqa: F401
from tests.integration.crash_helpers import ROOT
from tests.integration.void_helpers import bulk_orders, make_order

pytestmark = pytest.mark.both_backends


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


def test_a_hanging_channel_holds_up_no_void_and_a_timed_out_post_is_not_repeated(shop, endpoint):
    channel(shop, endpoint, "webhook", ["spike_alert", "void_requested"])
    spike(shop.db)
    endpoint.hang()
    outcome = {}
    # a patient sender (60 s): however long the void takes here, the post is still waiting when it is done
    sender = threading.Thread(target=lambda: outcome.update(send_pending(shop.db, timeout=httpx.Timeout(60))))
    sender.start()
    endpoint.wait_for(1)                                    # the post is out; the channel says nothing
    order_no = make_order(shop, by="sales")
    assert voids.void_order(shop.db, shop.users["sales"], order_no, "customer_cancelled")["outcome"] \
        == "pending_approval"
    assert sender.is_alive() and not endpoint.held.is_set()   # the void was done while the post still waited
    endpoint.release()
    sender.join()
    assert outcome["sent"] == 1

    endpoint.hang()                                          # now a short timeout runs out
    started = time.monotonic()
    counts = send_pending(shop.db, timeout=httpx.Timeout(0.3))
    assert counts["unconfirmed"] == 1 and time.monotonic() - started < 10
    endpoint.release()
    late = [d for d in deliveries(shop.db) if d["event"] == "void_requested"][0]
    assert (late["status"], late["last_error"].split(":")[0]) == ("unconfirmed", "ReadTimeout")
    assert send_pending(shop.db)["sent"] == 0 and len(endpoint.received) == 2


def test_a_sender_killed_mid_post_loses_nothing_and_sends_nothing_twice(shop, endpoint, backend):
    channel(shop, endpoint, "webhook", ["spike_alert"])
    for code in ("order_error", "fraud_risk", "other"):
        spike(shop.db, code)
    send_pending(shop.db, audit_ids=[])                     # three deliveries queued, none posted
    target = shop.db.path
    if backend == "duckdb":
        shop.db.close()                                     # the CLI process needs the file to itself
    endpoint.hang()
    child = subprocess.Popen([sys.executable, "-m", "lib.cli", "chat", "send", "--timeout", "30", "--db", target],
                             cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        endpoint.wait_for(1)                                # killed while its first post hangs
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    endpoint.release()
    db = Database(target) if backend == "duckdb" else connect(target)   # the restart
    try:
        assert [d["status"] for d in deliveries(db)] == ["posting", "queued", "queued"]
        later = clock.now() + timedelta(seconds=LEASE_SECONDS + 1)
        counts = send_pending(db, now=lambda: later)
        assert (counts["sent"], counts["unconfirmed"], counts["waiting"]) == (2, 0, 0)
        cut_off, *others = deliveries(db)
        assert (cut_off["status"], [d["status"] for d in others]) == ("unconfirmed", ["sent", "sent"])
        ids = [r["body"]["event_id"] for r in endpoint.received]
        assert sorted(ids) == sorted(str(d["audit_id"]) for d in deliveries(db))   # each once
        chat_channels.resend(db, shop.users["admin"], cut_off["id"])                 # the admin decides
        assert send_pending(db, now=lambda: later)["sent"] == 1
        assert endpoint.received[-1]["body"]["event_id"] == str(cut_off["audit_id"])  # same id: receivers dedupe
    finally:
        db.close()


def test_a_batch_message_is_retried_settled_after_a_kill_and_resent_as_one_event(shop, endpoint):
    channel(shop, endpoint, "webhook", ["void_requested"])
    numbers = bulk_orders(shop.db, 6)
    voids.void_batch(shop.db, shop.users["sales"], numbers, "customer_cancelled")     # 6 requests, one message
    start = clock.now()
    at = {"now": start}
    now = lambda: at["now"]  # noqa: E731
    endpoint.fail(1)
    assert send_pending(shop.db, now=now)["retrying"] == 1
    (row,) = deliveries(shop.db)
    long_ago = start - timedelta(seconds=LEASE_SECONDS + 1)
    with shop.db.transaction() as cur:                    # its retry's sender killed mid-post
        cur.execute("UPDATE chat_deliveries SET status = 'posting', attempts = 2, posted_at = ? WHERE id = ?",
                    [long_ago, row["id"]])
    at["now"] = start + backoff(1)
    assert send_pending(shop.db, now=now)["sent"] == 0 and deliveries(shop.db)[0]["status"] == "unconfirmed"
    chat_channels.resend(shop.db, shop.users["admin"], row["id"])
    assert send_pending(shop.db, now=now)["sent"] == 1
    first, again = endpoint.bodies()
    assert first == again and again["details"]["order_nos"] == numbers and again["order_no"] is None
    with shop.db.read() as cur:
        first_entry = cur.execute("SELECT min(id) FROM audit_log WHERE action = 'void.request'").fetchall()[0][0]
    assert again["event_id"] == str(row["audit_id"]) == str(first_entry)
    assert [d["status"] for d in deliveries(shop.db)] == ["sent"]
