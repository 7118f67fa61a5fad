"""The audit log, read side (SPEC §7): search for ops leads and admins, CSV export."""
import csv
import io
from datetime import datetime

import pandas as pd

from lib.db import Database
from lib.domain import User, require
from lib.queries.export import neutralise
from lib.queries.filters import listed, period_conditions

COLUMNS = ("id", "created_at", "actor_name", "action", "entity_type", "entity_id", "order_no", "before", "after",
           "note")
EXPORT_MAX_ROWS = 1_000_000
CHUNK_ROWS = 50_000


def _where(actor, action, entity_type, date_from, date_to, order_no, entity_id) -> tuple[str, list]:
    parts, params = ["TRUE"], []
    actors = [a.lower() for a in listed(actor)]
    if actors:
        parts.append("lower(actor_name) = ANY(?)")
        params.append(actors)
    actions = listed(action)
    exact = [a for a in actions if not a.endswith(".")]
    prefixes = [a for a in actions if a.endswith(".")]
    if actions:   # "return." means every return.* action
        parts.append("(" + " OR ".join(["action = ANY(?)"] + ["starts_with(action, ?)"] * len(prefixes)) + ")")
        params += [exact, *prefixes]
    types = listed(entity_type)
    if types:
        parts.append("entity_type = ANY(?)")
        params.append(types)
    for column, value in (("order_no", order_no), ("entity_id", entity_id)):
        value = (value or "").strip() if isinstance(value, str) else value
        if value not in (None, ""):
            parts.append(f"{column} = ?")
            params.append(str(value))
    period_conditions("created_at", date_from, date_to, parts, params)
    return " AND ".join(parts), params


def search_audit(db: Database, user: User, actor=None, action=None, entity_type=None, date_from=None,
                 date_to=None, limit: int = 50, offset: int = 0, *, order_no=None,
                 entity_id=None) -> tuple[int, pd.DataFrame]:
    """(total, one page newest first) of audit entries. `actor` is a username (or list); `action` an exact
    action or a prefix ending in "." ("return." for all return actions), or a list of those; dates are
    inclusive days."""
    require(user, "audit.view")
    where, params = _where(actor, action, entity_type, date_from, date_to, order_no, entity_id)
    limit, offset = max(0, min(int(limit), 10_000)), max(0, int(offset))
    with db.read() as cur:
        cur.begin()   # the count and the page from one snapshot
        try:
            total = cur.execute(f"SELECT count(*) FROM audit_log WHERE {where}", params).fetchall()[0][0]
            page = cur.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE {where}"
                               " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", params + [limit, offset]).df()
        finally:
            cur.rollback()
    return total, page


def export_audit_csv(db: Database, user: User, actor=None, action=None, entity_type=None, date_from=None,
                     date_to=None, *, order_no=None, entity_id=None) -> bytes:
    """Every matching entry (newest first, at most EXPORT_MAX_ROWS) as UTF-8 CSV with a BOM; text a
    spreadsheet would run as a formula is neutralised."""
    require(user, "audit.view")
    where, params = _where(actor, action, entity_type, date_from, date_to, order_no, entity_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    with db.read() as cur:
        result = cur.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log WHERE {where}"
                             " ORDER BY created_at DESC, id DESC LIMIT ?", params + [EXPORT_MAX_ROWS])
        while rows := result.fetchmany(CHUNK_ROWS):
            writer.writerows([_text(v) for v in row] for row in rows)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(neutralise(value if isinstance(value, str) else str(value)))
