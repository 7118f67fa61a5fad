"""A team-chat endpoint on a loopback port for the tests (no mocked HTTP client): it records what it receives and
answers as a WeCom or DingTalk robot, a Slack webhook or a generic webhook would — or with errors, or not at all.

Paths: /wecom, /dingtalk (checks the signature with SECRET), /slack, /hook. `fail(n)`: the next n requests are
refused (errcode 45009 / HTTP 500); `hang()`: requests are held unanswered until `release()`.
"""
import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from lib.db import rows_as_dicts
from lib.services import audit, chat_channels

SECRET = "SECtest-signing-secret-0123456789"
KEY = "wecomkey-5f3a9c1e"       # a robot's key: a secret in the address


@pytest.fixture(scope="module")
def chat_server():
    """One endpoint per test module."""
    endpoint = ChatServer()
    yield endpoint
    endpoint.close()


@pytest.fixture
def endpoint(chat_server):
    """The module's endpoint, emptied and answering at once."""
    chat_server.received.clear()
    chat_server.fail(0)
    chat_server.release()
    return chat_server


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[dict] = []        # {path, query, body}, in arrival order
        self.arrived = threading.Condition()
        self.failures = 0
        self.held = threading.Event()
        self.held.set()                        # set: answer at once
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}{query}"

    def fail(self, n: int) -> None:
        self.failures = n

    def hang(self) -> None:
        self.held.clear()

    def release(self) -> None:
        self.held.set()

    def wait_for(self, n: int, timeout: float = 30) -> list[dict]:
        """Until at least n requests have arrived (a condition, not a sleep)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= n, timeout), self.received
            return list(self.received)

    def bodies(self, path: str | None = None) -> list[dict]:
        return [r["body"] for r in self.received if path is None or r["path"] == path]

    def close(self) -> None:
        self.release()
        self.shutdown()
        self.server_close()


def channel(shop, endpoint, kind: str, events: list[str], language: str = "en", name: str | None = None) -> int:
    paths = {"wecom": ("/wecom", f"?key={KEY}"), "dingtalk": ("/dingtalk", "?access_token=dtalk-token-77"),
             "slack": ("/slack/T0/B0/slacksecret99", ""), "webhook": ("/hook", "")}
    return chat_channels.add_channel(shop.db, shop.users["admin"], name=name or f"{kind} group", kind=kind,
                                     webhook_url=endpoint.url(*paths[kind]), language=language, events=events,
                                     secret=SECRET if kind == "dingtalk" else None)


def deliveries(db) -> list[dict]:
    with db.read() as cur:
        return rows_as_dicts(cur, "SELECT * FROM chat_deliveries ORDER BY id")


def spike(db, code: str = "out_of_stock") -> None:
    """The spike job's contract: one audit entry per new spike."""
    with db.transaction() as cur:
        audit.record(cur, None, "spike.alert", "reason", code, after={
            "kind": "void", "week": "2026-11-23", "count": 41, "threshold": 12,
            "top": {"dimension": "category", "key": "phones", "label_en": "Phones", "label_zh": "手机"}})


def dingtalk_signature_ok(query: dict) -> bool:
    stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    digest = hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    return bool(stamp) and sign == base64.b64encode(digest).decode()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):   # quiet
        pass

    def do_POST(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
        server: ChatServer = self.server
        with server.arrived:
            server.received.append({"path": parts.path, "query": query, "body": body})
            server.arrived.notify_all()
        if not server.held.wait(60):
            return
        if not server.held.is_set() or self._refuse():
            return
        self._answer(parts.path, query)

    def _refuse(self) -> bool:
        server: ChatServer = self.server
        if server.failures <= 0:
            return False
        server.failures -= 1
        if self.path.startswith(("/wecom", "/dingtalk")):
            self._send(200, json.dumps({"errcode": 45009, "errmsg": "api freq out of limit"}))
        else:
            self._send(500, "server_error")
        return True

    def _answer(self, path: str, query: dict):
        if path == "/dingtalk" and not dingtalk_signature_ok(query):
            self._send(200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}))
        elif path in ("/wecom", "/dingtalk"):
            self._send(200, json.dumps({"errcode": 0, "errmsg": "ok"}))
        elif path.startswith("/slack"):
            self._send(200, "ok")
        else:
            self._send(204, "")

    def _send(self, status: int, text: str):
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
