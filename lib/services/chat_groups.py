"""A batch told once in team chat (issue #17): a batch void or a batch decision of 300 orders is one message per
channel and event, not 300.

The writes of a batch (lib.services.voids.void_batch, decide_many) mark each audit entry with the batch's id
(void_writes.batch_mark); a lone void has none and keeps its own message. A batch is written in one transaction,
so all its entries reach the chat in one run of chat_events.derive (the change feed hands out whole transactions),
and the group takes its first entry's id: the delivery key (audit id, channel) and the webhook's event_id stay
stable across retries and resends, and the other entries of the batch never get a delivery of their own.
"""
from decimal import Decimal

from lib.i18n import fmt_int, fmt_money, t
from lib.services.chat_messages import Entry, Message, order_url

SHOWN = 5   # order numbers a message names; the rest are counted ("and 39 more")
# where the orders of a batch's event are listed in the app (no page filters by batch: the queue holding them)
_PAGES = {"void_requested": ("approvals", "chat.batch.open_approvals"),
          "refund_owed": ("refunds?status=pending", "chat.batch.open_refunds")}
_AUDIT_PAGE = ("audit", "chat.batch.open_audit")


def grouped(entries: list[Entry]) -> list[Entry]:
    """The entries with each batch's entries of one event folded into one (in the place of its first)."""
    batches: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        if entry.after.get("batch"):
            batches.setdefault((entry.after["batch"], entry.event), []).append(entry)
    out = []
    for entry in entries:
        members = batches.get((entry.after.get("batch"), entry.event)) if entry.after.get("batch") else None
        if not members or len(members) == 1:
            out.append(entry)
        elif members[0] is entry:
            out.append(_fold(members))
    return out


def _fold(members: list[Entry]) -> Entry:
    first = members[0]
    amount = "amount" if first.event == "refund_owed" else "order_total"
    reasons = {m.after.get("reason") for m in members}
    after = {"batch": first.after["batch"], "count": len(members), "order_nos": [m.order_no for m in members],
             "total": str(sum((Decimal(str(m.after.get(amount) or 0)) for m in members), Decimal(0)))}
    if len(reasons) == 1:   # one reason for all (a batch void always; decisions may mix requests' reasons)
        after.update({k: first.after.get(k) for k in ("reason", "reason_label_en", "reason_label_zh")})
    return Entry(first.id, first.created_at, first.action, first.entity_id, None, after, first.actor,
                 members=tuple(members))


def compose_batch(entry: Entry, lang: str, base_url: str | None) -> Message:
    """The one message about a folded batch (grouped) in `lang`."""
    a = entry.after
    parts = [t(f"chat.batch.{entry.event}", lang, n=fmt_int(a["count"], lang), actor=entry.actor)]
    reason = a.get(f"reason_label_{lang}") or a.get("reason")
    if reason:
        parts.append(t("chat.batch.reason", lang, reason=reason))
    parts.append(t("chat.batch.total", lang, total=fmt_money(a["total"], lang)))
    shown = a["order_nos"][:SHOWN]
    orders = tuple((n, order_url(base_url, n) if base_url else None) for n in shown)
    rest = a["count"] - len(shown)
    more = t("chat.batch.more", lang, n=fmt_int(rest, lang)) if rest > 0 else ""
    page, link_key = _PAGES.get(entry.event, _AUDIT_PAGE)
    link = f"{base_url.rstrip('/')}/{page}" if base_url else None
    return Message(t(f"chat.event.{entry.event}", lang), ("；" if lang == "zh" else " — ").join(parts), link,
                   t(link_key, lang) if link else None, orders, more, "、" if lang == "zh" else ", ")
