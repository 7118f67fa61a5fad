"""The mail outbox sender against a real SMTP conversation on 127.0.0.1 (a tiny stdlib server, no mocks)."""
import socket
import socketserver
import threading
from datetime import timedelta

import pytest

from lib import clock
from lib.services.mailer import config_from_env, send_pending
from lib.services.notify import notify, queue_mail


class SmtpSink(socketserver.ThreadingTCPServer):
    """Speaks just enough SMTP to accept mail; keeps what it received. `refuse_data` answers 451 to DATA."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse_data: bool = False):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[str] = []
        self.refuse_data = refuse_data
        self.lock = threading.Lock()

    @property
    def config(self) -> dict:
        return {"host": "127.0.0.1", "port": self.server_address[1], "from_address": "desk@example.test",
                "timeout": 5}


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self):
        self._say("220 sink ready")
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 sink")
            elif verb == "DATA" and self.server.refuse_data:
                self._say("451 try again later")
            elif verb == "DATA":
                self._say("354 go ahead")
                self._read_message()
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:   # MAIL, RCPT, RSET, NOOP
                self._say("250 ok")

    def _read_message(self):
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line.decode("utf-8", "replace"))
        with self.server.lock:
            self.server.received.append("".join(lines))
        self._say("250 queued")

    def _say(self, text: str):
        self.wfile.write(text.encode("ascii") + b"\r\n")


@pytest.fixture
def sink():
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _queue(shop, n: int = 1) -> None:
    with shop.db.transaction() as cur:
        cur.execute("UPDATE users SET email = username || '@example.test'")
        for i in range(n):
            notify(cur, [shop.users["finance"].id], "refund.created",
                   {"order_no": f"SO-{i}", "amount": "1.00", "source": "void"}, order_no=f"SO-{i}")
    assert queue_mail(shop.db) == n


def test_each_notification_is_mailed_once_in_its_reader_language_and_demo_history_is_not(shop):
    with shop.db.transaction() as cur:
        cur.execute("UPDATE users SET email = username || '@example.test', language = 'zh' WHERE username = 'finance'")
        notify(cur, [shop.users["finance"].id, shop.users["ops"].id], "refund.created",
               {"order_no": "SO-1", "amount": "1.00", "source": "void"}, order_no="SO-1")
    assert queue_mail(shop.db) == 1          # ops has no e-mail address: inbox only
    assert queue_mail(shop.db) == 0          # never twice
    with shop.db.read() as cur:
        (to, subject), = cur.execute("SELECT to_address, subject FROM mail_outbox").fetchall()
    assert to == "finance@example.test" and "SO-1" in subject and "退款" in subject


def _outbox(shop) -> list[tuple]:
    with shop.db.read() as cur:
        return cur.execute("SELECT status, attempts, last_error IS NOT NULL, sent_at IS NOT NULL FROM mail_outbox"
                           " ORDER BY id").fetchall()


def test_message_is_kept_while_the_server_is_down_and_sent_once_when_it_is_back(shop, sink):
    _queue(shop)
    down = {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2}
    result = send_pending(shop.db, down)
    assert (result["sent"], result["failed"], result["waiting"]) == (0, 1, 1)
    assert _outbox(shop) == [("failed", 1, True, False)]
    result = send_pending(shop.db, sink.config)
    assert (result["sent"], result["failed"], result["waiting"]) == (1, 0, 0)
    assert _outbox(shop) == [("sent", 2, False, True)]
    assert send_pending(shop.db, sink.config)["sent"] == 0
    assert len(sink.received) == 1
    assert "Subject: [VoidDesk] A refund of 1.00 is owed on order SO-0" in sink.received[0]
    assert "To: finance@example.test" in sink.received[0]


def test_a_server_refusing_the_message_leaves_it_failed_with_the_error(shop):
    server = SmtpSink(refuse_data=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _queue(shop)
        assert send_pending(shop.db, server.config)["failed"] == 1
    finally:
        server.shutdown()
        server.server_close()
    with shop.db.read() as cur:
        assert "451" in cur.execute("SELECT last_error FROM mail_outbox").fetchall()[0][0]


def test_after_max_attempts_a_message_is_kept_but_no_longer_tried(shop):
    _queue(shop)
    tries = []

    def broken(message):
        tries.append(message["To"])
        raise ConnectionRefusedError("mail server down")

    for _ in range(4):
        send_pending(shop.db, None, sender=broken, max_attempts=3)
    assert len(tries) == 3
    assert _outbox(shop) == [("failed", 3, True, False)]
    result = send_pending(shop.db, None, sender=broken, max_attempts=3)
    assert (result["waiting"], result["given_up"]) == (0, 1)


def test_without_smtp_settings_nothing_is_sent_and_nothing_changes(shop):
    _queue(shop, 2)
    result = send_pending(shop.db, None)
    assert (result["configured"], result["sent"], result["waiting"]) == (False, 0, 2)
    assert _outbox(shop) == [("queued", 0, False, False)] * 2
    assert config_from_env({}) is None
    assert config_from_env({"VOIDDESK_SMTP_HOST": "mail", "VOIDDESK_SMTP_PORT": "2525"})["port"] == 2525


def test_two_senders_at_once_send_each_message_exactly_once(shop, sink):
    _queue(shop, 12)
    barrier, results = threading.Barrier(2), []

    def run():
        barrier.wait()
        results.append(send_pending(shop.db, sink.config))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 12
    assert len(sink.received) == 12
    assert sorted(m.split("order SO-")[1].split()[0] for m in sink.received) == sorted(str(i) for i in range(12))


def test_a_claim_left_by_a_dead_sender_is_taken_over_after_the_lease(shop, sink):
    _queue(shop, 2)
    with shop.db.transaction() as cur:   # as a sender that died mid-send would leave them
        cur.execute("UPDATE mail_outbox SET status = 'sending', attempts = 1, sent_at = ? WHERE id = 1",
                    [clock.now() - timedelta(hours=1)])
        cur.execute("UPDATE mail_outbox SET status = 'sending', attempts = 1, sent_at = ? WHERE id = 2",
                    [clock.now()])
    assert send_pending(shop.db, sink.config, lease_seconds=300)["sent"] == 1
    assert [row[0] for row in _outbox(shop)] == ["sent", "sending"]
