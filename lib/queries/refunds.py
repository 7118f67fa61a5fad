"""The refund queue for finance and its totals per day (SPEC §7)."""
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import pandas as pd

from lib import clock
from lib.db import Database
from lib.domain import User, require
from lib.errors import InvalidInput
from lib.queries.filters import day_bounds, listed, period_conditions

REFUND_STATUSES = ("pending", "paid", "cancelled")
MAX_DAYS = 3700

_QUEUE = """
    SELECT f.id, f.order_no, f.source, r.return_no, f.amount, f.status, f.created_at,
           cu.display_name AS created_by, c.name AS customer, rep.display_name AS rep,
           coalesce(r.reason_code, v.reason_code) AS reason_code,
           coalesce(r.reason_label_en, v.reason_label_en) AS reason_label_en,
           coalesce(r.reason_label_zh, v.reason_label_zh) AS reason_label_zh,
           f.paid_at, pu.display_name AS paid_by, f.payment_ref, o.payment_status
    FROM refunds f
    JOIN orders o ON o.id = f.order_id
    LEFT JOIN customers c ON c.id = o.customer_id
    LEFT JOIN users rep ON rep.id = o.rep_id
    LEFT JOIN users cu ON cu.id = f.created_by
    LEFT JOIN users pu ON pu.id = f.paid_by
    LEFT JOIN return_notes r ON f.source = 'return' AND r.id = f.source_id
    LEFT JOIN voids v ON f.source = 'void' AND v.id = f.source_id
    WHERE {where}
    ORDER BY {order} LIMIT ?"""


def refund_queue(db: Database, user: User, status="pending", date_from=None, date_to=None,
                 limit: int = 1000, *, order_no: str | None = None, return_no: str | None = None,
                 customer: str | None = None, min_amount=None, max_amount=None,
                 newest_first: bool | None = None) -> pd.DataFrame:
    """Refunds with a status (one code, a list, or None for all) created within the days given; narrowed by an
    order or return number (any part of it), a customer (name or code, any part) and an amount range.

    Pending ones come oldest first by default (the queue to work through), others newest first; `newest_first`
    chooses.
    """
    require(user, "refund.view")
    statuses = listed(status)
    unknown = [s for s in statuses if s not in REFUND_STATUSES]
    if unknown:
        raise InvalidInput("refunds.bad_status", value=", ".join(unknown))
    parts, params = ["TRUE"], []
    if statuses:
        parts.append("f.status = ANY(?)")
        params.append(statuses)
    period_conditions("f.created_at", date_from, date_to, parts, params)
    for column, text in (("f.order_no", order_no), ("r.return_no", return_no)):
        if text and text.strip():
            parts.append(f"{column} ILIKE ? ESCAPE '\\'")
            params.append(_contains(text))
    if customer and customer.strip():
        parts.append("(c.name ILIKE ? ESCAPE '\\' OR c.code ILIKE ? ESCAPE '\\')")
        params += [_contains(customer)] * 2
    low, high = _amount(min_amount), _amount(max_amount)
    if low is not None and high is not None and low > high:
        raise InvalidInput("refunds.bad_amount_range", low=low, high=high)
    for bound, sign in ((low, ">="), (high, "<=")):
        if bound is not None:
            parts.append(f"f.amount {sign} ?")
            params.append(bound)
    if newest_first is None:
        newest_first = statuses != ["pending"]
    order = "f.created_at DESC, f.id DESC" if newest_first else "f.created_at, f.id"
    with db.read() as cur:
        return cur.execute(_QUEUE.format(where=" AND ".join(parts), order=order),
                           params + [max(0, min(int(limit), 100_000))]).df()


MAX_TEXT = 100


def _contains(text: str) -> str:
    """An ILIKE pattern for text anywhere, its own % and _ taken literally."""
    cleaned = text.strip()[:MAX_TEXT].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{cleaned}%"


def _amount(value) -> Decimal | None:
    """An amount bound (text or number), None when empty; anything else is refused in plain words."""
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput("refunds.bad_amount", value=str(value)[:40]) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
        raise InvalidInput("refunds.bad_amount", value=str(value)[:40])
    return amount


def refund_totals_per_day(db: Database, user: User, date_from=None, date_to=None) -> pd.DataFrame:
    """One row per day (every day of the range, default the last 30): refunds created that day (`count`,
    `created_amount`), of those still `pending_amount`, and paid out that day (`paid_count`, `paid_amount`)."""
    require(user, "refund.view")
    start, end = day_bounds(date_from or clock.today() - timedelta(days=29), date_to or clock.today())
    if end <= start or (end - start).days > MAX_DAYS:
        raise InvalidInput("search.bad_date_range", date_from=start.date().isoformat(),
                           date_to=(end - timedelta(days=1)).date().isoformat())
    with db.read() as cur:
        return cur.execute("""
            WITH days AS (SELECT CAST(d AS DATE) AS day FROM generate_series(?::TIMESTAMP, ?::TIMESTAMP
                                                                          - INTERVAL '1 day', INTERVAL '1 day') t(d)),
            made AS (SELECT CAST(created_at AS DATE) AS day, count(*) AS count, sum(amount) AS created_amount,
                            coalesce(sum(amount) FILTER (WHERE status = 'pending'), 0) AS pending_amount
                     FROM refunds WHERE created_at >= ? AND created_at < ? GROUP BY 1),
            paid AS (SELECT CAST(paid_at AS DATE) AS day, count(*) AS paid_count, sum(amount) AS paid_amount
                     FROM refunds WHERE status = 'paid' AND paid_at >= ? AND paid_at < ? GROUP BY 1)
            SELECT days.day, coalesce(made.count, 0) AS count,
                   coalesce(made.created_amount, 0)::DECIMAL(14, 2) AS created_amount,
                   coalesce(made.pending_amount, 0)::DECIMAL(14, 2) AS pending_amount,
                   coalesce(paid.paid_count, 0) AS paid_count,
                   coalesce(paid.paid_amount, 0)::DECIMAL(14, 2) AS paid_amount
            FROM days LEFT JOIN made USING (day) LEFT JOIN paid USING (day)
            ORDER BY days.day""", [start, end, start, end, start, end]).df()
