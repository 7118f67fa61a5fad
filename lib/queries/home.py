"""Figures for the home page, scoped to what the user may see."""
from datetime import date, datetime, timedelta

import pandas as pd

from lib import clock
from lib.db import Database, scalar
from lib.domain import User, order_visibility_sql
from lib.queries.settings import read_rules


def week_start(day: date) -> datetime:
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, datetime.min.time())


def home_figures(db: Database, user: User, now: datetime | None = None) -> dict:
    """Open orders, voids this week vs the same days last week, pending approvals, unread notifications."""
    now = now or clock.now()
    this_week = week_start(now.date())
    last_week = this_week - timedelta(days=7)
    scope, params = order_visibility_sql(user)
    with db.read() as cur:
        rules = read_rules(cur)
        figures = {
            "open_orders": scalar(cur, f"SELECT count(*) FROM orders o WHERE {scope}"
                                       " AND o.status IN ('pending', 'processing')", params),
            "assigned_to_me": scalar(cur, "SELECT count(*) FROM orders WHERE assignee_id = ?"
                                          " AND status IN ('pending', 'processing')", [user.id]),
            "voids_this_week": scalar(cur, f"SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                                           f" WHERE {scope} AND v.status = 'applied'"
                                           " AND v.applied_at >= ? AND v.applied_at < ?",
                                      params + [this_week, now]),
            "voids_last_week": scalar(cur, f"SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                                           f" WHERE {scope} AND v.status = 'applied'"
                                           " AND v.applied_at >= ? AND v.applied_at < ?",
                                      params + [last_week, now - timedelta(days=7)]),
            "pending_approvals": scalar(cur, f"SELECT count(*) FROM voids v JOIN orders o ON o.id = v.order_id"
                                             f" WHERE {scope} AND v.status = 'pending_approval'", params),
            "unread": scalar(cur, "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                             [user.id]),
            "low_stock": scalar(cur, "SELECT count(*) FROM stock_balances WHERE on_hand - reserved < ?",
                                [rules.low_stock_level]),
            "low_stock_level": rules.low_stock_level,
        }
        created, voided = cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE o.status = 'voided') FROM orders o"
            f" WHERE {scope} AND o.created_at >= ?", params + [now - timedelta(days=30)]).fetchall()[0]
    figures["void_rate_30d"] = voided / created if created else None
    return figures


def weekly_voids_by_reason(db: Database, user: User, lang: str, weeks: int = 12,
                           now: datetime | None = None) -> pd.DataFrame:
    """Voids in effect per week and reason (label and code) for the last `weeks` weeks (aggregated in SQL)."""
    now = now or clock.now()
    since = week_start(now.date()) - timedelta(weeks=weeks - 1)
    scope, params = order_visibility_sql(user)
    label = "r.label_zh" if lang == "zh" else "r.label_en"
    with db.read() as cur:
        return cur.execute(
            f"SELECT date_trunc('week', v.applied_at) AS week, coalesce({label}, v.reason_code) AS reason,"
            " v.reason_code AS code, min(coalesce(r.sort_order, 999)) AS sort_order, count(*) AS voids"
            " FROM voids v JOIN orders o ON o.id = v.order_id"
            " LEFT JOIN reasons r ON r.kind = 'void' AND r.code = v.reason_code"
            f" WHERE {scope} AND v.status = 'applied' AND v.applied_at >= ?"
            " GROUP BY 1, 2, 3 ORDER BY week, sort_order", params + [since]).df()


def recent_voids(db: Database, user: User, lang: str, limit: int = 8) -> pd.DataFrame:
    """The latest applied voids with order, customer, reason label as used, total and who voided."""
    scope, params = order_visibility_sql(user)
    label = "v.reason_label_zh" if lang == "zh" else "v.reason_label_en"
    with db.read() as cur:
        return cur.execute(
            f"SELECT v.order_no, c.name AS customer, {label} AS reason, o.total, v.applied_at,"
            " u.display_name AS by_user"
            " FROM voids v JOIN orders o ON o.id = v.order_id JOIN customers c ON c.id = o.customer_id"
            " LEFT JOIN users u ON u.id = coalesce(v.decided_by, v.requested_by)"
            f" WHERE {scope} AND v.status = 'applied'"
            " ORDER BY v.applied_at DESC LIMIT ?", params + [limit]).df()


def database_is_empty(db: Database) -> bool:
    with db.read() as cur:
        return not scalar(cur, "SELECT count(*) FROM orders")
