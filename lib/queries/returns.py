"""Return notes, read side: search with a total count, one note with its lines and refund (SPEC §5)."""
import pandas as pd

from lib.db import Database, rows_as_dicts
from lib.domain import User, may_see_order, order_visibility_sql, require
from lib.errors import NotFound
from lib.queries.filters import listed, period_conditions

_COLUMNS = """
    r.id, r.return_no, r.order_no, r.status, r.reason_code, r.reason_label_en, r.reason_label_zh, r.note,
    r.warehouse, r.refund_amount,
    (SELECT coalesce(sum(qty), 0) FROM return_lines l WHERE l.return_id = r.id) AS qty,
    c.name AS customer, r.created_at, u.display_name AS requested_by, r.received_at, r.inspected_at, r.closed_at"""

_FROM = """
    FROM return_notes r
    JOIN orders o ON o.id = r.order_id
    LEFT JOIN customers c ON c.id = o.customer_id
    LEFT JOIN users u ON u.id = r.requested_by"""


def _where(user: User, statuses, order_no, return_no, reason, warehouse, date_from, date_to) -> tuple[str, list]:
    visible, params = order_visibility_sql(user)
    parts = [visible]
    for column, values in (("r.status", listed(statuses)), ("r.reason_code", listed(reason)),
                           ("r.warehouse", [w.upper() for w in listed(warehouse)])):
        if values:
            parts.append(f"{column} = ANY(?)")
            params.append(values)
    for column, prefix in (("r.order_no", order_no), ("r.return_no", return_no)):
        prefix = (prefix or "").strip().upper()
        if prefix:
            parts.append(f"starts_with({column}, ?)")
            params.append(prefix)
    period_conditions("r.created_at", date_from, date_to, parts, params)
    return " AND ".join(parts), params


def search_returns(db: Database, user: User, *, statuses=None, order_no=None, return_no=None, reason=None,
                   warehouse=None, date_from=None, date_to=None, limit: int = 50,
                   offset: int = 0) -> tuple[int, pd.DataFrame]:
    """(total, one page newest first) of the return notes the user may see; a sales rep sees their orders' only.

    Order and return numbers match as prefixes; statuses, reasons and warehouses take one code or a list;
    dates are inclusive days of creation.
    """
    require(user, "order.view")
    where, params = _where(user, statuses, order_no, return_no, reason, warehouse, date_from, date_to)
    limit, offset = max(0, min(int(limit), 1000)), max(0, int(offset))
    with db.read() as cur:
        cur.begin()   # the count and the page from one snapshot
        try:
            total = cur.execute(f"SELECT count(*) {_FROM} WHERE {where}", params).fetchall()[0][0]
            page = cur.execute(f"SELECT {_COLUMNS} {_FROM} WHERE {where}"
                               " ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?",
                               params + [limit, offset]).df()
        finally:
            cur.rollback()
    return total, page


def get_return(db: Database, user: User, return_no: str) -> dict:
    """One note: header (with names), `lines` (with product names and dispositions) and `refunds`."""
    require(user, "order.view")
    return_no = (return_no or "").strip()
    with db.read() as cur:
        rows = rows_as_dicts(cur, f"""
            SELECT r.*, c.name AS customer, o.rep_id, o.status AS order_status,
                   (SELECT display_name FROM users WHERE id = r.requested_by) AS requested_by_name,
                   (SELECT display_name FROM users WHERE id = r.received_by) AS received_by_name,
                   (SELECT display_name FROM users WHERE id = r.inspected_by) AS inspected_by_name
            {_FROM} WHERE r.return_no = ?""", [return_no])
        if not rows or not may_see_order(user, rows[0]["rep_id"]):
            raise NotFound("returns.not_found", return_no=return_no or "—")
        note = rows[0]
        note["lines"] = rows_as_dicts(cur, """
            SELECT l.id, l.order_line_id, ol.line_no, l.sku, p.name AS product_name, l.qty, l.unit_price,
                   l.qty * l.unit_price AS amount, l.disposition
            FROM return_lines l
            LEFT JOIN order_lines ol ON ol.id = l.order_line_id
            LEFT JOIN products p ON p.sku = l.sku
            WHERE l.return_id = ? ORDER BY ol.line_no, l.id""", [note["id"]])
        note["refunds"] = rows_as_dicts(cur, """
            SELECT f.id, f.amount, f.status, f.created_at, f.paid_at, f.payment_ref,
                   (SELECT display_name FROM users WHERE id = f.paid_by) AS paid_by_name
            FROM refunds f WHERE f.source = 'return' AND f.source_id = ? ORDER BY f.id""", [note["id"]])
    return note
