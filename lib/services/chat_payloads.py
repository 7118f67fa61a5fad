"""Each kind of team-chat channel: the body it is posted, how its address is signed, what counts as delivered.

- `wecom`: a WeCom (企业微信) group robot, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…; a markdown
  message; delivered when it answers errcode 0.
- `dingtalk`: a DingTalk (钉钉) robot with a signing secret, https://oapi.dingtalk.com/robot/send?access_token=…;
  each post appends &timestamp=<ms>&sign=<base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret>; a
  markdown message; delivered when it answers errcode 0.
- `slack`: a Slack incoming webhook; {"text": …}; delivered when it answers HTTP 200 with the body "ok".
- `webhook`: any HTTPS endpoint; delivered on any 2xx answer. The JSON body (README "Team chat"):
  {"event_id": "<audit entry id>", "event": "void_requested" | … | "test", "occurred_at": ISO time,
   "language": "en" | "zh", "title": …, "text": …, "order_no": … | null, "return_no": … | null,
   "url": … | null, "details": {the audit entry's after-JSON}}.
  event_id is stable: a resend carries the same one, so a receiver can drop what it already has. A batch
  (lib.services.chat_groups) is one message: event_id its first entry's, order_no null, details {batch, count,
  order_nos (all of them), total, reason…}; the robots and Slack get its first order numbers, each a link.

Webhook addresses (they hold the robots' keys) and secrets are never shown back in full (lib.queries.chat.mask),
and never written to an error text (scrub).
"""
import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
from urllib.parse import quote_plus, urlsplit

from lib.services.chat_messages import Entry, Message

KINDS = ("wecom", "dingtalk", "slack", "webhook")


# The most a robot takes in one message: WeCom 4,096 bytes of markdown content, DingTalk 20,000 bytes, Slack 40,000
# characters of text (their documentation). A longer one is refused, every retry alike, and a batch's message would
# be lost: imported order numbers may be 200 characters long, five of them with their links 12 KB.
LIMITS = {"wecom": 4096, "dingtalk": 20000, "slack": 40000}


def body(kind: str, entry: Entry, message: Message, lang: str) -> dict:
    """The JSON body a channel of `kind` is posted for `message`, within the kind's LIMITS: a batch's order numbers
    lose their links first, then are left out (the text says how many), then the text is cut."""
    if kind == "webhook":
        return {"event_id": str(entry.id), "event": entry.event, "occurred_at": _iso(entry.created_at),
                "language": lang, "title": message.title, "text": message.summary, "order_no": entry.order_no,
                "return_no": entry.return_no, "url": message.link, "details": entry.after}
    for fitted in _shorter(message):
        posted = _body(kind, fitted)
        if _size(kind, posted) <= LIMITS[kind]:
            return posted
    return posted


def _shorter(message: Message):
    """`message`, then shorter forms of it, the last one short enough for any kind."""
    yield message
    if message.orders:
        yield replace(message, orders=tuple((number, None) for number, _ in message.orders))
        message = replace(message, orders=(), more="")
        yield message
    text = message.text
    while len(text) > 1:
        text = text[:len(text) // 2]
        yield replace(message, text=text + "…", link=None, title=message.title[:200])


def _size(kind: str, posted: dict) -> int:
    if kind == "slack":
        return len(posted["text"])
    markdown = posted["markdown"]
    return len((markdown.get("content") or markdown["text"]).encode("utf-8"))


def _body(kind: str, message: Message) -> dict:
    if kind == "slack":
        text = f"*{_slack(message.title)}*\n{message.listed(_slack_link, _slack)}"
        return {"text": text + (f"\n<{message.link}|{_slack(message.link_text)}>" if message.link else "")}
    title, text = _robot(message.title), message.listed(_robot_link, _robot)
    link = f"\n\n[{_robot(message.link_text)}]({message.link})" if message.link else ""
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"#### {title}\n\n{text}{link}"}}
    return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}{link}"}}


def signed_url(kind: str, url: str, secret: str | None, now_ms: int | None = None) -> str:
    """The address to post to: DingTalk's with its timestamp and signature (the robot's clock, not the business
    day: DingTalk refuses a timestamp more than an hour off), the others as they are."""
    if kind != "dingtalk" or not secret:
        return url
    stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    return f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={quote_plus(sign(stamp, secret))}"


def sign(stamp: str, secret: str) -> str:
    """DingTalk's signature: base64 of HMAC-SHA256 over "timestamp\\nsecret", keyed by the secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def refusal(kind: str, status: int, text: str) -> str | None:
    """None when the answer means delivered; else why not, in a line (the answer's own words, shortened)."""
    if kind in ("wecom", "dingtalk"):
        try:
            answer = json.loads(text) if status == 200 else None
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("errcode") == 0:
            return None
        if isinstance(answer, dict):
            return f"errcode {answer.get('errcode')}: {str(answer.get('errmsg'))[:200]}"
    elif kind == "slack" and status == 200 and text.strip() == "ok":
        return None
    elif kind == "webhook" and 200 <= status < 300:
        return None
    return f"HTTP {status}: {text.strip()[:200]}"


def scrub(text: str, url: str | None, secret: str | None) -> str:
    """`text` without the address, its query values, path pieces or the secret in it."""
    hidden = [url, secret, *_pieces(url)]
    for value in sorted({v for v in hidden if v and len(v) >= 6}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _pieces(url: str | None) -> list[str]:
    if not url:
        return []
    parts = urlsplit(url)
    values = [kv.partition("=")[2] for kv in parts.query.split("&")]
    return [parts.path, *parts.path.split("/"), parts.query, *values]


# WeCom's and DingTalk's Markdown know no backslash escapes: in what the data says (an order number, a name, a
# file's name) the characters that make links, pictures, emphasis, code, HTML or headings become their full-width
# forms, so an imported "INJ-[x](http://…)" reads the same and links nowhere. The catalogue's words use none of them.
_ROBOT_MARKDOWN = str.maketrans({"[": "［", "]": "］", "*": "＊", "_": "＿", "`": "｀", "<": "＜", ">": "＞",
                                 "#": "＃", "~": "～", "!": "！"})


def _robot(text: str | None) -> str:
    return (text or "").translate(_ROBOT_MARKDOWN)


def _robot_link(text: str, url: str | None) -> str:
    return f"[{_robot(text)}]({url})" if url else _robot(text)


def _slack_link(text: str, url: str | None) -> str:
    return f"<{url}|{_slack(text)}>" if url else _slack(text)


def _slack(text: str | None) -> str:
    # Slack's own escaping: these three only (api.slack.com "Escaping text")
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
