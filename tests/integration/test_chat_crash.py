"""Team chat when channels are slow or the sender dies (issue #17 part 2), on a DuckDB file and on PostgreSQL: a
channel that does not answer neither holds up a void nor gets its message twice, and a `chat send` process killed
(SIGKILL) while its post hangs loses nothing and sends nothing twice after a restart."""
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
from lib.services.chat_delivery import LEASE_SECONDS, send_pending
from tests.integration.chat_server import channel, chat_server, deliveries, endpoint, spike  # noqa: F401
from tests.integration.crash_helpers import ROOT
from tests.integration.void_helpers import make_order

pytestmark = pytest.mark.both_backends


def test_a_hanging_channel_holds_up_no_void_and_a_timed_out_post_is_not_repeated(shop, endpoint):
    channel(shop, endpoint, "webhook", ["spike_alert", "void_requested"])
    spike(shop.db)
    endpoint.hang()
    outcome = {}
    sender = threading.Thread(target=lambda: outcome.update(send_pending(shop.db)))
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
    child = subprocess.Popen([sys.executable, "-m", "lib.cli", "chat", "send", "--db", target], cwd=ROOT,
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
