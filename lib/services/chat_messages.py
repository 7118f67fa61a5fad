"""What a team-chat message says (issue #17 part 2): an audit entry as an event, in the channel's language.

The sentences are the catalogue's (notification.* as the inbox says them, chat.message.* for what the inbox never
says), with a link to the page the event is about when the app's base URL is set (the `app_base_url` setting).
"""
import json
from dataclasses import dataclass
from urllib.parse import quote

from lib.i18n import fmt_int, fmt_money, label, t

# audit action -> the event an administrator chooses per channel (the order is the admin page's)
ACTIONS = {"void.request": "void_requested", "void.approve": "void_approved", "void.reject": "void_rejected",
           "refund.create": "refund_owed", "return.receive": "return_received", "spike.alert": "spike_alert",
           "import.run": "import_finished", "import.fail": "import_failed"}
EVENTS = tuple(ACTIONS.values())
TEST_ACTION, TEST_EVENT = "chat.channel.test", "test"   # a test send: to the channel it names, whatever it chose


@dataclass(frozen=True)
class Entry:
    """One audit entry as the chat reads it (lib.services.chat_events)."""
    id: int
    created_at: object
    action: str
    entity_id: str
    order_no: str | None
    after: dict
    actor: str
    return_no: str | None = None
    reason_labels: tuple[str, str] | None = None   # spike alerts: the reason's English and Chinese label
    members: tuple["Entry", ...] = ()              # a batch's entries of one event, told as one (chat_groups)

    @property
    def event(self) -> str:
        return TEST_EVENT if self.action == TEST_ACTION else ACTIONS[self.action]


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    link: str | None            # an absolute URL, or None without a base URL
    link_text: str | None
    orders: tuple[tuple[str, str | None], ...] = ()   # a batch's first orders: (number, its page or None)
    more: str = ""              # after them: "and 39 more"
    separator: str = ", "

    def listed(self, show, escape=lambda text: text) -> str:
        """The text, then a batch's first orders each as show(number, url) and `more` (each kind marks links its
        own way; `escape` makes the words plain text in that kind)."""
        if not self.orders:
            return escape(self.text)
        numbers = self.separator.join(show(number, url) for number, url in self.orders)
        return f"{escape(self.text)}\n{numbers}{' ' + escape(self.more) if self.more else ''}"

    @property
    def summary(self) -> str:
        """The message as plain text (the delivery history's)."""
        return self.listed(lambda number, _url: number)


def entry_from_row(row: dict, reason_labels: dict | None = None) -> Entry:
    """An audit_log row (with the return's number where it has one); reason_labels: (kind, code) -> (en, zh)."""
    after = json.loads(row["after"]) if row.get("after") else {}
    after = after if isinstance(after, dict) else {}
    labels = (reason_labels or {}).get((after.get("kind"), row["entity_id"]))
    return Entry(row["id"], row["created_at"], row["action"], row["entity_id"], row["order_no"], after,
                 row["actor_name"], row.get("return_no"), labels)


def compose(entry: Entry, lang: str, base_url: str | None, channel_name: str = "") -> Message:
    """The message about `entry` in `lang` (plain text: lib.services.chat_payloads puts it into each kind's body)."""
    text = _SENTENCES[entry.event](entry, lang, channel_name)
    link, link_text = _link(entry, lang, base_url)
    return Message(t(f"chat.event.{entry.event}", lang), text, link, link_text)


def _void(key: str):
    def sentence(e: Entry, lang: str, _name: str) -> str:
        reason = e.after.get(f"reason_label_{lang}") or e.after.get("reason") or ""
        return t(key, lang, order_no=e.order_no or "", reason=reason)
    return sentence


def _refund(e: Entry, lang: str, _name: str) -> str:
    return t("notification.refund.created", lang, order_no=e.order_no or "",
             amount=fmt_money(e.after.get("amount"), lang))


def _received(e: Entry, lang: str, _name: str) -> str:
    return t("notification.return.received", lang, order_no=e.order_no or "", return_no=e.return_no or "",
             warehouse=e.after.get("warehouse") or "")


def _spike(e: Entry, lang: str, _name: str) -> str:
    a = e.after
    labels = e.reason_labels or (e.entity_id, e.entity_id)
    top = a.get("top") if isinstance(a.get("top"), dict) else {}
    text = t("chat.message.spike_alert", lang, kind=label("chat.spike_kind", a.get("kind"), lang),
             reason=labels[lang == "zh"], week=a.get("week") or "", count=fmt_int(a.get("count"), lang),
             threshold=fmt_int(a.get("threshold"), lang))
    top_label = top.get(f"label_{lang}") or top.get("key")
    space = "" if lang == "zh" else " "
    return f"{text}{space}{_spike_top(top_label, top.get('in'), lang)}" if top_label else text


def _spike_top(top_label: str, second: dict | None, lang: str) -> str:
    """Where most of a spike is: its top segment, and the warehouse or rep concentrating it (spike_alerts)."""
    if not isinstance(second, dict):
        return t("chat.message.spike_top", lang, top=top_label)
    return t("chat.message.spike_top_in", lang, top=top_label, label=second.get(f"label_{lang}") or second.get("key"),
             dimension=t(f"explain.dim.{second.get('dimension')}", lang))


def _import(key: str):
    def sentence(e: Entry, lang: str, _name: str) -> str:
        a = e.after
        error = a.get(f"error_{lang}") or a.get("error_en")
        return t(f"{key}_error" if error else key, lang, kind=label("import.kind", a.get("kind"), lang),
                 file=a.get("file") or "", rows=fmt_int(a.get("rows"), lang),
                 rejected=fmt_int(a.get("rejected"), lang), error=error or "")
    return sentence


def _test(e: Entry, lang: str, name: str) -> str:
    return t("chat.message.test", lang, name=name, actor=e.actor)


_SENTENCES = {
    "void_requested": _void("notification.void.requested"), "void_approved": _void("notification.void.approved"),
    "void_rejected": _void("notification.void.rejected"), "refund_owed": _refund, "return_received": _received,
    "spike_alert": _spike, "import_finished": _import("chat.message.import_finished"),
    "import_failed": _import("chat.message.import_failed"), TEST_EVENT: _test,
}


def _link(e: Entry, lang: str, base_url: str | None) -> tuple[str | None, str | None]:
    if not base_url:
        return None, None
    base = base_url.rstrip("/")
    if e.event == "return_received" and e.return_no:
        return f"{base}/returns?no={quote(e.return_no)}", t("links.open_return", lang, return_no=e.return_no)
    if e.order_no:
        return order_url(base, e.order_no), t("links.open_order", lang, order_no=e.order_no)
    page = {"spike_alert": "returns-dashboard" if e.after.get("kind") == "return" else "void-dashboard",
            "import_finished": "import", "import_failed": "import"}.get(e.event)
    return (f"{base}/{page}", t("chat.open_app", lang)) if page else (base, t("chat.open_app", lang))


def order_url(base_url: str, order_no: str) -> str:
    """The order's page in the app."""
    return f"{base_url.rstrip('/')}/order?no={quote(order_no)}"
