"""Void read side (SPEC §4): reasons, the impact preview of one or many orders, the approvals queue."""
from datetime import timedelta
from decimal import Decimal

import pandas as pd

from lib import clock
from lib.db import Database, rows_as_dicts
from lib.domain import User, may_see_order, order_visibility_sql, require
from lib.i18n import t
from lib.queries.orders import visible_header
from lib.queries.settings import read_rules
from lib.queries.void_load import find_reason, load_orders, pending_requests
from lib.void_checks import (MAX_BATCH, actor_refusal, approval_reason, as_refusal, clean_numbers, describe, not_found,
                             owed, reason_refusal, state_refusal)
from lib.void_checks import describe as message_for  # noqa: F401  (for the pages: key + params -> text)

HISTORY_DAYS = 90
NOTHING = Decimal("0.00")
HISTORY_ROWS = 20
QUEUE_COLUMNS = ["order_no", "customer", "total", "reason_label", "note", "requested_by", "requested_at",
                 "approval_reason", "age"]


def active_reasons(db: Database, kind: str, lang: str) -> list[dict]:
    """Active reasons of one kind ('void' or 'return') in catalogue order: {code, label, note_required}."""
    label = "label_zh" if lang == "zh" else "label_en"
    with db.read() as cur:
        return rows_as_dicts(cur, f"SELECT code, {label} AS label, note_required FROM reasons"
                                  " WHERE kind = ? AND active ORDER BY sort_order, code", [kind])


def preview_void(db: Database, user: User, order_no: str, reason_code: str | None = None, *,
                 lang: str = "en") -> dict:
    """What voiding one order would do (see _preview for the keys), plus the customer's recent voids.

    NotFound for an unknown order or (for a sales rep) someone else's, exactly like get_order.
    """
    order_no = (order_no or "").strip()
    with db.read() as cur:
        header = visible_header(cur, user, "o.order_no = ?", [order_no], order_no)
        preview = _previews(cur, user, [order_no], {order_no: header}, reason_code, lang)[0]
        preview.update(_customer_history(cur, user, header, lang))
    return preview


def preview_batch(db: Database, user: User, order_nos: list[str], reason_code: str | None, *,
                  lang: str = "en") -> list[dict]:
    """One preview per order (unknown or invisible orders are refused, not raised), each with
    outcome_if_confirmed: 'voided' | 'pending_approval' | 'refused'."""
    numbers = clean_numbers(order_nos)
    with db.read() as cur:
        orders = {n: o for n, o in load_orders(cur, numbers).items() if may_see_order(user, o["rep_id"])}
        previews = _previews(cur, user, numbers, orders, reason_code, lang)
        histories = _customer_counts(cur, user, [o["customer_id"] for o in orders.values()])
    for p in previews:
        order = orders.get(p["order_no"])
        count, total = histories.get(order["customer_id"], (0, 0)) if order else (0, 0)
        p.update(customer_voids_90d=[], customer_void_count_90d=count, customer_orders_90d=total)
        p["outcome_if_confirmed"] = ("refused" if not p["eligible"] else
                                     "pending_approval" if p["needs_approval"] else "voided")
    return previews


def _previews(cur, user: User, numbers: list[str], orders: dict, reason_code, lang: str) -> list[dict]:
    """{order_no, version, status, eligible, refusal, refusal_params, refusal_message, needs_approval,
    approval_reason, threshold, release, refund, notify} per number, computed with a handful of queries."""
    rules = read_rules(cur)
    actor_no = actor_refusal(user, rules)
    reason_no = None if reason_code is None else reason_refusal(reason_code, find_reason(cur, reason_code))
    pending = pending_requests(cur, [o["id"] for o in orders.values()])
    open_orders = [o for o in orders.values() if state_refusal(o, False) is None]
    lines = _release_lines(cur, open_orders)
    people = rows_as_dicts(cur, "SELECT id, username, display_name, role FROM users WHERE active"
                                " ORDER BY role, display_name")
    previews = []
    for number in numbers:
        order = orders.get(number)
        if order is None:
            previews.append(_empty(number, not_found(number), rules, lang))
            continue
        request = pending.get(order["id"])
        why = actor_no or state_refusal(order, request is not None) or reason_no
        previews.append(_preview(user, order, request, why, rules, lines.get(order["id"], []), people, lang))
    return previews


def _preview(user, order: dict, request, why, rules, release: list, people: list, lang: str) -> dict:
    is_open = state_refusal(order, False) is None
    appr = request["approval_reason"] if request else approval_reason(user, order["total"], rules)
    refund = owed(order) if is_open else NOTHING
    preview = {"order_no": order["order_no"], "version": order["version"], "status": order["status"],
               "eligible": why is None, "needs_approval": appr is not None, "approval_reason": appr,
               "threshold": rules.approval_threshold, "release": release if is_open else [], "refund": refund,
               "notify": _recipients(user, order, request, appr, refund, people) if is_open else []}
    preview.update(_refusal_fields(why, lang))
    return preview


def _empty(order_no: str, why, rules, lang: str) -> dict:
    preview = {"order_no": order_no, "version": None, "status": None, "eligible": False, "needs_approval": False,
               "approval_reason": None, "threshold": rules.approval_threshold, "release": [],
               "refund": NOTHING, "notify": []}
    preview.update(_refusal_fields(why, lang))
    return preview


def _refusal_fields(why, lang: str) -> dict:
    if why is None:
        return {"refusal": None, "refusal_params": {}, "refusal_message": None}
    key, params = as_refusal(why)
    return {"refusal": key, "refusal_params": params, "refusal_message": describe(key, params, lang)}


def _release_lines(cur, orders: list[dict]) -> dict[int, list]:
    """order id -> [{warehouse, sku, product_name, qty}] still reserved for the order."""
    if not orders:
        return {}
    warehouse = {o["id"]: o["warehouse"] for o in orders}
    rows = cur.execute("SELECT l.order_id, l.sku, min(p.name), sum(l.qty - l.qty_shipped)::BIGINT"
                       " FROM order_lines l LEFT JOIN products p ON p.sku = l.sku"
                       " WHERE l.order_id = ANY(?) GROUP BY l.order_id, l.sku"
                       " HAVING sum(l.qty - l.qty_shipped) > 0 ORDER BY l.order_id, l.sku", [list(warehouse)]).fetchall()
    out: dict[int, list] = {}
    for order_id, sku, name, qty in rows:
        out.setdefault(order_id, []).append({"warehouse": warehouse[order_id], "sku": sku, "product_name": name,
                                             "qty": int(qty)})
    return out


def _recipients(user, order: dict, request, appr, refund, people: list[dict]) -> list[dict]:
    """Who will be told, and why (an i18n key): when a request waits, the approvers first."""
    wanted = []   # (user id or role, why)
    if request is None and appr is not None:
        leads = [p["id"] for p in people if p["role"] == "ops_lead" and p["id"] != user.id]
        wanted += [(i, "voids.why.approver") for i in leads] or [("admin", "voids.why.approver")]
    if request is not None:
        wanted.append((request["requested_by"], "voids.why.requester"))
    wanted.append((order["rep_id"], "voids.why.rep"))
    if order["status"] == "processing":
        wanted.append(("warehouse", "voids.why.processing"))
    if refund > 0:
        wanted.append(("finance", "voids.why.refund"))
    out, seen = [], {user.id}
    for who, why in wanted:
        for p in people:
            if (p["id"] == who or p["role"] == who) and p["id"] not in seen:
                seen.add(p["id"])
                out.append({"username": p["username"], "display_name": p["display_name"], "role": p["role"],
                            "why_key": why})
    return out


def _customer_history(cur, user: User, order: dict, lang: str) -> dict:
    """The same customer's applied voids and orders of the last 90 days (a sales rep: their own orders)."""
    since = clock.now() - timedelta(days=HISTORY_DAYS)
    scope, params = order_visibility_sql(user)
    label = "v.reason_label_zh" if lang == "zh" else "v.reason_label_en"
    voids = rows_as_dicts(cur, f"SELECT o.order_no, v.applied_at AS voided_at, {label} AS reason_label, o.total"
                               " FROM voids v JOIN orders o ON o.id = v.order_id"
                               " WHERE o.customer_id = ? AND v.status = 'applied' AND v.applied_at >= ?"
                               f" AND {scope} ORDER BY v.applied_at DESC", [order["customer_id"], since] + params)
    orders = cur.execute(f"SELECT count(*) FROM orders o WHERE o.customer_id = ? AND o.created_at >= ? AND {scope}",
                         [order["customer_id"], since] + params).fetchall()
    return {"customer_voids_90d": voids[:HISTORY_ROWS], "customer_void_count_90d": len(voids),
            "customer_orders_90d": int(orders[0][0])}


def _customer_counts(cur, user: User, customer_ids: list[int]) -> dict[int, tuple[int, int]]:
    """customer id -> (applied voids, orders created) in the last 90 days."""
    if not customer_ids:
        return {}
    since, customers = clock.now() - timedelta(days=HISTORY_DAYS), list(set(customer_ids))
    scope, params = order_visibility_sql(user)
    voids = dict(cur.execute("SELECT o.customer_id, count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                             " WHERE v.status = 'applied' AND v.applied_at >= ? AND o.customer_id = ANY(?)"
                             f" AND {scope} GROUP BY o.customer_id", [since, customers] + params).fetchall())
    orders = dict(cur.execute("SELECT o.customer_id, count(*) FROM orders o WHERE o.created_at >= ?"
                              f" AND o.customer_id = ANY(?) AND {scope} GROUP BY o.customer_id",
                              [since, customers] + params).fetchall())
    return {c: (int(voids.get(c, 0)), int(orders.get(c, 0))) for c in customer_ids}


def approvals_queue(db: Database, user: User, lang: str) -> pd.DataFrame:
    """Void requests waiting for a decision, oldest first (operations leads and admins only)."""
    require(user, "void.approve")
    label = "v.reason_label_zh" if lang == "zh" else "v.reason_label_en"
    with db.read() as cur:
        df = cur.execute(f"""
            SELECT v.order_no, c.name AS customer, o.total, {label} AS reason_label, v.note,
                   coalesce(u.display_name, '–') AS requested_by, v.requested_at, v.approval_reason
            FROM voids v JOIN orders o ON o.id = v.order_id
            LEFT JOIN customers c ON c.id = o.customer_id LEFT JOIN users u ON u.id = v.requested_by
            WHERE v.status = 'pending_approval'
            ORDER BY v.requested_at, v.id LIMIT ?""", [MAX_BATCH]).df()
    now = clock.now()
    df["age"] = [age_text(now - at, lang) for at in df["requested_at"]]
    return df[QUEUE_COLUMNS]


def age_text(age: timedelta, lang: str) -> str:
    """A waiting time in words: '25 min', '3 h 5 min', '2 d 4 h'."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return t("voids.age.days", lang, d=days, h=hours)
    if hours:
        return t("voids.age.hours", lang, h=hours, m=mins)
    return t("voids.age.minutes", lang, m=mins)
